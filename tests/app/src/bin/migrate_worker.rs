//! One migration runner process, for the tests that start several and kill some: runs the
//! `migrate_v2` migrations (a backfill), or with `code` the `migrate_v3` ones (a code step
//! that splits names), against a table and prints its progress.
//!
//! Usage: `migrate_worker ENDPOINT TABLE OWNER SEGMENTS WORKERS LEASE_MS PAGE_SIZE [code]`.
//! Prints `progress <scanned> <changed>` after every page this process works, and
//! `done <applied>` when the run returns; exits 1 with the error otherwise.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use dyngen_app_tests::{migrate_v2 as v2, migrate_v3 as v3};

fn arg(args: &[String], i: usize, what: &str) -> String {
    match args.get(i) {
        Some(a) => a.clone(),
        None => {
            eprintln!("missing argument {i}: {what}");
            std::process::exit(2);
        }
    }
}

fn number<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> T {
    match arg(args, i, what).parse() {
        Ok(n) => n,
        Err(_) => {
            eprintln!("argument {i} ({what}) is not a number");
            std::process::exit(2);
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let endpoint = arg(&args, 1, "endpoint");
    let table = arg(&args, 2, "table");
    let conf = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "dyngenlocal",
            "dyngenlocal",
            None,
            None,
            "test",
        ))
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(conf);
    let options = dyngen_runtime::migrate::Options {
        owner: arg(&args, 3, "owner"),
        segments: number(&args, 4, "segments"),
        workers: Some(number(&args, 5, "workers")),
        lease: Duration::from_millis(number(&args, 6, "lease in ms")),
        page_size: Some(number(&args, 7, "page size")),
        poll: Duration::from_millis(100),
        progress: Some(Arc::new(|p: &dyngen_runtime::migrate::PassProgress<'_>| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "progress {} {}", p.scanned, p.changed);
            let _ = out.flush();
        })),
        ..Default::default()
    };
    let result = if args.get(8).map(String::as_str) == Some("code") {
        let split = dyngen_runtime::migrate::CodeStep::each(|mut p: v3::Person| async move {
            p.first_name = p.name.split(' ').next().map(str::to_string);
            p.name.push_str(" [split]");
            Ok(dyngen_runtime::migrate::Change::Put(p))
        });
        let options = options.code_step("split_names", split);
        v3::Db::new(client)
            .with_table_name(&table)
            .migrate(&options)
            .await
    } else {
        v2::Db::new(client)
            .with_table_name(&table)
            .migrate(&options)
            .await
    };
    match result {
        Ok(report) => println!("done {}", report.applied.join(",")),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
