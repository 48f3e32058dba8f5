//! The `dyngen` command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dyngen::builder_support::{display_name, generate_files, read_migrations};
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
    /// Check the schema and print its diagnostics; write nothing. Exit 1 on warnings.
    Validate {
        #[command(flatten)]
        args: SchemaArgs,
    },
    /// Print the JSON Schema of schema.yaml (for editor completion).
    JsonSchema,
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
        } => generate(&args, &out, allow_destructive),
        Command::Check { args, out } => check(&args, &out),
        Command::Validate { args } => validate(&args),
        Command::JsonSchema => {
            print!("{}", dyngen::json_schema());
            ExitCode::SUCCESS
        }
    }
}

fn read_source(args: &SchemaArgs) -> Result<Source, ExitCode> {
    match std::fs::read_to_string(&args.schema) {
        Ok(text) => Ok(Source::new(display_name(&args.schema), text)),
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
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    eprintln!("{}: {errors} error(s), {warnings} warning(s)", source.name);
}

/// Runs the pipeline; on failure prints why and gives the exit code.
fn files_for(
    args: &SchemaArgs,
    out: &Path,
    allow_destructive: bool,
) -> Result<(Source, output::FileSet), ExitCode> {
    let source = read_source(args)?;
    let dir = out.join(dyngen::migrations::DIR);
    let migrations = read_migrations(&dir).map_err(|e| {
        eprintln!("error: reading {}: {e}", dir.display());
        ExitCode::from(EXIT_BAD_INPUT)
    })?;
    match generate_files(&source, &migrations, allow_destructive) {
        Ok((files, warnings)) => {
            print_diagnostics(&source, &warnings, args.error_format);
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

fn generate(args: &SchemaArgs, out: &Path, allow_destructive: bool) -> ExitCode {
    let (_, files) = match files_for(args, out, allow_destructive) {
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
            eprintln!("error: writing {}: {e}", out.display());
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn check(args: &SchemaArgs, out: &Path) -> ExitCode {
    let (source, files) = match files_for(args, out, false) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let drift = match output::check(&files, out) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: reading {}: {e}", out.display());
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
    } else if !compiled.diagnostics.is_empty() {
        ExitCode::from(EXIT_DRIFT)
    } else {
        eprintln!("{}: ok", source.name);
        ExitCode::SUCCESS
    }
}
