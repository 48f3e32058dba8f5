//! Writes through a faulty network: a TCP proxy between the SDK and DynamoDB Local drops
//! requests before forwarding them, drops or resets answers after the write was applied,
//! and delays others (seeded). Eight workers run random operations through generated code
//! with the SDK's default retry policy, and every reported outcome is checked against what
//! the table shows:
//!
//! - each worker owns some users, so an in-memory model predicts every outcome exactly:
//!   `Ok` and the typed refusals must be the model's, and [`Error::Ambiguous`] is accepted
//!   only where the table cannot tell (the write would meet another write's token, or
//!   finds no item) or every retry lost its answer too, and then the table must show the
//!   write applied once or not at all;
//! - transactions (a user and a tag of it) are all or nothing, and reported as they were
//!   applied, although the SDK resends them after a lost answer;
//! - every worker also updates a few shared users, each update adding one point and
//!   appending its own tag to a list: afterwards each list holds no tag twice (nothing
//!   applied twice), every acknowledged tag, no refused one, and the points and version
//!   equal the tags applied.
//!
//! `DYNGEN_FAULT_OPS` (operations per worker, default 60) and `DYNGEN_FAULT_SEED` change
//! the run.

mod common;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;

use std::collections::{BTreeMap, BTreeSet};

use common::Rng;
use dyngen_app_tests::shared::*;
use dyngen_runtime::Error;
use fault_proxy::{FaultProxy, Faults};

const WORKERS: usize = 8;
const OWNED: usize = 3;
const HOT: usize = 3;

/// A user as the model knows it.
#[derive(Debug, Clone, PartialEq)]
struct Known {
    version: i64,
    points: i64,
    history: Vec<i64>,
    name: String,
}

impl Known {
    fn of(u: &User) -> Known {
        Known {
            version: u.v,
            points: u.points,
            history: u.history.clone().unwrap_or_default(),
            name: u.name.clone(),
        }
    }
}

/// How a shared user's update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Acknowledged,
    Refused,
    Ambiguous,
}

struct Worker {
    id: usize,
    rng: Rng,
    faulty: Db,
    direct: Db,
    model: BTreeMap<String, Option<Known>>,
    /// Shared users' updates: (user, tag, fate).
    hot: Vec<(String, i64, Fate)>,
    ambiguous: usize,
    next_tag: i64,
}

/// An ambiguous outcome because every retry lost its answer too: the table was never
/// asked, so it is accepted for any write (and the table then checked).
fn unanswered(e: &Error) -> bool {
    matches!(
        e,
        Error::Ambiguous {
            table_checked: false,
            ..
        }
    )
}

fn key(id: &str) -> UserKey {
    UserKey { id: id.into() }
}

impl Worker {
    fn tag(&mut self) -> i64 {
        self.next_tag += 1;
        (self.id as i64) * 1_000_000 + self.next_tag
    }

    /// The user as stored, read past the proxy.
    async fn stored(&self, id: &str) -> Option<Known> {
        let u = self.direct.user().get_consistent(&key(id)).await.unwrap();
        u.as_ref().map(Known::of)
    }

    /// After an ambiguous outcome: the table shows the write applied once (`applied`) or
    /// not at all (the model as it was); the model follows the table.
    async fn settle(&mut self, id: &str, applied: Option<Known>, what: &str) {
        self.ambiguous += 1;
        let now = self.stored(id).await;
        let before = self.model[id].clone();
        assert!(
            now == before || now == applied,
            "{what} of {id} was ambiguous, and the table shows neither outcome: {now:?}, before {before:?}, applied {applied:?}"
        );
        self.model.insert(id.to_string(), now);
    }

    async fn op(&mut self, i: usize) {
        if self.rng.below(100) < 35 {
            return self.hot_update().await;
        }
        let id = format!("w{}-{}", self.id, self.rng.below(OWNED));
        let what = self.rng.below(9);
        match what {
            0 => self.create(&id, i).await,
            8 => self.create_in_transaction(&id, i).await,
            1 => self.put(&id, i, false).await,
            2 => self.put(&id, i, true).await,
            3 | 4 => self.update(&id, false, false).await,
            5 => self.update(&id, true, false).await,
            6 => self.update(&id, true, true).await,
            _ => self.delete(&id).await,
        }
        let stored = self.stored(&id).await;
        assert_eq!(stored, self.model[&id], "after op {what} on {id}");
    }

    async fn create(&mut self, id: &str, i: usize) {
        let name = format!("created {i}");
        let r = self
            .faulty
            .user()
            .create(&User::new(id, "acme", &name))
            .await;
        let was = self.model[id].clone();
        match (&was, r) {
            (None, Ok(u)) => {
                assert_eq!((u.v, &u.name), (1, &name));
                self.model.insert(id.into(), Some(Known::of(&u)));
            }
            (Some(_), Err(Error::AlreadyExists { .. })) => {}
            (None, Err(e)) if unanswered(&e) => {
                let mut u = User::new(id, "acme", &name);
                u.v = 1;
                self.settle(id, Some(Known::of(&u)), "create").await;
            }
            // The item exists: the retry meets another write's token.
            (Some(_), Err(e)) if e.is_ambiguous() => self.settle(id, None, "create").await,
            (_, r) => panic!(
                "create of {id} (existing: {}) reported {r:?}",
                was.is_some()
            ),
        }
    }

    /// A transaction creating the user and a tag of it: both or neither, also when the
    /// SDK resends it (with the same idempotency token) after a lost answer.
    async fn create_in_transaction(&mut self, id: &str, i: usize) {
        let name = format!("transaction {i}");
        let tag = Tag {
            owner: id.to_string(),
            label: format!("t{i}"),
        };
        let tag_key = TagKey {
            owner: tag.owner.clone(),
            label: tag.label.clone(),
        };
        let r = self
            .faulty
            .transaction()
            .create(&User::new(id, "acme", &name))
            .create(&tag)
            .send()
            .await;
        let was = self.model[id].clone();
        let tagged = || async { self.direct.tag().get_consistent(&tag_key).await.unwrap() };
        match (&was, r) {
            (None, Ok(())) => {
                let stored = self.stored(id).await.expect("created");
                assert_eq!((stored.version, &stored.name), (1, &name));
                assert!(
                    tagged().await.is_some(),
                    "{id}: the tag of a done transaction"
                );
                self.model.insert(id.into(), Some(stored));
            }
            (Some(_), Err(Error::TransactionCanceled { .. })) => {
                assert!(
                    tagged().await.is_none(),
                    "{id}: a cancelled transaction's tag"
                );
            }
            (_, Err(e)) if e.is_ambiguous() => {
                assert!(!e.is_retry_safe());
                let applied = tagged().await.is_some();
                let mut created = User::new(id, "acme", &name);
                created.v = 1;
                let expected = if applied {
                    Some(Known::of(&created))
                } else {
                    was.clone()
                };
                self.ambiguous += 1;
                assert_eq!(self.stored(id).await, expected, "{id}: half a transaction");
                self.model.insert(id.into(), expected);
            }
            (_, r) => panic!(
                "transaction on {id} (existing: {}) reported {r:?}",
                was.is_some()
            ),
        }
    }

    async fn put(&mut self, id: &str, i: usize, stale: bool) {
        let was = self.model[id].clone();
        let mut value = User::new(id, "acme", format!("put {i}"));
        if let Some(k) = &was {
            value.v = if stale { k.version - 1 } else { k.version };
            value.points = k.points;
            value.history = Some(k.history.clone()).filter(|h| !h.is_empty());
        }
        let stale = stale && was.is_some();
        let r = self.faulty.user().put(&value).await;
        let applied = Known {
            version: value.v + 1,
            ..Known::of(&value)
        };
        match r {
            Ok(u) if !stale => {
                assert_eq!(Known::of(&u), applied);
                self.model.insert(id.into(), Some(applied));
            }
            Err(Error::VersionConflict { .. }) if stale => {}
            Err(e) if unanswered(&e) => self.settle(id, Some(applied), "put").await,
            // A stale put's retry meets another write's token: the table cannot tell.
            Err(e) if stale && e.is_ambiguous() => self.settle(id, None, "put").await,
            r => panic!("put of {id} (stale: {stale}, was {was:?}) reported {r:?}"),
        }
    }

    async fn update(&mut self, id: &str, versioned: bool, stale: bool) {
        let was = self.model[id].clone();
        let tag = self.tag();
        let mut u = self.faulty.user().update(&key(id)).add_points(2);
        let mut applied = was.clone();
        if let Some(k) = applied.as_mut() {
            k.points += 2;
            k.version += 1;
        }
        if versioned {
            let v = was.as_ref().map_or(1, |k| k.version) - i64::from(stale);
            u = u.expect_version(v).set_name(format!("tagged {tag}"));
            if let Some(k) = applied.as_mut() {
                k.name = format!("tagged {tag}");
            }
        } else {
            u = u.append_history(vec![tag]);
            if let Some(k) = applied.as_mut() {
                k.history.push(tag);
            }
        }
        let refused = was.is_none() || stale;
        match u.send().await {
            Ok(stored) if !refused => {
                assert_eq!(Some(Known::of(&stored)), applied);
                self.model.insert(id.into(), applied);
            }
            Err(Error::NotFound { .. }) if was.is_none() => {}
            Err(Error::VersionConflict { .. }) if stale && was.is_some() => {}
            // Accumulating updates only probe after a lost answer, and refused ones meet
            // another write's token (or no item): the table cannot tell.
            Err(e) if e.is_ambiguous() && (refused || !versioned || unanswered(&e)) => {
                assert_eq!(e.is_retry_safe(), versioned, "{e}");
                self.settle(id, applied, "update").await;
            }
            r => panic!(
                "update of {id} (versioned {versioned}, stale {stale}, was {was:?}) reported {r:?}"
            ),
        }
    }

    async fn delete(&mut self, id: &str) {
        let was = self.model[id].clone();
        match self.faulty.user().delete(&key(id)).await {
            Ok(old) => assert_eq!(old.as_ref().map(Known::of), was),
            // The retry found no item: deleted by the lost attempt, or never there.
            Err(e) if e.is_ambiguous() => {
                assert!(e.is_retry_safe());
                self.settle(id, None, "delete").await;
                return;
            }
            Err(e) => panic!("delete of {id} reported {e:?}"),
        }
        self.model.insert(id.into(), None);
    }

    /// One point and one tag on a shared user, with or without the version it read.
    async fn hot_update(&mut self) {
        let id = format!("hot{}", self.rng.below(HOT));
        let tag = self.tag();
        let versioned = self.rng.below(2) == 0;
        let mut u = self.faulty.user().update(&key(&id));
        if versioned {
            // Read through the faulty network too; reads are retried by the SDK.
            let read = loop {
                if let Ok(r) = self.faulty.user().get_consistent(&key(&id)).await {
                    break r;
                }
            };
            u = u.expect_version(read.expect("shared users exist").v);
        }
        let fate = match u.add_points(1).append_history(vec![tag]).send().await {
            Ok(_) => Fate::Acknowledged,
            Err(Error::VersionConflict { .. }) if versioned => Fate::Refused,
            Err(e) if e.is_ambiguous() => {
                assert_eq!(e.is_retry_safe(), versioned, "{e}");
                self.ambiguous += 1;
                Fate::Ambiguous
            }
            Err(e) => panic!("update of shared {id} reported {e:?}"),
        };
        self.hot.push((id, tag, fate));
    }
}

/// Each shared user's list holds every acknowledged tag, no refused one, nothing twice,
/// and its points and version count exactly the tags applied.
async fn check_shared_users(direct: &Db, log: &[(String, i64, Fate)]) {
    for h in 0..HOT {
        let id = format!("hot{h}");
        let u = direct
            .user()
            .get_consistent(&key(&id))
            .await
            .unwrap()
            .unwrap();
        let history = u.history.clone().unwrap_or_default();
        let applied: BTreeSet<i64> = history.iter().copied().collect();
        assert_eq!(
            applied.len(),
            history.len(),
            "a tag applied twice on {id}: {history:?}"
        );
        for (_, tag, fate) in log.iter().filter(|(k, ..)| *k == id) {
            match fate {
                Fate::Acknowledged => {
                    assert!(applied.contains(tag), "{id}: acknowledged {tag} missing")
                }
                Fate::Refused => assert!(!applied.contains(tag), "{id}: refused {tag} applied"),
                Fate::Ambiguous => {}
            }
        }
        let known: BTreeSet<i64> = log
            .iter()
            .filter(|(k, ..)| *k == id)
            .map(|(_, t, _)| *t)
            .collect();
        assert!(applied.is_subset(&known), "{id}: a tag nobody sent");
        assert_eq!(u.points, history.len() as i64, "{id}: points");
        assert_eq!(u.v, 1 + history.len() as i64, "{id}: version");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_reports_what_the_table_shows_through_a_faulty_network() {
    let seed: u64 = common::env_or("DYNGEN_FAULT_SEED", 0x0fa1_7ed5);
    let ops: usize = common::env_or("DYNGEN_FAULT_OPS", 60);
    let local = common::local();
    let direct = Db::new(common::client()).with_table_name(common::table("faults"));
    direct.create_table().await.unwrap();
    let faults = Faults {
        drop_before: 50,
        drop_answer: 50,
        reset_answer: 40,
        delay: 30,
        ..Faults::default()
    };
    let proxy = FaultProxy::start(local.endpoint(), faults, seed).await;
    // The SDK's default retry policy: nothing configured but the endpoint.
    let faulty = Db::new(local.client_with(|b| b.endpoint_url(&proxy.url)))
        .with_table_name(direct.table_name());
    for h in 0..HOT {
        let hot = User::new(format!("hot{h}"), "acme", "shared");
        direct.user().create(&hot).await.unwrap();
    }
    let mut tasks = Vec::new();
    for id in 0..WORKERS {
        let mut w = Worker {
            id,
            rng: Rng(seed ^ (id as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            faulty: faulty.clone(),
            direct: direct.clone(),
            model: (0..OWNED).map(|j| (format!("w{id}-{j}"), None)).collect(),
            hot: Vec::new(),
            ambiguous: 0,
            next_tag: 0,
        };
        tasks.push(tokio::spawn(async move {
            for i in 0..ops {
                w.op(i).await;
            }
            w
        }));
    }
    let mut log = Vec::new();
    let mut ambiguous = 0;
    for t in tasks {
        let w = t.await.unwrap();
        log.extend(w.hot);
        ambiguous += w.ambiguous;
    }
    check_shared_users(&direct, &log).await;
    let stats = &proxy.stats;
    println!(
        "{stats}; {ambiguous} ambiguous outcomes of {} operations",
        WORKERS * ops
    );
    assert!(
        stats.faults() >= WORKERS * ops / 20,
        "too few faults to test: {stats}"
    );
}

/// A batch whose connection fails for good after its first chunk: the error lists the
/// chunk written, the chunk whose answers were lost (written, as the table shows, but not
/// known to be), and the requests never sent.
#[tokio::test]
async fn a_batch_stopped_part_way_reports_what_was_written() {
    let local = common::local();
    let direct = Db::new(common::client()).with_table_name(common::table("batchfault"));
    direct.create_table().await.unwrap();
    let proxy = FaultProxy::start(local.endpoint(), Faults::lose_all_after(1), 7).await;
    let faulty = Db::new(local.client_with(|b| b.endpoint_url(&proxy.url)))
        .with_table_name(direct.table_name());
    let mut batch = faulty.batch_write();
    for i in 0..60 {
        batch = batch.put(&User::new(format!("b{i:02}"), "acme", "batched"));
    }
    let e = batch.send().await.unwrap_err();
    let Error::BatchInterrupted {
        written,
        uncertain,
        unsent,
        ..
    } = &e
    else {
        panic!("expected BatchInterrupted, got {e:?}");
    };
    assert_eq!((written.len(), uncertain.len(), unsent.len()), (25, 25, 10));
    assert!(e.is_ambiguous() && e.is_retry_safe());
    let id = |r: &aws_sdk_dynamodb::types::WriteRequest| {
        let item = r.put_request().unwrap().item();
        item["id"].as_s().unwrap().clone()
    };
    for (list, stored) in [(written, true), (uncertain, true), (unsent, false)] {
        for r in list {
            let found = direct.user().get_consistent(&key(&id(r))).await.unwrap();
            assert_eq!(found.is_some(), stored, "{}", id(r));
        }
    }
}
