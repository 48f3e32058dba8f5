//! `dyngen migrate` against DynamoDB Local. Built when the `migrate` and `local` features
//! are on, as they are for `cargo test --workspace` (the test crate enables them).
#![cfg(feature = "migrate")]

mod common;

use common::{dyngen, root, text};

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
    let (code, stdout, stderr) = run(&["--dry-run"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("would apply 0001_create_table:")
            && stdout.contains("would apply 0002_add_index_gsi2:"),
        "{stdout}"
    );
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

    let (code, stdout, _) = run(&["--dry-run"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("up to date (2 migrations applied)"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&[]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("0 applied now, 2 before"), "{stdout}");
    let _ = dyngen;
}
