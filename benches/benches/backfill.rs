//! Backfill throughput behind a latency-injecting TCP proxy (5 ms added each way, as
//! between a runner and a DynamoDB endpoint in another zone), against DynamoDB Local: one
//! Scan segment, eight segments in one worker process, and two worker processes sharing
//! one pass. Items: `DYNGEN_BENCH_BACKFILL_ITEMS` (default 100,000). Each configuration
//! gets a freshly seeded table; the workers are separate processes (this binary started
//! with `--worker`), and each reports its own CPU time.
//!
//! The migration is `migrate_v2`'s `0002_add_index_gsi2` without its `create_index` step,
//! so the time measured is the pass alone: the ledger query, the lock, the scan with one
//! conditional UpdateItem per item, the checkpoints, the ledger write.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use dyngen_runtime::local::{DynamoDbLocal, unique_table_name};
use dyngen_runtime::migrate as runner;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Latency the proxy adds to each direction.
const DELAY: Duration = Duration::from_millis(5);

fn migrations() -> Vec<runner::Migration> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/valid/migrate_v2/expected/migrations");
    let sources = dyngen::builder_support::read_migrations(&dir).unwrap();
    let mut all: Vec<runner::Migration> = sources
        .iter()
        .map(|s| runner::Migration::parse(&s.file, &s.text).unwrap())
        .collect();
    all[1]
        .steps
        .retain(|s| matches!(s, runner::Step::Backfill(_)));
    all
}

/// A table at migration 0001 holding `n` people written with version 1's layout (sent
/// straight to DynamoDB Local, not through the proxy).
async fn seed(client: &aws_sdk_dynamodb::Client, n: usize) -> String {
    let table = unique_table_name("backfill");
    let options = runner::Options {
        poll: Duration::from_millis(100),
        ..Default::default()
    };
    runner::run(client, &table, &migrations()[..1], &options)
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

/// Forwards every connection to `upstream`, delivering each chunk `DELAY` after it was
/// read, in order (a latency line, not a per-chunk sleep: throughput is not throttled).
async fn proxy(listener: TcpListener, upstream: String) {
    loop {
        // A failed accept (out of file descriptors, say) must not close the proxy for the
        // connections that follow.
        let client = match listener.accept().await {
            Ok((client, _)) => client,
            Err(e) => {
                eprintln!("proxy: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            tokio::spawn(delayed(cr, sw));
            tokio::spawn(delayed(sr, cw));
        });
    }
}

async fn delayed(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    tokio::spawn(async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due.into()).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx
                    .send((Instant::now() + DELAY, buf[..n].to_vec()))
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// This process's CPU time (user + system), from /proc (clock ticks of 1/100 s).
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(") ").next().unwrap_or_default();
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) * 10
}

/// `--worker ENDPOINT TABLE SEGMENTS WORKERS`: one runner; prints `changed cpu_ms`.
async fn worker(args: &[String]) {
    let conf = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(&args[0])
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "dyngenlocal",
            "dyngenlocal",
            None,
            None,
            "bench",
        ))
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(conf);
    let options = runner::Options {
        segments: args[2].parse().unwrap(),
        workers: Some(args[3].parse().unwrap()),
        poll: Duration::from_millis(50),
        ..Default::default()
    };
    let report = runner::run(&client, &args[1], &migrations(), &options)
        .await
        .unwrap();
    println!("{} {}", report.backfilled, cpu_ms());
}

/// How many items each parallel-scan segment holds (DynamoDB Local's split need not be
/// even, and the pass lasts as long as its largest segment).
async fn segment_sizes(client: &aws_sdk_dynamodb::Client, table: &str, segments: u32) -> Vec<i32> {
    let mut out = Vec::new();
    for s in 0..segments {
        let mut count = 0;
        let mut start = None;
        loop {
            let page = client
                .scan()
                .table_name(table)
                .segment(s as i32)
                .total_segments(segments as i32)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            count += page.count();
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        out.push(count);
    }
    out
}

/// Runs `processes` workers on a fresh table; returns (seconds, items changed, CPU ms).
async fn measure(
    client: &aws_sdk_dynamodb::Client,
    proxy: &str,
    n: usize,
    processes: usize,
    segments: u32,
    workers: u32,
) -> (f64, u64, u64) {
    let table = seed(client, n).await;
    if segments > 1 {
        println!(
            "<!-- {segments} segments hold {:?} items -->",
            segment_sizes(client, &table, segments).await
        );
    }
    let exe = std::env::current_exe().unwrap();
    let start = Instant::now();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--worker",
                    proxy,
                    &table,
                    &segments.to_string(),
                    &workers.to_string(),
                ])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let (mut changed, mut cpu) = (0, 0);
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "a worker failed");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().unwrap());
        changed += fields.next().unwrap();
        cpu += fields.next().unwrap();
    }
    (start.elapsed().as_secs_f64(), changed, cpu)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--worker") {
        return worker(&args[1..]).await;
    }
    let n: usize = std::env::var("DYNGEN_BENCH_BACKFILL_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let local = DynamoDbLocal::shared().unwrap_or_else(|e| panic!("{e}"));
    let client = local.client();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxied = format!("http://{}", listener.local_addr().unwrap());
    let upstream = local.endpoint().trim_start_matches("http://").to_string();
    tokio::spawn(proxy(listener, upstream));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "backfill of {n} items through a proxy adding {DELAY:?} each way (load {})",
        load.trim()
    );
    println!("| configuration | wall s | items/s | CPU ms per 1,000 items |");
    println!("|---|---|---|---|");
    let configs: [(&str, usize, u32, u32); 3] = [
        ("1 worker, 1 segment", 1, 1, 1),
        ("1 worker, 8 segments", 1, 8, 8),
        ("2 workers, 16 segments (8 each at once)", 2, 16, 8),
    ];
    let mut rates = Vec::new();
    for (name, processes, segments, workers) in configs {
        let (secs, changed, cpu) =
            measure(&client, &proxied, n, processes, segments, workers).await;
        assert_eq!(changed as usize, n, "{name}: every item backfilled once");
        let rate = n as f64 / secs;
        println!(
            "| {name} | {secs:.1} | {rate:.0} | {:.0} |",
            cpu as f64 * 1000.0 / n as f64
        );
        rates.push(rate);
    }
    println!();
    println!(
        "8 segments vs 1: {:.2}x (target >= 6); 2 workers vs 1 (8 segments at once each): {:.2}x (target >= 1.8)",
        rates[1] / rates[0],
        rates[2] / rates[1]
    );
}
