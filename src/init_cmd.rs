//! `dyngen init`: the files a new project starts from. Existing files are never
//! overwritten; lines are added to `.gitattributes` only when missing.

use std::path::Path;
use std::process::ExitCode;

use crate::EXIT_BAD_INPUT;

const SCHEMA: &str = include_str!("../templates/init/schema.yaml");

const BUILD_RS: &str = r#"fn main() {
    if let Err(e) = dyngen::Builder::new().schema("schema.yaml").generate() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
"#;

/// `dyngen check` compares bytes: keep generated files and the schema in LF on every
/// checkout (Windows included).
const GITATTRIBUTES: &[&str] = &["schema.yaml text eol=lf", "generated/** text eol=lf"];

pub fn run(dir: &Path, build_rs: bool) -> ExitCode {
    let mut files = vec![
        ("schema.yaml", SCHEMA.to_string()),
        ("dyngen.schema.json", dyngen::json_schema()),
    ];
    if build_rs {
        files.push(("build.rs", BUILD_RS.to_string()));
    }
    for (name, text) in files {
        if let Err(e) = write_new(&dir.join(name), &text) {
            eprintln!("error: {}: {e}", dir.join(name).display());
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    }
    if let Err(e) = add_lines(&dir.join(".gitattributes"), GITATTRIBUTES) {
        eprintln!("error: {}: {e}", dir.join(".gitattributes").display());
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    eprintln!("{}", next_steps(build_rs));
    ExitCode::SUCCESS
}

/// Writes a file that does not exist yet; an existing one is kept and said so.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(text.as_bytes())?;
            eprintln!("wrote   {}", path.display());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!("kept    {} (it exists)", path.display());
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Appends the lines a file lacks.
fn add_lines(path: &Path, lines: &[&str]) -> std::io::Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let missing: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !old.lines().any(|o| o.trim() == *l))
        .collect();
    if missing.is_empty() {
        eprintln!("kept    {} (it has the lines)", path.display());
        return Ok(());
    }
    let mut text = old;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for l in missing {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(path, text)?;
    eprintln!("updated {}", path.display());
    Ok(())
}

fn next_steps(build_rs: bool) -> String {
    let generate = if build_rs {
        "build.rs generates the code at build time; include it with\n  mod db { include!(concat!(env!(\"OUT_DIR\"), \"/dyngen/rust/dyngen.rs\")); }\nand run `dyngen generate` to write the migration files to commit."
    } else {
        "Run `dyngen generate` and commit generated/; include the code with\n  #[path = \"../generated/rust/dyngen.rs\"] mod db;\nand run `dyngen check` in CI."
    };
    format!(
        "\nNext: edit schema.yaml, then `dyngen validate`.\n{generate}\nYour Cargo.toml needs the runtime (see the README's \"Use in your project\"):\n  dyngen-runtime = {{ path = \"<dyngen>/runtime\" }}{}",
        if build_rs {
            "\n  [build-dependencies] dyngen = { path = \"<dyngen>\" }"
        } else {
            ""
        }
    )
}
