//! `dyngen migrate`: applies the committed migration files with the runtime's runner, the
//! same code `Db::migrate` runs on the files embedded in the generated module.

use std::path::Path;
use std::process::ExitCode;

use dyngen::builder_support::read_migrations;
use dyngen::migrations::Migration as Loaded;
use dyngen_runtime::aws_sdk_dynamodb::Client;
use dyngen_runtime::migrate::{self, Migration};

use crate::{EXIT_BAD_INPUT, EXIT_DRIFT};

/// What the command line asked for.
pub struct Args<'a> {
    pub out: &'a Path,
    pub table: &'a str,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub dry_run: bool,
    pub segments: u32,
}

pub fn run(args: Args<'_>) -> ExitCode {
    let (loaded, migrations) = match read(args.out) {
        Ok(m) => m,
        Err(message) => {
            eprintln!("error: {message}");
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
        let client = client(args.region, args.endpoint.as_deref()).await;
        let done = if args.dry_run {
            dry_run(&client, args.table, &loaded, &migrations).await
        } else {
            apply(&client, args.table, &migrations, args.segments).await
        };
        done.unwrap_or_else(|e| {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_DRIFT)
        })
    })
}

/// The migration files, checked by the generator's loader (names, sequence) and parsed by
/// the runtime's parser, as `Db::migrate` parses the embedded files.
fn read(out: &Path) -> Result<(Vec<Loaded>, Vec<Migration>), String> {
    let dir = out.join(dyngen::migrations::DIR);
    let sources = read_migrations(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    if sources.is_empty() {
        return Err(format!(
            "no migrations in {}; run `dyngen generate` first",
            dir.display()
        ));
    }
    let loaded = dyngen::migrations::load(&sources).map_err(|diags| {
        diags
            .into_iter()
            .map(|d| format!("{}\n  help: {}", d.message, d.help.unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\nerror: ")
    })?;
    let parsed = loaded
        .iter()
        .map(|m| Migration::parse(&m.file, &m.text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
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

/// Prints what would be applied, with each migration's own summary.
async fn dry_run(
    client: &Client,
    table: &str,
    loaded: &[Loaded],
    migrations: &[Migration],
) -> Result<ExitCode, migrate::MigrateError> {
    let pending = migrate::plan(client, table, migrations).await?;
    if pending.is_empty() {
        println!(
            "{table}: up to date ({} migrations applied)",
            migrations.len()
        );
    }
    for name in &pending {
        println!("would apply {name}:");
        let Some(m) = loaded.iter().find(|m| &m.parsed.migration == name) else {
            continue;
        };
        let summary = m
            .text
            .lines()
            .skip_while(|l| !l.starts_with("# What it does"))
            .skip(1)
            .take_while(|l| l.starts_with("#   "));
        for line in summary {
            println!("  {}", line.trim_start_matches('#').trim());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn apply(
    client: &Client,
    table: &str,
    migrations: &[Migration],
    segments: u32,
) -> Result<ExitCode, migrate::MigrateError> {
    let progress: migrate::Progress = std::sync::Arc::new(|name: &str, n: u64| {
        eprint!("\r{name}: backfilled {n} item(s)");
    });
    let options = migrate::Options {
        segments,
        progress: Some(progress),
        ..Default::default()
    };
    let report = migrate::run(client, table, migrations, &options).await?;
    if report.backfilled > 0 {
        eprintln!();
    }
    if report.created_table {
        println!("created table {table}");
    }
    for name in &report.applied {
        println!("applied {name}");
    }
    println!(
        "{table}: {} applied now, {} before, {} item(s) backfilled",
        report.applied.len(),
        report.already_applied,
        report.backfilled
    );
    Ok(ExitCode::SUCCESS)
}
