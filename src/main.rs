//! The `dyngen` command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod init_cmd;
#[cfg(feature = "migrate")]
mod migrate_cmd;
#[cfg(feature = "migrate")]
mod plan_cmd;
use dyngen::builder_support::{display_name, read_migrations, read_schema};
use dyngen::diag::{self, Diagnostic, Format, Source};
use dyngen::{Error, output};

/// Exit codes: 0 ok, 1 drift or findings, 2 bad schema or usage.
const EXIT_DRIFT: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "dyngen",
    version,
    about = "Typed Rust repositories, migrations and IAM policies from one DynamoDB schema.yaml"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct SchemaArgs {
    /// The schema file.
    #[arg(long, default_value = "schema.yaml")]
    schema: PathBuf,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    error_format: Format,
    /// The path generated Rust uses for the runtime crate (when it is renamed or
    /// re-exported, e.g. `crate::rt`).
    #[arg(long, default_value = dyngen::emit::DEFAULT_RUNTIME_PATH)]
    runtime_path: String,
    /// Fail (exit 1) on warnings too, for strict CI (and write nothing).
    #[arg(long)]
    deny_warnings: bool,
}

/// What `dyngen migrate` takes.
#[derive(clap::Args)]
struct MigrateArgs {
    /// Output directory holding `migrations/`.
    #[arg(long, default_value = "generated")]
    out: PathBuf,
    /// The table's name (default: the schema's `table.name`).
    #[arg(long)]
    table: Option<String>,
    /// The schema, read for the default table name.
    #[arg(long, default_value = "schema.yaml")]
    schema: PathBuf,
    /// Endpoint URL, e.g. http://localhost:8000 for DynamoDB Local (default: AWS).
    #[arg(long)]
    endpoint: Option<String>,
    /// AWS region (default: as the AWS CLI finds it).
    #[arg(long)]
    region: Option<String>,
    /// Print the migrations a run would apply, with what they do, and every difference
    /// between the live table and the schema (drift); change nothing. Exit 0 when
    /// nothing is pending and nothing differs, 1 otherwise, 2 when the table or the
    /// files cannot be read.
    #[arg(long, alias = "dry-run")]
    plan: bool,
    /// How `--plan` prints: `human`, `json` (one object) or `github` (workflow commands).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Parallel Scan segments a backfill is split into. Every runner started meanwhile
    /// (another `dyngen migrate`, an application's cold start) joins the backfill and works
    /// segments too. A resumed backfill keeps the number it started with.
    #[arg(long, default_value_t = 1)]
    segments: u32,
    /// Segments this process works at once (default: all of them, up to 16).
    #[arg(long)]
    workers: Option<u32>,
    /// Run the backfills of this applied migration again, as a catch-up for items written
    /// meanwhile by code that did not know the new keys (idempotent).
    #[arg(long, value_name = "MIGRATION")]
    rerun: Option<String>,
    /// How to print problems with the schema or the migration files.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    error_format: Format,
}

#[derive(Subcommand)]
enum Command {
    /// Generate code into the output directory, writing only files that changed and
    /// removing stale files that carry the dyngen header.
    Generate {
        #[command(flatten)]
        args: SchemaArgs,
        /// Output directory (migrations are read from and added to `<out>/migrations`).
        #[arg(long, default_value = "generated")]
        out: PathBuf,
        /// Scaffold migrations that delete an index (removed, or with changed keys or
        /// projection); refused otherwise.
        #[arg(long)]
        allow_destructive: bool,
        /// Also scaffold an empty code migration, `NNNN_<NAME>.yaml`, whose step runs the
        /// Rust function the application registers as NAME.
        #[arg(long, value_name = "NAME")]
        new_migration: Option<String>,
    },
    /// Exit 1, with a diff, when the output directory is not what `generate` would write
    /// (including a migration the schema needs that nobody scaffolded).
    Check {
        #[command(flatten)]
        args: SchemaArgs,
        /// Output directory.
        #[arg(long, default_value = "generated")]
        out: PathBuf,
    },
    /// Check the schema and print its diagnostics; write nothing. Exit 2 on errors (denied
    /// lints included), 1 on warnings only with `--deny-warnings`.
    Validate {
        #[command(flatten)]
        args: SchemaArgs,
    },
    /// Print the JSON Schema of schema.yaml (for editor completion).
    JsonSchema,
    /// Start a project: a starter schema.yaml, its JSON Schema, `.gitattributes` lines,
    /// and with `--build-rs` a build.rs. Existing files are kept.
    Init {
        /// The project directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Also write a build.rs that generates the code at build time.
        #[arg(long)]
        build_rs: bool,
    },
    /// Report what a schema change breaks for stored data or callers, compared with
    /// another version of the schema; exit 1 when anything does.
    Breaking {
        #[command(flatten)]
        args: SchemaArgs,
        /// The old schema: a file, or a git revision (`main`, `HEAD~1`) to read the same
        /// path from.
        #[arg(long)]
        against: String,
    },
    /// Apply the migrations in `<out>/migrations` to a table (needs the `migrate` feature).
    Migrate(MigrateArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Generate {
            args,
            out,
            allow_destructive,
            new_migration,
        } => generate(&args, &out, allow_destructive, new_migration),
        Command::Check { args, out } => check(&args, &out),
        Command::Validate { args } => validate(&args),
        Command::Breaking { args, against } => breaking(&args, &against),
        Command::Migrate(args) => migrate(&args),
        Command::Init { dir, build_rs } => init_cmd::run(&dir, build_rs),
        Command::JsonSchema => {
            print!("{}", dyngen::json_schema());
            ExitCode::SUCCESS
        }
    }
}

fn read_source(args: &SchemaArgs) -> Result<Source, ExitCode> {
    match read_schema(&args.schema, display_name(&args.schema)) {
        Ok(source) => Ok(source),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            eprintln!("error: {e}");
            Err(ExitCode::from(EXIT_BAD_INPUT))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "error: there is no {}\n  help: `dyngen init` writes a starter schema here; or pass `--schema <file>`",
                args.schema.display()
            );
            Err(ExitCode::from(EXIT_BAD_INPUT))
        }
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.schema.display());
            Err(ExitCode::from(EXIT_BAD_INPUT))
        }
    }
}

fn print_diagnostics(source: &Source, diags: &[Diagnostic], format: Format) {
    if diags.is_empty() {
        return;
    }
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", diag::render_all(source, diags, format, color));
    // Machine formats are only their records.
    if matches!(format, Format::Human | Format::Short) {
        let errors = diags.iter().filter(|d| d.is_error()).count();
        let warnings = diags.len() - errors;
        eprintln!("{}: {errors} error(s), {warnings} warning(s)", source.name);
    }
}

/// Runs the pipeline; on failure prints why and gives the exit code.
fn files_for(
    args: &SchemaArgs,
    out: &Path,
    allow_destructive: bool,
    new_migration: Option<String>,
) -> Result<(Source, output::FileSet), ExitCode> {
    let source = read_source(args)?;
    let dir = out.join(dyngen::migrations::DIR);
    let migrations = read_migrations(&dir).map_err(|e| {
        eprintln!("error: reading {}: {e}", dir.display());
        ExitCode::from(EXIT_BAD_INPUT)
    })?;
    let request = dyngen::pipeline::Request {
        allow_destructive,
        new_migration,
        options: dyngen::emit::Options {
            runtime_path: args.runtime_path.clone(),
        },
    };
    match dyngen::pipeline::generate_request(&source, &migrations, &request) {
        Ok((files, warnings)) => {
            print_diagnostics(&source, &warnings, args.error_format);
            if args.deny_warnings && !warnings.is_empty() {
                eprintln!("error: warnings are denied (--deny-warnings)");
                return Err(ExitCode::from(EXIT_DRIFT));
            }
            Ok((source, files))
        }
        Err(Error::Schema {
            source,
            diagnostics,
        }) => {
            print_diagnostics(&source, &diagnostics, args.error_format);
            Err(ExitCode::from(EXIT_BAD_INPUT))
        }
        Err(e) => {
            eprintln!("{e}");
            Err(ExitCode::from(EXIT_BAD_INPUT))
        }
    }
}

fn generate(
    args: &SchemaArgs,
    out: &Path,
    allow_destructive: bool,
    new_migration: Option<String>,
) -> ExitCode {
    let (_, files) = match files_for(args, out, allow_destructive, new_migration) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match output::write(&files, out) {
        Ok(report) => {
            for f in &report.written {
                eprintln!("wrote   {}/{f}", out.display());
            }
            for f in &report.removed {
                eprintln!("removed {}/{f} (no longer generated)", out.display());
            }
            eprintln!(
                "{} file(s) written, {} unchanged, {} removed",
                report.written.len(),
                report.unchanged.len(),
                report.removed.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: nothing was written: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn check(args: &SchemaArgs, out: &Path) -> ExitCode {
    let (source, files) = match files_for(args, out, false, None) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let drift = match output::check(&files, out) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: reading {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    if drift.is_empty() {
        eprintln!("{} is up to date with {}", out.display(), source.name);
        return ExitCode::SUCCESS;
    }
    for (_, diff) in &drift.changed {
        print!("{diff}");
    }
    for f in &drift.missing {
        println!("missing: {}/{f}", out.display());
    }
    for f in &drift.stale {
        println!("stale:   {}/{f}", out.display());
    }
    println!(
        "{} is out of date with {} ({} changed, {} missing, {} stale): run `dyngen generate` and commit",
        out.display(),
        source.name,
        drift.changed.len(),
        drift.missing.len(),
        drift.stale.len()
    );
    ExitCode::from(EXIT_DRIFT)
}

fn validate(args: &SchemaArgs) -> ExitCode {
    let source = match read_source(args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let compiled = dyngen::compile(&source);
    print_diagnostics(&source, &compiled.diagnostics, args.error_format);
    if compiled.has_errors() {
        ExitCode::from(EXIT_BAD_INPUT)
    } else if args.deny_warnings && !compiled.diagnostics.is_empty() {
        ExitCode::from(EXIT_DRIFT)
    } else {
        if compiled.diagnostics.is_empty() {
            eprintln!("{}: ok", source.name);
        }
        ExitCode::SUCCESS
    }
}

/// Reads the old schema: a file if one exists at that path, else `git show <rev>:<path>`.
fn old_schema(args: &SchemaArgs, against: &str) -> Result<Source, String> {
    let as_file = Path::new(against);
    if as_file.is_file() {
        let text = std::fs::read_to_string(as_file).map_err(|e| format!("{against}: {e}"))?;
        return Ok(Source::new(display_name(as_file), text));
    }
    let spec = format!("{against}:./{}", args.schema.display());
    let out = std::process::Command::new("git")
        .args(["show", &spec])
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{against}` is neither a file nor a git revision with {}: {}",
            args.schema.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(Source::new(
        format!("{}@{against}", display_name(&args.schema)),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

fn breaking(args: &SchemaArgs, against: &str) -> ExitCode {
    let new_source = match read_source(args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let old_source = match old_schema(args, against) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let (old, new) = (dyngen::compile(&old_source), dyngen::compile(&new_source));
    for (src, c) in [(&old_source, &old), (&new_source, &new)] {
        if c.has_errors() {
            print_diagnostics(src, &c.diagnostics, args.error_format);
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    }
    let (Some(old_side), Some(new_side)) = (side(&old_source, &old), side(&new_source, &new))
    else {
        return ExitCode::from(EXIT_BAD_INPUT);
    };
    let findings = dyngen::breaking::compare(&old_side, &new_side);
    if findings.is_empty() {
        eprintln!("no breaking changes against {}", old_source.name);
        return ExitCode::SUCCESS;
    }
    print!(
        "{}",
        dyngen::breaking::render(&old_side, &new_side, &findings, args.error_format)
    );
    println!(
        "{} breaking change(s) against {}",
        findings.len(),
        old_source.name
    );
    ExitCode::from(EXIT_DRIFT)
}

fn side<'a>(source: &'a Source, c: &'a dyngen::Compiled) -> Option<dyngen::breaking::Side<'a>> {
    Some(dyngen::breaking::Side {
        source,
        schema: c.schema.as_ref()?,
        spans: c.spans.as_ref()?,
    })
}

#[cfg(not(feature = "migrate"))]
fn migrate(_: &MigrateArgs) -> ExitCode {
    eprintln!(
        "error: this dyngen was built without the `migrate` feature\n  help: install it with `cargo install --path <dyngen> --features migrate` (or `cargo run --features migrate -- migrate ...` in a clone)"
    );
    ExitCode::from(EXIT_BAD_INPUT)
}

#[cfg(feature = "migrate")]
fn migrate(args: &MigrateArgs) -> ExitCode {
    migrate_cmd::run(args)
}
