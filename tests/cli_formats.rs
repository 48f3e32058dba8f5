//! Every subcommand prints its problems in every `--error-format`: snapshots of one broken
//! input each, in `fixtures/cli/<command>.<format>`. JSON lines must parse, and GitHub
//! commands must be one line each with the location as properties.

mod common;

use std::fs;

use common::{assert_golden, dyngen, root, text};

const FORMATS: [&str; 4] = ["human", "short", "json", "github"];

/// A project whose schema has one error, and an old schema for `breaking`.
fn broken_project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let schema = fs::read_to_string(root().join("schema.yaml")).unwrap();
    fs::write(
        tmp.path().join("schema.yaml"),
        schema.replacen("company#{name}", "company#{nmae}", 1),
    )
    .unwrap();
    fs::write(tmp.path().join("old.yaml"), &schema).unwrap();
    tmp
}

/// A valid project whose schema drops a required attribute against `old.yaml`.
fn breaking_project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let schema = fs::read_to_string(root().join("schema.yaml")).unwrap();
    fs::write(tmp.path().join("old.yaml"), &schema).unwrap();
    fs::write(
        tmp.path().join("schema.yaml"),
        schema.replacen("      invitedBy: string\n", "", 1),
    )
    .unwrap();
    tmp
}

/// A project whose migrations directory holds a misnamed file.
fn bad_migrations_project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::copy(root().join("schema.yaml"), tmp.path().join("schema.yaml")).unwrap();
    let dir = tmp.path().join("generated/migrations");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("create.yaml"), "migration: create\nsteps: []\n").unwrap();
    tmp
}

fn check_format(format: &str, stderr_and_stdout: &str) {
    match format {
        "json" => {
            for line in stderr_and_stdout.lines().filter(|l| l.starts_with('{')) {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                assert!(
                    v["line"].as_u64().is_some() && v["code"].is_string(),
                    "{line}"
                );
            }
        }
        "github" => {
            let commands: Vec<&str> = stderr_and_stdout
                .lines()
                .filter(|l| l.starts_with("::"))
                .collect();
            assert!(!commands.is_empty(), "{stderr_and_stdout}");
            for c in commands {
                assert!(
                    c.starts_with("::error file=") || c.starts_with("::warning file="),
                    "{c}"
                );
                assert!(c.contains(",line=") && c.contains(",title="), "{c}");
            }
        }
        _ => {}
    }
}

/// A snapshot name, the project it runs in, and the command line.
type Case = (
    &'static str,
    fn() -> tempfile::TempDir,
    &'static [&'static str],
);

#[test]
fn every_subcommand_in_every_format() {
    let cases: [Case; 6] = [
        ("generate", broken_project, &["generate"]),
        ("check", broken_project, &["check"]),
        ("validate", broken_project, &["validate"]),
        (
            "breaking-invalid",
            broken_project,
            &["breaking", "--against", "old.yaml"],
        ),
        (
            "breaking",
            breaking_project,
            &["breaking", "--against", "old.yaml"],
        ),
        ("migrate", bad_migrations_project, &["migrate", "--dry-run"]),
    ];
    for (name, project, args) in cases {
        for format in FORMATS {
            let tmp = project();
            let mut full: Vec<&str> = args.to_vec();
            full.extend(["--error-format", format]);
            let out = dyngen(tmp.path(), &full);
            // `dyngen migrate` exists when the binary has the `migrate` feature, as it does
            // in `cargo test --workspace` (the app crate turns it on).
            if text(&out.stderr).contains("without the `migrate` feature") {
                continue;
            }
            let shown = format!(
                "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
                out.status.code(),
                text(&out.stdout),
                text(&out.stderr)
            );
            assert_ne!(out.status.code(), Some(0), "{name} {format}: {shown}");
            check_format(format, &(text(&out.stderr) + &text(&out.stdout)));
            assert_golden(
                &root().join(format!("tests/fixtures/cli/{name}.{format}")),
                &shown,
            );
        }
    }
}
