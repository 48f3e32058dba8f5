//! The runner's budget for DynamoDB's control plane, against DynamoDB Local behind a proxy
//! that counts every request. The index v2 adds never becomes ACTIVE: DynamoDB Local
//! cannot be made to stall an index build, so the proxy rewrites DescribeTable's answers
//! to report it CREATING (the one stand-in; every request still reaches DynamoDB Local).
//!
//! Several runners in one process (one holds the lock, the others wait for it and help),
//! each with 2, 8 and 16 segments, wait for the index until `wait_timeout`. Throughout,
//! the process reads the control plane at most once per poll interval, backs off while
//! nothing changes, renews its lease at a third of the lease, and gives up with a
//! `WaitTimeout` naming the index and its status.

mod common;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;

use std::time::{Duration, Instant};

use dyngen_app_tests::{migrate_v1 as v1, migrate_v2 as v2};
use dyngen_runtime::migrate::{MigrateError, Options};
use fault_proxy::{FaultProxy, Faults};

const POLL: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_millis(800);
const LEASE: Duration = Duration::from_millis(1500);
const WAIT: Duration = Duration::from_secs(5);
/// Runners started at once in the process.
const RUNNERS: usize = 3;

/// Operations on the table itself (DynamoDB's control plane).
const CONTROL_PLANE: &[&str] = &[
    "DescribeTable",
    "UpdateTable",
    "CreateTable",
    "DescribeTimeToLive",
    "UpdateTimeToLive",
    "DescribeContinuousBackups",
];

/// A table of people written by v1, and a client whose DescribeTable answers report v2's
/// index as building forever.
async fn stalled_table() -> (String, FaultProxy, aws_sdk_dynamodb::Client) {
    let table = common::table("stall");
    let old = v1::Db::new(common::client()).with_table_name(&table);
    old.migrate(&Options::default()).await.unwrap();
    let mut batch = old.batch_write();
    for i in 0..50 {
        let mut p = v1::Person::new(format!("p{i}"), "t", "P");
        p.born = Some(dyngen_runtime::Date::new(1990, 1, 1 + (i % 28) as u8).unwrap());
        batch = batch.put(&p);
    }
    batch.send().await.unwrap();

    let faults = Faults {
        stall_index: Some("gsi2".into()),
        ..Faults::default()
    };
    let proxy = FaultProxy::start(common::local().endpoint(), faults, 3).await;
    let client = common::local().client_with(|b| b.endpoint_url(&proxy.url));
    (table, proxy, client)
}

async fn stalled_build(segments: u32) {
    let (table, proxy, client) = stalled_table().await;
    let options = |r: usize| Options {
        owner: format!("runner-{r}"),
        segments,
        poll: POLL,
        poll_max: POLL_MAX,
        lease: LEASE,
        wait_timeout: WAIT,
        lock_wait: WAIT + Duration::from_secs(3),
        ..Options::default()
    };
    let started = Instant::now();
    // Spawned, as an application spawns its migration: the future is `Send`.
    let runs: Vec<_> = (0..RUNNERS)
        .map(|r| {
            let db = v2::Db::new(client.clone()).with_table_name(&table);
            let options = options(r);
            tokio::spawn(async move { db.migrate(&options).await })
        })
        .collect();
    let mut results = Vec::new();
    for run in runs {
        results.push(run.await.unwrap());
    }
    let elapsed = started.elapsed();

    // The holder gives up naming the index and its status; the others, which waited for
    // the lock, give up on it then or repeat the wait themselves.
    let timeouts: Vec<String> = results
        .iter()
        .filter_map(|r| match r {
            Err(e @ MigrateError::WaitTimeout { status, .. }) => {
                assert!(
                    status.contains("index `gsi2` is CREATING (backfilling)"),
                    "{e}"
                );
                Some(e.to_string())
            }
            Err(MigrateError::LockTimeout { .. }) => None,
            other => panic!("segments {segments}: expected a timeout, got {other:?}"),
        })
        .collect();
    assert!(!timeouts.is_empty(), "segments {segments}: {results:?}");
    assert!(timeouts[0].contains("gsi2"), "{}", timeouts[0]);

    let reads = proxy.stats.calls_to(CONTROL_PLANE);
    let budget = (elapsed.as_millis() / POLL.as_millis()) as usize + 1;
    assert!(
        reads.len() <= budget,
        "segments {segments}: {} control-plane calls in {elapsed:?}, budget {budget}",
        reads.len()
    );
    // In any second, at most one read per poll interval (and a call that changes the
    // table, which forgets the shared answer).
    let per_poll = (1000 / POLL.as_millis()) as usize;
    let busiest = busiest_second(&reads);
    assert!(
        busiest <= per_poll + 1,
        "segments {segments}: {busiest} calls in one second"
    );
    // Backing off while nothing changes: a wait of WAIT polled at POLL would read 50
    // times; doubling up to POLL_MAX reads about a dozen.
    let waited_reads = reads
        .iter()
        .filter(|t| t.duration_since(started) > POLL_MAX)
        .count();
    let backed_off = (WAIT.as_millis() / POLL_MAX.as_millis()) as usize * RUNNERS + 8;
    assert!(
        waited_reads <= backed_off,
        "segments {segments}: {waited_reads} reads after the first {POLL_MAX:?}, expected at most {backed_off}"
    );
    let renewals = proxy.stats.calls_matching("UpdateItem", "leaseVersion");
    // One holder at a time renews, at a third of the lease.
    let renew_budget = (elapsed.as_millis() / (LEASE / 3).as_millis()) as usize + 4;
    assert!(
        renewals <= renew_budget,
        "segments {segments}: {renewals} lease renewals in {elapsed:?}, budget {renew_budget}"
    );
    eprintln!(
        "segments {segments}: {} control-plane calls and {renewals} lease renewals in {elapsed:?} ({busiest} in the busiest second)",
        reads.len()
    );
}

fn busiest_second(calls: &[Instant]) -> usize {
    calls
        .iter()
        .map(|a| {
            calls
                .iter()
                .filter(|b| **b >= *a && b.duration_since(*a) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Many waits in one process (application tasks each waiting for the table, say), none
/// backing off: after each wait's first read, the process reads DescribeTable at most
/// once per poll interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_waits_in_one_process_share_one_read_per_poll_interval() {
    const WAITS: usize = 16;
    let (table, proxy, client) = stalled_table().await;
    let v2 = v2::Db::new(client.clone()).with_table_name(&table);
    let impatient = Options {
        wait_timeout: Duration::ZERO,
        poll: POLL,
        ..Options::default()
    };
    let report = v2.migrate(&impatient).await;
    // The index is created, then the (rewritten) answer says it never finishes.
    assert!(
        matches!(report, Err(MigrateError::WaitTimeout { .. })),
        "{report:?}"
    );
    let options = Options {
        poll: POLL,
        poll_max: POLL,
        wait_timeout: Duration::from_secs(2),
        ..Options::default()
    };
    let before = proxy.stats.calls_to(&["DescribeTable"]).len();
    let started = Instant::now();
    let waits: Vec<_> = (0..WAITS)
        .map(|i| {
            let (client, table, options) = (client.clone(), table.clone(), options.clone());
            tokio::spawn(async move {
                // Spread over one interval, so the waits poll out of step.
                tokio::time::sleep(POLL * i as u32 / WAITS as u32).await;
                dyngen_runtime::migrate::wait_active(&client, &table, &options).await
            })
        })
        .collect();
    for w in waits {
        let e = w.await.unwrap().unwrap_err();
        assert!(e.to_string().contains("index `gsi2` is CREATING"), "{e}");
    }
    let elapsed = started.elapsed();
    let reads = proxy.stats.calls_to(&["DescribeTable"]).len() - before;
    // One read as each wait begins (it trusts no answer requested before it began),
    // then at most one per poll interval for all of them.
    let budget = WAITS + (elapsed.as_millis() / POLL.as_millis()) as usize + 1;
    assert!(
        reads <= budget,
        "{WAITS} waits read {reads} times in {elapsed:?}, budget {budget}"
    );
}

#[tokio::test]
async fn a_stalled_index_build_with_2_segments_stays_within_the_polling_budget() {
    stalled_build(2).await;
}

#[tokio::test]
async fn a_stalled_index_build_with_8_segments_stays_within_the_polling_budget() {
    stalled_build(8).await;
}

#[tokio::test]
async fn a_stalled_index_build_with_16_segments_stays_within_the_polling_budget() {
    stalled_build(16).await;
}
