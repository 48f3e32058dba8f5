//! The migration runner against DynamoDB Local: v1 → v2 adds an index over items written
//! by v1; concurrent runners; a crash in the middle of a backfill; edited and missing
//! migrations. Index creation uses `-delayTransientStatuses`, so it really takes time and
//! the runner's waiting is exercised.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dyngen_app_tests::{migrate_v1 as v1, migrate_v2 as v2};
use dyngen_runtime::local::{DynamoDbLocal, Options};

/// A second DynamoDB Local whose indexes take ~30 s to build, as on the service.
fn slow_local() -> &'static DynamoDbLocal {
    static SLOW: std::sync::OnceLock<DynamoDbLocal> = std::sync::OnceLock::new();
    SLOW.get_or_init(|| {
        DynamoDbLocal::start(Options {
            delay_transient_statuses: true,
        })
        .unwrap_or_else(|e| panic!("{e}"))
    })
}

fn fast_options() -> dyngen_runtime::migrate::Options {
    dyngen_runtime::migrate::Options {
        poll: Duration::from_millis(200),
        ..Default::default()
    }
}

fn person(i: usize, born: Option<(i32, u8, u8)>) -> v1::Person {
    v1::Person {
        id: format!("p{i:04}"),
        team: format!("t{}", i % 3),
        name: format!("Person {i}"),
        born: born.map(|(y, m, d)| dyngen_runtime::Date::new(y, m, d).unwrap()),
    }
}

/// Migrates with v1, writes people (a third without a birth date) and notes with v1's code.
async fn seed_v1(client: aws_sdk_dynamodb::Client, table: &str, n: usize) -> Vec<v1::Person> {
    let db = v1::Db::new(client).with_table_name(table);
    let report = db
        .migrate(&dyngen_runtime::migrate::Options {
            poll: Duration::from_millis(200),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(report.created_table);
    assert_eq!(report.applied, ["0001_create_table"]);
    let people: Vec<v1::Person> = (0..n)
        .map(|i| {
            person(
                i,
                (i % 3 != 0).then_some((
                    1980 + (i % 4) as i32,
                    1 + (i % 12) as u8,
                    1 + (i % 28) as u8,
                )),
            )
        })
        .collect();
    let mut batch = db.batch_write();
    for p in &people {
        batch = batch.put(p);
    }
    for i in 0..20 {
        batch = batch.put(&v1::Note {
            id: format!("n{i}"),
            text: "hello".into(),
        });
    }
    batch.send().await.unwrap();
    people
}

fn born_in(people: &[v1::Person], year: i32) -> Vec<String> {
    let mut ids: Vec<String> = people
        .iter()
        .filter(|p| p.born.is_some_and(|b| b.year() == year))
        .map(|p| p.id.clone())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn v1_to_v2_backfills_and_the_new_pattern_finds_old_items() {
    let table = common::table("mig");
    let people = seed_v1(slow_local().client(), &table, 60).await;

    let db = v2::Db::new(slow_local().client()).with_table_name(&table);
    let plan = dyngen_runtime::migrate::plan(db.client(), &table, &v2::migrations().unwrap())
        .await
        .unwrap();
    assert_eq!(plan, ["0002_add_index_gsi2"]);
    let report = db.migrate(&fast_options()).await.unwrap();
    assert_eq!(report.applied, ["0002_add_index_gsi2"]);
    assert_eq!(report.already_applied, 1);
    assert_eq!(
        report.backfilled,
        people.iter().filter(|p| p.born.is_some()).count() as u64
    );

    for year in 1980..1984 {
        let mut found: Vec<String> = db
            .people_born_in(year)
            .all()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        found.sort();
        assert_eq!(found, born_in(&people, year), "year {year}");
    }
    // Sparse: nobody without a birth date was given an index key.
    let raw = db
        .client()
        .get_item()
        .table_name(&table)
        .set_key(Some(v2::PersonKey { id: "p0000".into() }.to_key_item()))
        .send()
        .await
        .unwrap();
    assert!(!raw.item().unwrap().contains_key("gsi2pk"));

    // Rerunning is a no-op: one Query, nothing applied.
    let again = db.migrate(&fast_options()).await.unwrap();
    assert!(again.applied.is_empty());
    assert_eq!(again.already_applied, 2);
}

#[tokio::test]
async fn two_runners_at_once_apply_each_migration_exactly_once() {
    let table = common::table("race");
    seed_v1(slow_local().client(), &table, 30).await;
    let a = v2::Db::new(slow_local().client()).with_table_name(&table);
    let b = v2::Db::new(slow_local().client()).with_table_name(&table);
    let oa = dyngen_runtime::migrate::Options {
        owner: "runner-a".into(),
        ..fast_options()
    };
    let ob = dyngen_runtime::migrate::Options {
        owner: "runner-b".into(),
        ..fast_options()
    };
    let (ra, rb) = tokio::join!(a.migrate(&oa), b.migrate(&ob));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let mut applied: Vec<String> = ra.applied.iter().chain(&rb.applied).cloned().collect();
    applied.sort();
    assert_eq!(applied, ["0002_add_index_gsi2"], "a: {ra:?}, b: {rb:?}");
    assert_eq!(ra.backfilled + rb.backfilled, 20);

    // The ledger holds each migration once.
    let ledger = a
        .client()
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(
            ":p",
            aws_sdk_dynamodb::types::AttributeValue::S("#dyngen#migrations".into()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ledger.count(), 2);
}

#[tokio::test]
async fn a_runner_killed_mid_backfill_is_resumed_by_the_next_one() {
    let table = common::table("crash");
    let people = seed_v1(common::client(), &table, 900).await;
    let db = v2::Db::new(common::client()).with_table_name(&table);

    // Stop the first runner (by dropping its future, as a crash would) after its first
    // backfilled page; its lock stays behind and must expire.
    let progressed = Arc::new(AtomicU64::new(0));
    let seen = progressed.clone();
    let crashing = dyngen_runtime::migrate::Options {
        owner: "crashes".into(),
        lease: Duration::from_secs(2),
        segments: 4,
        page_size: Some(25),
        progress: Some(Arc::new(move |_| {
            seen.fetch_max(1, Ordering::SeqCst);
        })),
        ..fast_options()
    };
    let mut run = Box::pin(db.migrate(&crashing));
    loop {
        tokio::select! {
            r = &mut run => panic!("the first runner finished before it could be stopped: {r:?}"),
            _ = tokio::time::sleep(Duration::from_millis(5)) => {
                if progressed.load(Ordering::SeqCst) > 0 { break; }
            }
        }
    }
    drop(run);
    assert_eq!(
        dyngen_runtime::migrate::plan(db.client(), &table, &v2::migrations().unwrap())
            .await
            .unwrap(),
        ["0002_add_index_gsi2"]
    );
    // The crash left the backfill half done.
    let with_key = count_with(db.client(), &table, "gsi2pk").await;
    let eligible = people.iter().filter(|p| p.born.is_some()).count();
    assert!(
        with_key > 0 && with_key < eligible,
        "{with_key} of {eligible} backfilled at the crash"
    );

    let report = db
        .migrate(&dyngen_runtime::migrate::Options {
            owner: "finisher".into(),
            segments: 4,
            ..fast_options()
        })
        .await
        .unwrap();
    assert_eq!(report.applied, ["0002_add_index_gsi2"]);
    // Every person with a birth date is in the index exactly once, with the right keys.
    for year in 1980..1984 {
        let mut found: Vec<String> = db
            .people_born_in(year)
            .all()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        let before = found.len();
        found.sort();
        found.dedup();
        assert_eq!(before, found.len(), "duplicates in year {year}");
        assert_eq!(found, born_in(&people, year), "year {year}");
    }
}

/// Items that have an attribute (a test-only Scan).
async fn count_with(client: &aws_sdk_dynamodb::Client, table: &str, attr: &str) -> usize {
    let mut n = 0;
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .filter_expression("attribute_exists(#a)")
            .expression_attribute_names("#a", attr)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        n += page.items().len();
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return n;
        }
    }
}

#[tokio::test]
async fn an_edited_or_missing_migration_is_refused() {
    let table = common::table("edit");
    seed_v1(common::client(), &table, 3).await;
    let client = common::client();

    let mut edited = v1::migrations().unwrap();
    edited[0].checksum = "0000".into();
    match dyngen_runtime::migrate::run(
        &client,
        &table,
        &edited,
        &dyngen_runtime::migrate::Options::default(),
    )
    .await
    {
        Err(dyngen_runtime::migrate::MigrateError::Edited { name, .. }) => {
            assert_eq!(name, "0001_create_table")
        }
        other => panic!("expected Edited, got {other:?}"),
    }

    // v2 applies 0002. v1's code, still running during the deploy (or after a rollback),
    // starts normally: 0002 is newer code's. A strict runner refuses instead.
    v2::Db::new(client.clone())
        .with_table_name(&table)
        .migrate(&fast_options())
        .await
        .unwrap();
    let old_code = v1::Db::new(client).with_table_name(&table);
    let report = old_code
        .migrate(&dyngen_runtime::migrate::Options::default())
        .await
        .unwrap();
    assert_eq!(report.newer_applied, ["0002_add_index_gsi2"]);
    assert!(report.applied.is_empty());
    assert_eq!(report.already_applied, 1);
    let strict = dyngen_runtime::migrate::Options {
        strict: true,
        ..Default::default()
    };
    match old_code.migrate(&strict).await {
        Err(dyngen_runtime::migrate::MigrateError::Missing { name }) => {
            assert_eq!(name, "0002_add_index_gsi2")
        }
        other => panic!("expected Missing, got {other:?}"),
    }
}

#[tokio::test]
async fn ttl_is_reconciled_on_a_table_that_already_exists() {
    use dyngen_app_tests::write_model;
    let client = common::client();
    let table = common::table("ttl");
    // The table exists before the first migration runs, without TTL (made by hand, or a
    // crash between CreateTable and UpdateTimeToLive).
    let migrations = write_model::migrations().unwrap();
    let dyngen_runtime::migrate::Step::CreateTable(def) = &migrations[0].steps[0] else {
        panic!("the first step creates the table");
    };
    let mut without_ttl = def.clone();
    without_ttl.ttl_attribute = None;
    dyngen_runtime::migrate::create_table(&client, &table, &without_ttl, &fast_options())
        .await
        .unwrap();
    let ttl = |client: aws_sdk_dynamodb::Client, table: String| async move {
        let d = client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .unwrap();
        let d = d.time_to_live_description().cloned();
        (
            d.as_ref().and_then(|d| d.time_to_live_status().cloned()),
            d.and_then(|d| d.attribute_name().map(str::to_string)),
        )
    };
    assert_ne!(
        ttl(client.clone(), table.clone()).await.0,
        Some(aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled)
    );
    let report = write_model::Db::new(client.clone())
        .with_table_name(&table)
        .migrate(&fast_options())
        .await
        .unwrap();
    // The design's later migrations (a multi-attribute index, a unique constraint, two
    // more indexes) apply after the first one reconciled the table.
    assert_eq!(
        report.applied,
        [
            "0001_create_table",
            "0002_add_index_byQueue",
            "0003_add_unique_ticket_email",
            "0004_add_index_gsi5",
            "0005_add_index_gsi6",
        ]
    );
    assert!(!report.created_table);
    let (status, attribute) = ttl(client.clone(), table.clone()).await;
    assert_eq!(
        status,
        Some(aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled)
    );
    assert_eq!(attribute.as_deref(), Some("expiresAt"));
}

#[test]
fn the_runner_renders_keys_exactly_as_the_generated_code() {
    let backfill = v2::migrations()
        .unwrap()
        .into_iter()
        .flat_map(|m| m.steps)
        .find_map(|s| match s {
            dyngen_runtime::migrate::Step::Backfill(b) => Some(b),
            _ => None,
        })
        .unwrap();
    let keys = &backfill.entities[0].set;
    let ids = ["a", "#", "%23", "x#y%z", "ünï", "", "p#1#"];
    for (i, id) in ids.iter().enumerate() {
        let p = v2::Person {
            id: id.to_string(),
            team: "t".into(),
            name: "n".into(),
            born: Some(dyngen_runtime::Date::new(1999 + i as i32, 2, 28).unwrap()),
        };
        let item = p.to_item();
        for k in keys {
            assert_eq!(
                dyngen_runtime::migrate::render(k, &item).as_ref(),
                item.get(&k.attribute),
                "{} for id {id:?}",
                k.attribute
            );
        }
    }
    let unborn = v2::Person {
        id: "u".into(),
        team: "t".into(),
        name: "n".into(),
        born: None,
    }
    .to_item();
    assert!(
        keys.iter()
            .all(|k| dyngen_runtime::migrate::render(k, &unborn).is_none()),
        "sparse: no key without its input"
    );
}

#[tokio::test]
async fn a_refused_table_says_what_dynamodb_said() {
    let err = dyngen_app_tests::write_model::Db::new(common::client())
        .with_table_name("ab")
        .migrate(&fast_options())
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("ValidationException"), "{shown}");
    assert!(!shown.contains("unhandled error"), "{shown}");
    assert!(
        shown.len() > "DynamoDB ValidationException: ".len() + 10,
        "{shown}"
    );
}

#[tokio::test]
async fn the_lease_is_renewed_while_an_index_builds() {
    let table = common::table("lease");
    seed_v1(slow_local().client(), &table, 5).await;
    let a = v2::Db::new(slow_local().client()).with_table_name(&table);
    // A lease far shorter than the index build: only renewal during the wait keeps it.
    let holder = dyngen_runtime::migrate::Options {
        owner: "runner-a".into(),
        lease: Duration::from_millis(1500),
        ..fast_options()
    };
    let challenger = dyngen_runtime::migrate::Options {
        owner: "runner-b".into(),
        lock_wait: Duration::from_millis(1500),
        ..fast_options()
    };
    let b = v2::Db::new(slow_local().client()).with_table_name(&table);
    let late = async {
        // Well past runner A's first lease.
        tokio::time::sleep(Duration::from_secs(4)).await;
        b.migrate(&challenger).await
    };
    let (ra, rb) = tokio::join!(a.migrate(&holder), late);
    assert_eq!(ra.unwrap().applied, ["0002_add_index_gsi2"]);
    match rb {
        Err(dyngen_runtime::migrate::MigrateError::LockTimeout { holder }) => {
            assert!(holder.contains("runner-a"), "{holder}")
        }
        // The index takes ~30 s to build here, so B always meets A's lease.
        other => panic!("runner B should have found the lock held: {other:?}"),
    }
}

#[tokio::test]
async fn a_wait_that_lasts_too_long_stops_and_the_next_run_resumes() {
    let table = common::table("timeout");
    seed_v1(slow_local().client(), &table, 5).await;
    let db = v2::Db::new(slow_local().client()).with_table_name(&table);
    let impatient = dyngen_runtime::migrate::Options {
        wait_timeout: Duration::from_millis(500),
        ..fast_options()
    };
    match db.migrate(&impatient).await {
        Err(e @ dyngen_runtime::migrate::MigrateError::WaitTimeout { .. }) => {
            assert!(e.to_string().contains("ACTIVE"), "{e}")
        }
        other => panic!("expected WaitTimeout, got {other:?}"),
    }
    let report = db.migrate(&fast_options()).await.unwrap();
    assert_eq!(report.applied, ["0002_add_index_gsi2"]);
}

#[tokio::test]
async fn a_catch_up_rerun_fixes_items_old_code_wrote_after_the_backfill() {
    let table = common::table("catchup");
    seed_v1(common::client(), &table, 6).await;
    let new_code = v2::Db::new(common::client()).with_table_name(&table);
    new_code.migrate(&fast_options()).await.unwrap();
    // An old instance, still running during the deploy, writes a person the backfill
    // never saw: v1's code knows nothing of gsi2.
    let old_code = v1::Db::new(common::client()).with_table_name(&table);
    old_code
        .person()
        .create(&person(900, Some((1981, 5, 5))))
        .await
        .unwrap();
    let found = |db: v2::Db| async move {
        db.people_born_in(1981)
            .all()
            .await
            .unwrap()
            .into_iter()
            .any(|p| p.id == "p0900")
    };
    assert!(
        !found(new_code.clone()).await,
        "the late item is not in the index yet"
    );
    let migrations = v2::migrations().unwrap();
    let fixed = dyngen_runtime::migrate::rerun(
        new_code.client(),
        &table,
        &migrations,
        "0002_add_index_gsi2",
        &fast_options(),
    )
    .await
    .unwrap();
    assert_eq!(fixed.changed, 1, "only the late item lacked the keys");
    // Every person was checked: 6 seeded, the late one.
    assert_eq!(fixed.checked, 7);
    assert_eq!(fixed.skipped, 0);
    assert!(found(new_code.clone()).await);
    // Idempotent: a second catch-up finds nothing to do.
    let again = dyngen_runtime::migrate::rerun(
        new_code.client(),
        &table,
        &migrations,
        "0002_add_index_gsi2",
        &fast_options(),
    )
    .await
    .unwrap();
    assert_eq!(again.changed, 0);
    // A migration not applied yet cannot be rerun.
    let fresh = common::table("catchup2");
    seed_v1(common::client(), &fresh, 1).await;
    assert!(
        dyngen_runtime::migrate::rerun(
            new_code.client(),
            &fresh,
            &migrations,
            "0002_add_index_gsi2",
            &fast_options()
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn a_runner_that_lost_its_lease_stops_within_a_lease() {
    let table = common::table("fence");
    seed_v1(common::client(), &table, 30).await;
    let db = v2::Db::new(common::client()).with_table_name(&table);
    // After the first page, another runner takes the lock over (as when this runner's
    // lease lapsed during a long pause).
    let steal_table = table.clone();
    let stolen = Arc::new(AtomicU64::new(0));
    let seen = stolen.clone();
    let stolen_at = Arc::new(std::sync::Mutex::new(None));
    let at = stolen_at.clone();
    let progress: dyngen_runtime::migrate::Progress =
        Arc::new(move |_: &dyngen_runtime::migrate::PassProgress<'_>| {
            if seen.fetch_add(1, Ordering::SeqCst) > 0 {
                return;
            }
            *at.lock().unwrap() = Some(std::time::Instant::now());
            let table = steal_table.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Runtime::new().unwrap();
                rt.block_on(async {
                    common::client()
                        .update_item()
                        .table_name(&table)
                        .key(
                            "pk",
                            aws_sdk_dynamodb::types::AttributeValue::S("#dyngen#lock".into()),
                        )
                        .key(
                            "sk",
                            aws_sdk_dynamodb::types::AttributeValue::S("#lock".into()),
                        )
                        .update_expression("SET leaseVersion = :v, leaseExpires = :e")
                        .expression_attribute_values(
                            ":v",
                            aws_sdk_dynamodb::types::AttributeValue::S("thief#1".into()),
                        )
                        .expression_attribute_values(
                            ":e",
                            aws_sdk_dynamodb::types::AttributeValue::N("0".into()),
                        )
                        .send()
                        .await
                        .unwrap();
                })
            })
            .join()
            .unwrap();
        });
    // The runner renews (and so learns of a takeover) once a third of its lease has
    // passed; every ledger and pass write is fenced by the lock.
    let lease = Duration::from_millis(900);
    let paged = dyngen_runtime::migrate::Options {
        page_size: Some(2),
        progress: Some(progress),
        lease,
        ..fast_options()
    };
    match db.migrate(&paged).await {
        Err(dyngen_runtime::migrate::MigrateError::LeaseLost) => {}
        other => panic!("expected LeaseLost, got {other:?}"),
    }
    let noticed = stolen_at.lock().unwrap().unwrap().elapsed();
    assert!(
        noticed < lease,
        "it stopped {noticed:?} after the takeover, more than a lease"
    );
    // Not recorded; the next run (the stolen lease has expired) completes it, once.
    let report = db.migrate(&fast_options()).await.unwrap();
    assert_eq!(report.applied, ["0002_add_index_gsi2"]);
    for year in 1980..1984 {
        assert!(!db.people_born_in(year).all().await.unwrap().is_empty());
    }
}
