//! `dyngen migrate` against DynamoDB Local. Built when the `migrate` and `local` features
//! are on, as they are for `cargo test --workspace` (the test crate enables them).
#![cfg(feature = "migrate")]

mod common;

use common::{dyngen, root, text};

/// The generated module of the same fixture the CLI migrates: `Db::migrate` and
/// `dyngen migrate` must be one code path over the same data.
#[allow(dead_code, unused_imports)]
#[rustfmt::skip]
#[path = "fixtures/valid/migrate_v2/expected/rust/dyngen.rs"]
mod v2;

#[test]
fn migrate_plans_applies_and_then_has_nothing_to_do() {
    let local = dyngen_runtime::local::DynamoDbLocal::shared().unwrap_or_else(|e| panic!("{e}"));
    let table = dyngen_runtime::local::unique_table_name("cli");
    let tmp = tempfile::tempdir().unwrap();
    let out = root().join("tests/fixtures/valid/migrate_v2/expected");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "migrate",
            "--out",
            out.to_str().unwrap(),
            "--table",
            &table,
            "--endpoint",
            local.endpoint(),
            "--region",
            "us-east-1",
        ];
        args.extend_from_slice(extra);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_dyngen"))
            .args(&args)
            .current_dir(tmp.path())
            .env("AWS_ACCESS_KEY_ID", "dyngenlocal")
            .env("AWS_SECRET_ACCESS_KEY", "dyngenlocal")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        (o.status.code(), text(&o.stdout), text(&o.stderr))
    };
    // `--dry-run` is the old name of `--plan`; something pending is exit 1.
    let (code, stdout, stderr) = run(&["--dry-run"]);
    assert_eq!(code, Some(1), "{stderr}");
    // The CLI's plan is the runtime's plan over the generated module's embedded files.
    let client = local.client();
    let generated = v2::migrations().unwrap();
    let planned =
        tokio_block_on(dyngen_runtime::migrate::plan(&client, &table, &generated)).unwrap();
    let cli_planned: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("would apply ")?.split(' ').next())
        .collect();
    assert_eq!(cli_planned, planned, "{stdout}");
    assert_eq!(planned, ["0001_create_table", "0002_add_index_gsi2"]);
    assert!(
        stdout.contains("Backfill: existing `Person` items get `gsi2pk`"),
        "{stdout}"
    );

    let (code, stdout, stderr) = run(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("created table")
            && stdout.contains("applied 0001_create_table")
            && stdout.contains("applied 0002_add_index_gsi2"),
        "{stdout}"
    );

    let (code, stdout, _) = run(&["--plan"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("2 migration(s) applied")
            && stdout.contains("up to date: nothing to apply, no drift"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&[]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("0 applied now, 2 before"), "{stdout}");
    // And the generated code finds the CLI's ledger its own: same names, same checksums.
    let db = v2::Db::new(client).with_table_name(&table);
    let report = tokio_block_on(db.migrate(&Default::default())).unwrap();
    assert_eq!((report.applied.len(), report.already_applied), (0, 2));
    let _ = dyngen;
}

/// A backfill through the CLI: segments and workers from the flags, progress as plain
/// lines on stderr when it is not a terminal (here, a pipe).
#[test]
fn migrate_backfills_in_segments_and_reports_progress_in_plain_lines() {
    let local = dyngen_runtime::local::DynamoDbLocal::shared().unwrap_or_else(|e| panic!("{e}"));
    let table = dyngen_runtime::local::unique_table_name("cli-bf");
    let run = |fixture: &str, extra: &[&str]| {
        let out = root().join(format!("tests/fixtures/valid/{fixture}/expected"));
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_dyngen"))
            .args(["migrate", "--out", out.to_str().unwrap(), "--table", &table])
            .args(["--endpoint", local.endpoint(), "--region", "us-east-1"])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "dyngenlocal")
            .env("AWS_SECRET_ACCESS_KEY", "dyngenlocal")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        (o.status.code(), text(&o.stdout), text(&o.stderr))
    };
    let (code, _, stderr) = run("migrate_v1", &[]);
    assert_eq!(code, Some(0), "{stderr}");
    // People as version 1 wrote them: without the new index's keys.
    let client = local.client();
    for i in 0..30 {
        let mut item = v2::Person {
            id: format!("p{i}"),
            team: "t".into(),
            name: "n".into(),
            born: dyngen_runtime::Date::new(1990, 1, 1 + (i % 28) as u8),
        }
        .to_item();
        item.remove("gsi2pk");
        item.remove("gsi2sk");
        tokio_block_on(
            client
                .put_item()
                .table_name(&table)
                .set_item(Some(item))
                .send(),
        )
        .unwrap();
    }
    let (code, stdout, stderr) = run("migrate_v2", &["--segments", "3", "--workers", "2"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("30 item(s) backfilled by this process"),
        "{stdout}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("0002_add_index_gsi2#0: ") && l.contains("item(s) read")),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\r'),
        "no terminal redraws in a pipe: {stderr:?}"
    );
}

#[test]
fn the_cli_reads_migration_files_into_exactly_what_the_generated_code_embeds() {
    let dir = root().join("tests/fixtures/valid/migrate_v2/expected/migrations");
    let sources = dyngen::builder_support::read_migrations(&dir).unwrap();
    let read: Vec<_> = sources
        .iter()
        .map(|s| dyngen_runtime::migrate::Migration::parse(&s.file, &s.text).unwrap())
        .collect();
    assert_eq!(read, v2::migrations().unwrap());
    assert_eq!(read.len(), 2);
}

fn tokio_block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}
