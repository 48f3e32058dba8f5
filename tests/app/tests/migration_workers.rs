//! A backfill shared by four runner processes (the `migrate_worker` binary) against
//! DynamoDB Local, two of them killed with SIGKILL mid-run while the test deletes items.
//! The table's stream is the witness: it records every write DynamoDB made, so "no item
//! written twice" is checked on what happened, not on what the runners say.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{StreamSpecification, StreamViewType};
use dyngen_app_tests::{migrate_v1 as v1, migrate_v2 as v2};

const PEOPLE: usize = 3_000;
const DELETED: usize = 150;

fn person(i: usize) -> v1::Person {
    v1::Person {
        id: format!("p{i:05}"),
        team: format!("t{}", i % 5),
        name: format!("Person {i}"),
        born: (!i.is_multiple_of(3)).then(|| {
            dyngen_runtime::Date::new(1990 + (i % 5) as i32, 1 + (i % 12) as u8, 1).unwrap()
        }),
    }
}

/// A worker process; its stdout lines arrive on `lines` as (worker, line).
fn spawn(endpoint: &str, table: &str, w: usize, lines: &mpsc::Sender<(usize, String)>) -> Child {
    spawn_with(endpoint, table, w, lines, &[])
}

/// [`spawn`] with more arguments (`code`: the v3 code step instead of the v2 backfill).
fn spawn_with(
    endpoint: &str,
    table: &str,
    w: usize,
    lines: &mpsc::Sender<(usize, String)>,
    extra: &[&str],
) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrate_worker"))
        .args([
            endpoint,
            table,
            &format!("worker{w}"),
            "16",
            "2",
            "1500",
            "20",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the worker binary starts");
    let out = child.stdout.take().expect("piped stdout");
    let tx = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send((w, line));
        }
    });
    child
}

/// The worker processes; any still running when the test ends (or fails) are killed.
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// How many changed items each worker reported last.
fn changed_by(progress: &BTreeMap<usize, u64>) -> usize {
    progress.values().filter(|n| **n > 0).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_a_backfill_two_are_killed_and_every_item_is_written_once() {
    let local = common::local();
    let client = local.client();
    let table = common::table("workers");
    let old = v1::Db::new(client.clone()).with_table_name(&table);
    old.migrate(&Default::default()).await.unwrap();
    let people: Vec<v1::Person> = (0..PEOPLE).map(person).collect();
    let mut batch = old.batch_write();
    for p in &people {
        batch = batch.put(p);
    }
    batch.send().await.unwrap();
    // The stream starts after the seed: it sees the backfill and the deletes.
    client
        .update_table()
        .table_name(&table)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let (tx, rx) = mpsc::channel();
    let mut workers = Workers(
        (0..4)
            .map(|w| spawn(local.endpoint(), &table, w, &tx))
            .collect(),
    );
    let children = &mut workers.0;
    // Kill two once at least two processes are changing items.
    let mut progress: BTreeMap<usize, u64> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while changed_by(&progress) < 2 {
        let (w, line) = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("two workers report progress");
        if let Some(rest) = line.strip_prefix("progress ") {
            let changed: u64 = rest.split(' ').nth(1).unwrap().parse().unwrap();
            progress.insert(w, changed);
        }
    }
    for child in &mut children[..2] {
        child.kill().unwrap(); // SIGKILL
    }
    // Meanwhile the application deletes some people the backfill has not reached yet, or
    // has: either way they must stay deleted.
    let deleted: BTreeSet<usize> = (0..DELETED).map(|k| (k * 17) % PEOPLE).collect();
    for i in &deleted {
        old.person().delete(&people[*i].key()).await.unwrap();
    }
    for child in &mut children[2..] {
        let status = wait(child, Duration::from_secs(240));
        assert!(status.success(), "a surviving worker failed: {status}");
    }
    for child in &mut children[..2] {
        let _ = child.wait();
    }
    drop(tx);
    let lines: Vec<(usize, String)> = rx.try_iter().collect();
    assert!(
        lines.iter().filter(|(_, l)| l.starts_with("done")).count() == 2,
        "{lines:?}"
    );

    let db = v2::Db::new(client.clone()).with_table_name(&table);
    let pending = dyngen_runtime::migrate::plan(db.client(), &table, &v2::migrations().unwrap())
        .await
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
    // Every remaining person with a birth date is in the new index, once, correctly.
    let mut found: Vec<String> = Vec::new();
    for year in 1990..1995 {
        found.extend(
            db.people_born_in(year)
                .all()
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.id),
        );
    }
    found.sort();
    let expected: Vec<String> = people
        .iter()
        .enumerate()
        .filter(|(i, p)| p.born.is_some() && !deleted.contains(i))
        .map(|(_, p)| p.id.clone())
        .collect();
    assert_eq!(found, expected);
    // Deleted people stayed deleted (a backfill write never recreates an item).
    for i in &deleted {
        let key = v2::PersonKey {
            id: people[*i].id.clone(),
        };
        assert!(
            db.person().get(&key).await.unwrap().is_none(),
            "{} came back",
            people[*i].id
        );
    }
    // The stream: at most one change per person from the backfill, and none for those
    // without a birth date.
    let modified = stream_modifications(local, &table).await;
    for (pk, n) in &modified {
        assert_eq!(*n, 1, "{pk} was written {n} times");
    }
    let backfilled_alive = expected.len();
    let backfilled = modified.len();
    assert!(
        backfilled >= backfilled_alive && backfilled <= backfilled_alive + deleted.len(),
        "{backfilled} items modified, {backfilled_alive} expected (+ up to {} deleted later)",
        deleted.len()
    );
}

fn wait(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("a worker did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// MODIFY records of person items on the table's stream, by partition key.
async fn stream_modifications(
    local: &dyngen_runtime::local::DynamoDbLocal,
    table: &str,
) -> BTreeMap<String, usize> {
    let event = local.stream_event(table).await.unwrap();
    let mut out = BTreeMap::new();
    for r in event.records.iter().filter(|r| r.event_name == "MODIFY") {
        let keys: common::Item = r.change.keys.clone().into();
        if let Some(aws_sdk_dynamodb::types::AttributeValue::S(pk)) = keys.get("pk")
            && pk.starts_with("person#")
        {
            *out.entry(pk.clone()).or_insert(0) += 1;
        }
    }
    out
}

/// A code step shared by three processes, one killed with SIGKILL mid-pass: every item is
/// transformed exactly once (the step appends a mark that would show twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_a_code_step_one_is_killed_and_each_item_changes_once() {
    const N: usize = 2_000;
    let local = common::local();
    let client = local.client();
    let table = common::table("code-workers");
    let old = v1::Db::new(client.clone()).with_table_name(&table);
    old.migrate(&Default::default()).await.unwrap();
    let mut batch = old.batch_write();
    for i in 0..N {
        batch = batch.put(&v1::Person {
            born: None,
            ..person(i)
        });
    }
    batch.send().await.unwrap();
    let (tx, rx) = mpsc::channel();
    let mut workers = Workers(
        (0..3)
            .map(|w| spawn_with(local.endpoint(), &table, w, &tx, &["code"]))
            .collect(),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut progress: BTreeMap<usize, u64> = BTreeMap::new();
    while changed_by(&progress) < 2 {
        let (w, line) = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("two workers report progress");
        if let Some(rest) = line.strip_prefix("progress ") {
            progress.insert(w, rest.split(' ').nth(1).unwrap().parse().unwrap());
        }
    }
    workers.0[0].kill().unwrap();
    for child in &mut workers.0[1..] {
        let status = wait(child, Duration::from_secs(240));
        assert!(status.success(), "a surviving worker failed: {status}");
    }
    let db = dyngen_app_tests::migrate_v3::Db::new(client).with_table_name(&table);
    let mut people = Vec::new();
    for t in 0..5 {
        people.extend(db.people_of_team(&format!("t{t}")).all().await.unwrap());
    }
    assert_eq!(people.len(), N);
    for p in &people {
        let i: usize = p.id[1..].parse().unwrap();
        assert_eq!(p.name, format!("Person {i} [split]"), "{}", p.id);
        assert_eq!(p.first_name.as_deref(), Some("Person"));
    }
}
