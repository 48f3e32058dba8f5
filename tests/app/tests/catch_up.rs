//! The catch-up after a rolling deploy, against DynamoDB Local. v2 adds an index keyed by a
//! person's birth date and backfills it; v1 code, still running, then changes birth dates
//! (the item keeps the index keys of the old date), removes some (the item keeps keys of a
//! date it no longer has) and adds some (the item lacks the keys). `rerun` must repair
//! every one while new code keeps changing and deleting the same items: the rerun's
//! requests cross a proxy that adds latency, so new code's writes land between the
//! rerun's reading an item and its writing the item's keys.
//!
//! Afterwards every item's index keys are exactly what its stored date derives, every
//! write new code acknowledged is what the table holds (nothing overwritten by the
//! rerun), and nothing deleted came back.

mod common;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Rng;
use dyngen_app_tests::{migrate_v1 as v1, migrate_v2 as v2};
use dyngen_runtime::Date;
use fault_proxy::{FaultProxy, Faults};

const PEOPLE: usize = 160;
/// New-code writers, each owning the people whose number is its own modulo WRITERS.
const WRITERS: usize = 3;

type Model = Arc<Mutex<BTreeMap<String, Option<Date>>>>;

fn options() -> dyngen_runtime::migrate::Options {
    dyngen_runtime::migrate::Options {
        poll: Duration::from_millis(100),
        ..Default::default()
    }
}

fn id(i: usize) -> String {
    format!("p{i:04}")
}

fn date(r: &mut Rng, first_year: usize) -> Date {
    let year = (first_year + r.below(4)) as i32;
    Date::new(year, 1 + r.below(12) as u8, 1 + r.below(28) as u8).unwrap()
}

/// Deleted by new code during the rerun; nobody else touches them then.
fn deleted_during_rerun(i: usize) -> bool {
    i % 7 == 3
}

/// v1 creates the table and the people (a fifth without a birth date), v2 backfills its
/// index, then v1 changes, removes and adds birth dates. Returns what each person holds.
async fn deploy_then_old_code_writes(table: &str, r: &mut Rng) -> BTreeMap<String, Option<Date>> {
    let old = v1::Db::new(common::client()).with_table_name(table);
    old.migrate(&options()).await.unwrap();
    let mut model = BTreeMap::new();
    let mut batch = old.batch_write();
    for i in 0..PEOPLE {
        let born = (i % 5 != 0).then(|| date(r, 1980));
        let mut p = v1::Person::new(id(i), format!("t{}", i % 3), format!("P{i}"));
        p.born = born;
        batch = batch.put(&p);
        model.insert(id(i), born);
    }
    batch.send().await.unwrap();
    let new = v2::Db::new(common::client()).with_table_name(table);
    let report = new.migrate(&options()).await.unwrap();
    assert_eq!(report.applied, ["0002_add_index_gsi2"]);
    for i in 0..PEOPLE {
        let key = v1::PersonKey { id: id(i) };
        let born = match (i % 5, model[&id(i)]) {
            // A rename: the item keeps the keys of its old date.
            (1 | 2, Some(_)) => Some(date(r, 1990)),
            // The date removed: the item keeps keys of a date it no longer has.
            (3, Some(_)) => None,
            // A date added: the item has no keys.
            (0, None) => Some(date(r, 1990)),
            (_, unchanged) => unchanged,
        };
        let update = old.person().update(&key);
        let update = match born {
            Some(d) => update.set_born(d),
            None => update.remove_born(),
        };
        update.send().await.unwrap();
        model.insert(id(i), born);
    }
    model
}

/// The index keys a person with this birth date must hold (none without one).
fn wanted_keys(id: &str, born: Option<Date>) -> (Option<String>, Option<String>) {
    match born {
        Some(d) => (
            Some(format!("born#{}", d.year())),
            Some(format!("{d}#{id}")),
        ),
        None => (None, None),
    }
}

fn text(item: &common::Item, attr: &str) -> Option<String> {
    item.get(attr).and_then(|v| v.as_s().ok()).cloned()
}

async fn stored(table: &str, id: &str) -> Option<common::Item> {
    common::stored_item(&common::client(), table, &format!("person#{id}"), "person#").await
}

/// New code changing and removing the birth dates of its own people until told to stop,
/// recording each acknowledged write.
async fn new_code_writer(
    db: v2::Db,
    w: usize,
    model: Model,
    stop: Arc<AtomicBool>,
    n: Arc<AtomicUsize>,
) {
    let mut r = Rng(0x5eed + w as u64);
    let mine: Vec<usize> = (0..PEOPLE)
        .filter(|i| i % WRITERS == w && !deleted_during_rerun(*i))
        .collect();
    while !stop.load(Ordering::SeqCst) {
        let i = mine[r.below(mine.len())];
        let born = (r.below(5) != 0).then(|| date(&mut r, 2000));
        let update = db.person().update(&v2::PersonKey { id: id(i) });
        let update = match born {
            Some(d) => update.set_born(d),
            None => update.remove_born(),
        };
        update.send().await.unwrap();
        model.lock().unwrap().insert(id(i), born);
        n.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_catch_up_repairs_keys_old_code_left_stale_while_new_code_writes_and_deletes() {
    let table = common::table("repair");
    let mut r = Rng(common::env_or("DYNGEN_CATCH_UP_SEED", 11));
    let model: Model = Arc::new(Mutex::new(
        deploy_then_old_code_writes(&table, &mut r).await,
    ));
    let new = v2::Db::new(common::client()).with_table_name(&table);
    // Old code left keys stale: some renamed people are found under their old year.
    let after_old_code = model.lock().unwrap().clone();
    let stale = stale_people(&table, &after_old_code).await;
    assert!(
        stale.len() > PEOPLE / 4,
        "old code should have left stale keys: {stale:?}"
    );

    let faults = Faults {
        latency: Duration::from_millis(4),
        ..Faults::default()
    };
    let proxy = FaultProxy::start(common::local().endpoint(), faults, 1).await;
    let slow = common::local().client_with(|b| b.endpoint_url(&proxy.url));
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (db, model, stop, n) = (new.clone(), model.clone(), stop.clone(), writes.clone());
            tokio::spawn(new_code_writer(db, w, model, stop, n))
        })
        .collect();
    let deleter = {
        let db = new.clone();
        tokio::spawn(async move {
            let mut gone = BTreeSet::new();
            for i in (0..PEOPLE).filter(|i| deleted_during_rerun(*i)) {
                tokio::time::sleep(Duration::from_millis(15)).await;
                db.person()
                    .delete(&v2::PersonKey { id: id(i) })
                    .await
                    .unwrap();
                gone.insert(id(i));
            }
            gone
        })
    };
    let rerun_options = dyngen_runtime::migrate::Options {
        segments: 2,
        ..options()
    };
    let counts = catch_up(&slow, &table, &rerun_options).await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let gone = deleter.await.unwrap();
    let writes = writes.load(Ordering::SeqCst);
    assert!(
        writes > PEOPLE,
        "new code wrote only {writes} times during the rerun"
    );

    let model = model.lock().unwrap().clone();
    for (id, born) in &model {
        let item = stored(&table, id).await;
        if gone.contains(id) {
            assert!(item.is_none(), "{id} was deleted and came back: {item:?}");
            continue;
        }
        let item = item.unwrap_or_else(|| panic!("{id} is missing"));
        let stored_born = text(&item, "born");
        assert_eq!(
            stored_born,
            born.map(|d| d.to_string()),
            "{id}: a newer write was lost"
        );
        let keys = (text(&item, "gsi2pk"), text(&item, "gsi2sk"));
        assert_eq!(
            keys,
            wanted_keys(id, *born),
            "{id}: index keys do not match its date"
        );
    }
    let kept: BTreeMap<String, Option<Date>> = (model.into_iter())
        .filter(|(id, _)| !gone.contains(id))
        .collect();
    assert_eq!(stale_people(&table, &kept).await, Vec::<String>::new());
    assert!(
        counts.changed > 0 && counts.checked <= PEOPLE as u64,
        "{counts:?}"
    );
    // Every person of the index's entity was checked but those deleted before the pass
    // reached them.
    assert!(counts.checked >= (PEOPLE - gone.len()) as u64, "{counts:?}");

    // Idempotent: nothing is left to repair, and every item is checked again.
    let again = catch_up(new.client(), &table, &options()).await;
    assert_eq!((again.changed, again.skipped), (0, 0), "{again:?}");
    assert_eq!(again.checked, (PEOPLE - gone.len()) as u64);
}

/// The catch-up of v2's index: `rerun` of the migration that added it.
async fn catch_up(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    options: &dyngen_runtime::migrate::Options,
) -> dyngen_runtime::migrate::Counts {
    let migrations = v2::migrations().unwrap();
    dyngen_runtime::migrate::rerun(client, table, &migrations, "0002_add_index_gsi2", options)
        .await
        .unwrap()
}

/// People the index places wrongly: found in a year they were not born in, or missing
/// from the year they were, by the generated query.
async fn stale_people(table: &str, model: &BTreeMap<String, Option<Date>>) -> Vec<String> {
    let db = v2::Db::new(common::client()).with_table_name(table);
    let mut wrong = Vec::new();
    for year in (1980..1984).chain(1990..1994).chain(2000..2004) {
        let found: BTreeSet<String> = db
            .people_born_in(year)
            .all()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        let born: BTreeSet<String> = model
            .iter()
            .filter(|(_, b)| b.is_some_and(|d| d.year() == year))
            .map(|(id, _)| id.clone())
            .collect();
        wrong.extend(found.symmetric_difference(&born).cloned());
    }
    wrong
}

/// A segment whose page takes longer than the segment lease is still one worker's: its
/// claim is extended while the page is worked, so a worker that finishes its own segment
/// does not take it over and work the same items again. Each stale person is written
/// once and counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_longer_than_the_lease_is_worked_once() {
    let table = common::table("longpage");
    let mut r = Rng(common::env_or("DYNGEN_CATCH_UP_SEED", 11) + 1);
    let model = deploy_then_old_code_writes(&table, &mut r).await;
    let mut stale = 0;
    for (id, born) in &model {
        let item = stored(&table, id).await.unwrap();
        stale +=
            usize::from((text(&item, "gsi2pk"), text(&item, "gsi2sk")) != wanted_keys(id, *born));
    }
    assert!(stale > PEOPLE / 4, "only {stale} stale people");

    let faults = Faults {
        latency: Duration::from_millis(10),
        ..Faults::default()
    };
    let proxy = FaultProxy::start(common::local().endpoint(), faults, 2).await;
    let slow = common::local().client_with(|b| b.endpoint_url(&proxy.url));
    let lease = Duration::from_millis(300);
    let rerun_options = dyngen_runtime::migrate::Options {
        segments: 2,
        workers: Some(2),
        lease,
        ..options()
    };
    let started = std::time::Instant::now();
    let counts = catch_up(&slow, &table, &rerun_options).await;
    // The premise: each worker's single page outlasted several leases.
    assert!(started.elapsed() > 3 * lease, "{:?}", started.elapsed());
    let writes = proxy
        .stats
        .calls_matching("UpdateItem", "attribute_exists(#pk) AND #t = :t");
    assert_eq!(counts.changed as usize, stale, "{counts:?}");
    assert_eq!(writes, stale, "a stale person was written more than once");
    assert_eq!(counts.checked as usize, PEOPLE, "{counts:?}");
}
