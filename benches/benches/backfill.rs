//! Backfill throughput: the migration runner adding an index over existing items, with one
//! Scan segment versus several in parallel (each with its conditional updates in flight),
//! against DynamoDB Local. Items: `DYNGEN_BENCH_BACKFILL_ITEMS` (default 100,000).

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use dyngen_runtime::local::{DynamoDbLocal, unique_table_name};
use dyngen_runtime::migrate as runner;

fn migrations() -> Vec<runner::Migration> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/valid/migrate_v2/expected/migrations");
    let sources = dyngen::builder_support::read_migrations(&dir).unwrap();
    sources
        .iter()
        .map(|s| runner::Migration::parse(&s.file, &s.text).unwrap())
        .collect()
}

/// A table at migration 0001 holding `n` people written with version 1's layout.
async fn seed(client: &aws_sdk_dynamodb::Client, n: usize) -> String {
    let table = unique_table_name("backfill");
    let all = migrations();
    let options = runner::Options {
        poll: Duration::from_millis(100),
        ..Default::default()
    };
    runner::run(client, &table, &all[..1], &options)
        .await
        .unwrap();
    let mut requests = Vec::with_capacity(25);
    for i in 0..n {
        let id = format!("p{i:07}");
        let item = [
            ("pk", AttributeValue::S(format!("person#{id}"))),
            ("sk", AttributeValue::S("person#".into())),
            ("_type", AttributeValue::S("Person".into())),
            ("id", AttributeValue::S(id.clone())),
            ("team", AttributeValue::S(format!("t{}", i % 10))),
            ("name", AttributeValue::S(format!("Person {i}"))),
            (
                "born",
                AttributeValue::S(format!("{}-0{}-1{}", 1970 + i % 40, 1 + i % 9, i % 10)),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        requests.push(
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build(),
        );
        if requests.len() == 25 || i + 1 == n {
            let mut pending = std::mem::take(&mut requests);
            while !pending.is_empty() {
                let out = client
                    .batch_write_item()
                    .request_items(&table, pending)
                    .send()
                    .await
                    .unwrap();
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&table))
                    .unwrap_or_default();
            }
        }
    }
    table
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("DYNGEN_BENCH_BACKFILL_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let local = DynamoDbLocal::shared().unwrap_or_else(|e| panic!("{e}"));
    let client = local.client();
    let mut results = Vec::new();
    for segments in [1u32, 8] {
        let table = seed(&client, n).await;
        let options = runner::Options {
            segments,
            poll: Duration::from_millis(100),
            ..Default::default()
        };
        let start = Instant::now();
        let report = runner::run(&client, &table, &migrations(), &options)
            .await
            .unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(report.backfilled as usize, n);
        println!(
            "backfill of {n} items, {segments} segment(s): {secs:.1} s, {:.0} items/s",
            n as f64 / secs
        );
        results.push(n as f64 / secs);
    }
    println!(
        "  speed-up from parallel segments: {:.2}x (target >= 2)",
        results[1] / results[0]
    );
}
