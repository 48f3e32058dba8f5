//! `dyngen migrate`: applies the committed migration files with the runtime's runner, the
//! same code `Db::migrate` runs on the files embedded in the generated module.

use std::path::Path;
use std::process::ExitCode;

use dyngen::builder_support::read_migrations;
use dyngen::migrations::Migration as Loaded;
use dyngen_runtime::aws_sdk_dynamodb::Client;
use dyngen_runtime::migrate::{self, Migration};

use dyngen::diag::{self, Diagnostic, Source};

use crate::{EXIT_BAD_INPUT, EXIT_DRIFT, MigrateArgs};

pub fn run(args: &MigrateArgs) -> ExitCode {
    let table = match table_name(args) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let (loaded, migrations) = match read(&args.out) {
        Ok(m) => m,
        Err(diags) => {
            let dir = args.out.join(dyngen::migrations::DIR);
            let source = Source::new(dir.display().to_string(), "");
            eprint!(
                "{}",
                diag::render_all(&source, &diags, args.error_format, false)
            );
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    runtime.block_on(async {
        let client = client(args.region.clone(), args.endpoint.as_deref()).await;
        let options = runner_options(args);
        let done = if let Some(name) = &args.rerun {
            catch_up(&client, &table, &migrations, name, &options).await
        } else if args.plan {
            plan(&client, &table, &loaded, &migrations, args.format).await
        } else {
            apply(&client, &table, &migrations, &options).await
        };
        done.unwrap_or_else(|e| {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_DRIFT)
        })
    })
}

/// `--table`, or the schema's table name.
fn table_name(args: &MigrateArgs) -> Result<String, ExitCode> {
    if let Some(t) = &args.table {
        return Ok(t.clone());
    }
    let shown = dyngen::builder_support::display_name(&args.schema);
    let source = match dyngen::builder_support::read_schema(&args.schema, shown) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "error: no --table, and the schema to take its name from cannot be read: {e}\n  help: pass `--table NAME`, or `--schema <file>`"
            );
            return Err(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let compiled = dyngen::compile(&source);
    match compiled.schema {
        Some(schema) => Ok(schema.table.name),
        None => {
            eprint!(
                "{}",
                diag::render_all(&source, &compiled.diagnostics, args.error_format, false)
            );
            Err(ExitCode::from(EXIT_BAD_INPUT))
        }
    }
}

/// The migration files, checked by the generator's loader (names, sequence) and parsed by
/// the runtime's parser, as `Db::migrate` parses the embedded files.
fn read(out: &Path) -> Result<(Vec<Loaded>, Vec<Migration>), Vec<Diagnostic>> {
    let dir = out.join(dyngen::migrations::DIR);
    let problem = |message: String, help: &str| {
        vec![Diagnostic::error("dyngen::migration", message).help(help)]
    };
    let sources = read_migrations(&dir).map_err(|e| {
        problem(
            format!("reading {}: {e}", dir.display()),
            "check the directory's permissions",
        )
    })?;
    if sources.is_empty() {
        return Err(problem(
            format!("no migrations in {}", dir.display()),
            "run `dyngen generate` first, or pass `--out` with the directory that holds them",
        ));
    }
    let loaded = dyngen::migrations::load(&sources)?;
    let parsed = loaded
        .iter()
        .map(|m| Migration::parse(&m.file, &m.text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| problem(e.to_string(), "restore the file as dyngen wrote it"))?;
    Ok((loaded, parsed))
}

async fn client(region: Option<String>, endpoint: Option<&str>) -> Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r));
    }
    if let Some(e) = endpoint {
        loader = loader.endpoint_url(e);
    }
    Client::new(&loader.load().await)
}

/// Prints what a run would apply and how the live table differs from the schema; exit 1
/// when anything would change or differs, 2 when the plan cannot be made (a plan is a
/// gate: "cannot tell" must not read as "nothing to do").
async fn plan(
    client: &Client,
    table: &str,
    loaded: &[Loaded],
    migrations: &[Migration],
    format: dyngen::diag::Format,
) -> Result<ExitCode, migrate::MigrateError> {
    let plan = match migrate::inspect(client, table, migrations).await {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    print!("{}", crate::plan_cmd::render(&plan, loaded, format));
    Ok(if plan.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_DRIFT)
    })
}

/// The runner's options from the flags, with progress on stderr.
fn runner_options(args: &MigrateArgs) -> migrate::Options {
    migrate::Options {
        segments: args.segments.max(1),
        workers: args.workers,
        progress: Some(progress_reporter()),
        ..Default::default()
    }
}

/// A progress bar (items read, rate, ETA from the table's item count) when stderr is a
/// terminal; otherwise a plain line at most every five seconds, for logs.
fn progress_reporter() -> migrate::Progress {
    use std::io::IsTerminal;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        let style = indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {human_pos}/{human_len} items read, {per_sec}, ETA {eta}",
        )
        .map(|s| s.progress_chars("=> "));
        if let Ok(style) = style {
            bar.set_style(style);
        }
        return std::sync::Arc::new(move |p: &migrate::PassProgress<'_>| {
            // The estimate is DynamoDB's (refreshed about every six hours): never below
            // what was read.
            bar.set_length(p.estimate.unwrap_or(0).max(p.scanned));
            bar.set_position(p.scanned);
            bar.set_message(format!("{}: {} changed", p.run, p.changed));
        });
    }
    let last: Mutex<Option<Instant>> = Mutex::new(None);
    std::sync::Arc::new(move |p: &migrate::PassProgress<'_>| {
        let Ok(mut last) = last.lock() else { return };
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(5)) {
            return;
        }
        *last = Some(Instant::now());
        let of = p
            .estimate
            .map(|n| format!(" of about {n}"))
            .unwrap_or_default();
        eprintln!(
            "{}: {} item(s) read{of}, {} changed",
            p.run, p.scanned, p.changed
        );
    })
}

async fn catch_up(
    client: &Client,
    table: &str,
    migrations: &[Migration],
    name: &str,
    options: &migrate::Options,
) -> Result<ExitCode, migrate::MigrateError> {
    let c = migrate::rerun(client, table, migrations, name, options).await?;
    println!(
        "{table}: caught up {name}: {} item(s) checked, {} repaired, {} skipped",
        c.checked, c.changed, c.skipped
    );
    Ok(ExitCode::SUCCESS)
}

async fn apply(
    client: &Client,
    table: &str,
    migrations: &[Migration],
    options: &migrate::Options,
) -> Result<ExitCode, migrate::MigrateError> {
    let report = migrate::run(client, table, migrations, options).await?;
    if report.created_table {
        println!("created table {table}");
    }
    for name in &report.applied {
        println!("applied {name}");
    }
    println!(
        "{table}: {} applied now, {} before, {} item(s) backfilled by this process",
        report.applied.len(),
        report.already_applied,
        report.backfilled
    );
    Ok(ExitCode::SUCCESS)
}
