//! The in-memory model of the invariant test: what every operation must do, and the checks
//! of the table and the access patterns against it.

#[path = "checks.rs"]
mod checks;
#[path = "links.rs"]
mod links;
#[path = "ops.rs"]
mod ops;
#[path = "tickets.rs"]
mod tickets;

use std::collections::{BTreeMap, BTreeSet};

use dyngen_app_tests::write_model::*;
use dyngen_runtime::{Date, Error, Timestamp};

use ops::*;
pub use ops::{Op, generate};

/// How an operation ended, as the model predicts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    AlreadyExists,
    NotFound,
    VersionConflict,
    KeyInputMismatch,
    EmptyUpdate,
    /// A transaction cancelled by a failed condition.
    Canceled,
}

fn outcome<T>(r: &Result<T, Error>) -> Result<Outcome, String> {
    Ok(match r {
        Ok(_) => Outcome::Ok,
        Err(Error::AlreadyExists { .. }) => Outcome::AlreadyExists,
        Err(Error::NotFound { .. }) => Outcome::NotFound,
        Err(Error::VersionConflict { .. }) => Outcome::VersionConflict,
        Err(Error::KeyInputMismatch { .. }) => Outcome::KeyInputMismatch,
        Err(Error::EmptyUpdate { .. }) => Outcome::EmptyUpdate,
        Err(Error::TransactionCanceled { reasons })
            if reasons.iter().all(|r| {
                r.code.is_none() || r.code.as_deref() == Some("ConditionalCheckFailed")
            }) =>
        {
            Outcome::Canceled
        }
        Err(e) => return Err(format!("unexpected error: {e}")),
    })
}

/// In a transaction, a failed condition cancels the whole transaction.
fn in_tx(o: Outcome, tx: bool) -> Outcome {
    match o {
        Outcome::NotFound
        | Outcome::VersionConflict
        | Outcome::KeyInputMismatch
        | Outcome::AlreadyExists
            if tx =>
        {
            Outcome::Canceled
        }
        o => o,
    }
}

fn date(i: usize) -> Date {
    let (y, m, d) = DATES[i];
    Date::new(y, m, d).expect("a real date")
}

fn seconds(s: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_900_000_000_000 + s * 1000).expect("in range")
}

fn set(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// A stored value's maintained attributes against the one before it.
fn check_stamps(
    what: &str,
    before: Option<(Timestamp, Timestamp, i64)>,
    after: (Timestamp, Timestamp, i64),
    new_version: i64,
) -> Result<(), String> {
    let (created, updated, version) = after;
    match before {
        Some((c, u, v)) => {
            if created != c {
                return Err(format!("{what}: createdAt changed from {c} to {created}"));
            }
            if updated <= u {
                return Err(format!(
                    "{what}: updatedAt did not move ({u} then {updated})"
                ));
            }
            if version != v + 1 {
                return Err(format!(
                    "{what}: version {v} became {version}, not {}",
                    v + 1
                ));
            }
        }
        None => {
            if version != new_version {
                return Err(format!(
                    "{what}: new item has version {version}, not {new_version}"
                ));
            }
            if updated < created {
                return Err(format!(
                    "{what}: updatedAt {updated} before createdAt {created}"
                ));
            }
        }
    }
    Ok(())
}

pub struct World {
    db: Db,
    repos: BTreeMap<(usize, usize), Repo>,
    tasks: BTreeMap<(usize, usize), Task>,
    links: BTreeMap<(usize, usize), Timestamp>,
    /// The teams and accounts that exist: a link requires both of its ends.
    teams: BTreeSet<usize>,
    accounts: BTreeSet<usize>,
    sessions: BTreeMap<usize, Session>,
    /// By (owner, index into `tickets::NUMBERS`).
    tickets: BTreeMap<(usize, usize), Ticket>,
}

fn stamps_of_repo(r: &Repo) -> (Timestamp, Timestamp, i64) {
    (r.created_at, r.updated_at, r.version)
}

fn stamps_of_task(t: &Task) -> (Timestamp, Timestamp, i64) {
    (t.created_at, t.updated_at, t.version)
}

fn repo_key(o: usize, n: usize) -> RepoKey {
    RepoKey {
        owner: OWNERS[o].into(),
        name: REPOS[n].into(),
    }
}

fn task_key(o: usize, id: usize) -> TaskKey {
    TaskKey {
        owner: OWNERS[o].into(),
        id: TASKS[id].into(),
    }
}

fn expect(op: &Op, want: Outcome, got: Outcome) -> Result<(), String> {
    if want == got {
        Ok(())
    } else {
        Err(format!("{op:?}: expected {want:?}, got {got:?}"))
    }
}

impl World {
    pub async fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        let db = Db::new(client).with_table_name(table);
        db.create_table().await.expect("table created");
        World {
            db,
            repos: BTreeMap::new(),
            tasks: BTreeMap::new(),
            links: BTreeMap::new(),
            teams: BTreeSet::new(),
            accounts: BTreeSet::new(),
            sessions: BTreeMap::new(),
            tickets: BTreeMap::new(),
        }
    }

    pub async fn apply(&mut self, op: &Op) -> Result<(), String> {
        match op {
            Op::RepoCreate { .. } | Op::RepoPut { .. } | Op::RepoTxPut { .. } => {
                self.repo_write(op).await
            }
            Op::RepoUpdate { .. } => self.repo_update(op).await,
            Op::RepoDelete { o, n, tx } => {
                let before = self.repos.remove(&(*o, *n));
                if *tx {
                    let r = self.db.transaction().delete(&repo_key(*o, *n)).send().await;
                    expect(op, Outcome::Ok, outcome(&r)?)
                } else {
                    let old = self
                        .db
                        .repo()
                        .delete(&repo_key(*o, *n))
                        .await
                        .map_err(|e| e.to_string())?;
                    if old != before {
                        return Err(format!(
                            "{op:?}: delete returned {old:?}, the model had {before:?}"
                        ));
                    }
                    Ok(())
                }
            }
            Op::TaskCreate { .. } | Op::TaskPut { .. } => self.task_write(op).await,
            Op::TaskUpdate { .. } => self.task_update(op).await,
            Op::TaskBatchPut { tasks } => self.task_batch(op, tasks).await,
            Op::TaskDelete { o, id } => {
                let before = self.tasks.remove(&(*o, *id));
                let old = self
                    .db
                    .task()
                    .delete(&task_key(*o, *id))
                    .await
                    .map_err(|e| e.to_string())?;
                if old != before {
                    return Err(format!(
                        "{op:?}: delete returned {old:?}, the model had {before:?}"
                    ));
                }
                Ok(())
            }
            Op::Link { .. } | Op::Unlink { .. } | Op::End { .. } => self.link(op).await,
            Op::SessionCreate { .. } | Op::SessionTtl { .. } => self.session(op).await,
            Op::Ticket { o, number, op } => self.ticket(*o, *number, op).await,
        }
    }

    async fn repo_write(&mut self, op: &Op) -> Result<(), String> {
        let (o, n) = match op {
            Op::RepoCreate { o, n, .. } | Op::RepoPut { o, n, .. } | Op::RepoTxPut { o, n, .. } => {
                (*o, *n)
            }
            _ => unreachable!(),
        };
        let before = self.repos.get(&(o, n)).cloned();
        let claimed = |v: &Version| match (v, &before) {
            (Version::Current, Some(b)) => b.version,
            (Version::Current, None) => 0,
            (Version::Stale, Some(b)) => b.version + 2,
            (Version::Stale, None) => 5,
        };
        let mut value = Repo {
            owner: OWNERS[o].into(),
            name: REPOS[n].into(),
            description: None,
            topics: BTreeSet::new(),
            stars: 0,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            version: 0,
        };
        let (want, new_version, after) = match op {
            Op::RepoCreate { description, .. } => {
                value.description = description.map(str::to_string);
                let want = if before.is_some() {
                    Outcome::AlreadyExists
                } else {
                    Outcome::Ok
                };
                let r = self.db.repo().create(&value).await;
                (want, 1, r.map(Some))
            }
            Op::RepoPut {
                description,
                version,
                ..
            } => {
                value.description = description.map(str::to_string);
                value.version = claimed(version);
                let stale = before.is_some() && *version == Version::Stale;
                let want = if stale {
                    Outcome::VersionConflict
                } else {
                    Outcome::Ok
                };
                let r = self.db.repo().put(&value).await;
                (want, value.version + 1, r.map(Some))
            }
            Op::RepoTxPut {
                stars,
                version,
                right_created,
                ..
            } => {
                if let Some(b) = &before {
                    value.description = b.description.clone();
                    value.topics = b.topics.clone();
                }
                value.stars = *stars;
                value.version = claimed(version);
                value.created_at = match (&before, right_created) {
                    (Some(b), true) => b.created_at,
                    (None, true) => Timestamp::from_unix_millis(1_577_836_800_000).expect("2020"),
                    (_, false) => Timestamp::UNIX_EPOCH,
                };
                // The stored createdAt must be the value's: it feeds index keys.
                let fails = before.as_ref().is_some_and(|b| {
                    *version == Version::Stale || b.created_at != value.created_at
                });
                let want = if fails {
                    Outcome::Canceled
                } else {
                    Outcome::Ok
                };
                let r = self.db.transaction().put(&value).send().await;
                (want, value.version + 1, r.map(|()| None))
            }
            _ => unreachable!(),
        };
        expect(op, want, outcome(&after)?)?;
        let Ok(after) = after else { return Ok(()) };
        let after = match after {
            Some(a) => a,
            None => self.read_repo(o, n).await?,
        };
        let what = format!("{op:?}");
        check_stamps(
            &what,
            before.as_ref().map(stamps_of_repo),
            stamps_of_repo(&after),
            new_version,
        )?;
        if matches!(op, Op::RepoTxPut { .. })
            && before.is_none()
            && after.created_at != value.created_at
        {
            return Err(format!(
                "{what}: a new item keeps the transaction put's createdAt"
            ));
        }
        // The data attributes are the value's; the maintained ones were checked above.
        let mut expected = value;
        expected.created_at = after.created_at;
        expected.updated_at = after.updated_at;
        expected.version = after.version;
        if expected != after {
            return Err(format!("{what}: stored {after:?}, expected {expected:?}"));
        }
        self.repos.insert((o, n), after);
        Ok(())
    }

    async fn read_repo(&self, o: usize, n: usize) -> Result<Repo, String> {
        self.db
            .repo()
            .get_consistent(&repo_key(o, n))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "a written repo is missing".to_string())
    }

    async fn read_task(&self, o: usize, id: usize) -> Result<Task, String> {
        self.db
            .task()
            .get_consistent(&task_key(o, id))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "a written task is missing".to_string())
    }

    async fn repo_update(&mut self, op: &Op) -> Result<(), String> {
        let Op::RepoUpdate {
            o,
            n,
            change,
            version,
            tx,
        } = op
        else {
            unreachable!()
        };
        let before = self.repos.get(&(*o, *n)).cloned();
        let mut u = self.db.repo().update(&repo_key(*o, *n));
        let mut next = before.clone();
        let words = |w: &[&str]| set(w);
        match change {
            RepoChange::SetDescription(d) => {
                u = u.set_description(d.to_string());
                next.iter_mut()
                    .for_each(|r| r.description = Some(d.to_string()));
            }
            RepoChange::RemoveDescription => {
                u = u.remove_description();
                next.iter_mut().for_each(|r| r.description = None);
            }
            RepoChange::AddStars(d) => {
                u = u.add_stars(*d);
                next.iter_mut().for_each(|r| r.stars += d);
            }
            RepoChange::SetStars(s) => {
                u = u.set_stars(*s);
                next.iter_mut().for_each(|r| r.stars = *s);
            }
            RepoChange::AddTopics(t) => {
                u = u.add_to_topics(words(t));
                next.iter_mut().for_each(|r| r.topics.extend(words(t)));
            }
            RepoChange::RemoveTopics(t) => {
                u = u.remove_from_topics(words(t));
                next.iter_mut()
                    .for_each(|r| r.topics.retain(|x| !t.contains(&x.as_str())));
            }
            RepoChange::SetTopics(t) => {
                u = u.set_topics(words(t));
                next.iter_mut().for_each(|r| r.topics = words(t));
            }
            RepoChange::DescriptionTwice(a, b) => {
                u = u
                    .set_description(a.to_string())
                    .set_description(b.to_string());
                next.iter_mut()
                    .for_each(|r| r.description = Some(b.to_string()));
            }
            RepoChange::Nothing => {}
        }
        let stored_version = before.as_ref().map_or(0, |b| b.version);
        if let Some(v) = version {
            let claim = if *v == Version::Current {
                stored_version
            } else {
                stored_version + 3
            };
            u = u.expect_version(claim);
        }
        let want = if *change == RepoChange::Nothing {
            Outcome::EmptyUpdate
        } else if before.is_none() {
            in_tx(Outcome::NotFound, *tx)
        } else if *version == Some(Version::Stale) {
            in_tx(Outcome::VersionConflict, *tx)
        } else {
            Outcome::Ok
        };
        let after = if *tx {
            let r = self.db.transaction().update(u).send().await;
            expect(op, want, outcome(&r)?)?;
            if r.is_err() {
                return Ok(());
            }
            self.read_repo(*o, *n).await?
        } else {
            let r = u.send().await;
            expect(op, want, outcome(&r)?)?;
            let Ok(a) = r else { return Ok(()) };
            a
        };
        let (Some(before), Some(mut expected)) = (before, next) else {
            return Err(format!("{op:?}: an update of a missing item applied"));
        };
        check_stamps(
            &format!("{op:?}"),
            Some(stamps_of_repo(&before)),
            stamps_of_repo(&after),
            0,
        )?;
        expected.updated_at = after.updated_at;
        expected.version = after.version;
        if expected != after {
            return Err(format!("{op:?}: stored {after:?}, expected {expected:?}"));
        }
        self.repos.insert((*o, *n), after);
        Ok(())
    }

    async fn task_write(&mut self, op: &Op) -> Result<(), String> {
        let (o, id) = match op {
            Op::TaskCreate { o, id, .. } | Op::TaskPut { o, id, .. } => (*o, *id),
            _ => unreachable!(),
        };
        let before = self.tasks.get(&(o, id)).cloned();
        let mut value = Task {
            owner: OWNERS[o].into(),
            id: TASKS[id].into(),
            status: TaskStatus::Todo,
            due: None,
            award: None,
            labels: BTreeSet::new(),
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            version: 0,
        };
        let (want, new_version, r) = match op {
            Op::TaskCreate {
                status, due, award, ..
            } => {
                value.status = STATUSES[*status];
                value.due = due.map(date);
                value.award = award.map(|a| AWARDS[a].to_string());
                let want = if before.is_some() {
                    Outcome::AlreadyExists
                } else {
                    Outcome::Ok
                };
                (want, 1, self.db.task().create(&value).await)
            }
            Op::TaskPut {
                due,
                award,
                version,
                ..
            } => {
                value.status = before.as_ref().map_or(TaskStatus::Todo, |b| b.status);
                value.due = due.map(date);
                value.award = award.map(|a| AWARDS[a].to_string());
                value.version = match (version, &before) {
                    (Version::Current, Some(b)) => b.version,
                    (Version::Current, None) => 0,
                    (Version::Stale, Some(b)) => b.version + 2,
                    (Version::Stale, None) => 4,
                };
                let stale = before.is_some() && *version == Version::Stale;
                let want = if stale {
                    Outcome::VersionConflict
                } else {
                    Outcome::Ok
                };
                (want, value.version + 1, self.db.task().put(&value).await)
            }
            _ => unreachable!(),
        };
        expect(op, want, outcome(&r)?)?;
        let Ok(after) = r else { return Ok(()) };
        self.settle_task(op, (o, id), before, after, value, new_version)
    }

    fn settle_task(
        &mut self,
        op: &Op,
        key: (usize, usize),
        before: Option<Task>,
        after: Task,
        mut expected: Task,
        new_version: i64,
    ) -> Result<(), String> {
        let what = format!("{op:?}");
        check_stamps(
            &what,
            before.as_ref().map(stamps_of_task),
            stamps_of_task(&after),
            new_version,
        )?;
        expected.created_at = after.created_at;
        expected.updated_at = after.updated_at;
        expected.version = after.version;
        if expected != after {
            return Err(format!("{what}: stored {after:?}, expected {expected:?}"));
        }
        self.tasks.insert(key, after);
        Ok(())
    }

    async fn task_update(&mut self, op: &Op) -> Result<(), String> {
        let Op::TaskUpdate {
            o,
            id,
            change,
            stamped,
            tx,
        } = op
        else {
            unreachable!()
        };
        let before = self.tasks.get(&(*o, *id)).cloned();
        let mut u = self.db.task().update(&task_key(*o, *id));
        let mut next = before.clone();
        let stored_status = before.as_ref().map_or(TaskStatus::Todo, |b| b.status);
        // Every update rebuilds gsi6 (status, update time): the status setter and `set_due`
        // (which takes the status for gsi3) give the status; other changes name it.
        let mut inputs_right = match change {
            TaskChange::Status(..) | TaskChange::Due(..) => true,
            _ => {
                let given = match stamped {
                    Input::Right => stored_status,
                    Input::Wrong(i) => STATUSES[*i],
                };
                u = u.with_status(given);
                given == stored_status
            }
        };
        match change {
            TaskChange::Status(s, input) => {
                let stored = before.as_ref().and_then(|b| b.due);
                let given = match input {
                    Input::Right => stored,
                    Input::Wrong(i) => (*i < DATES.len()).then(|| date(*i)),
                };
                inputs_right = given == stored;
                u = u.set_status(*s, given);
                next.iter_mut().for_each(|t| t.status = *s);
            }
            TaskChange::Due(d, input) => {
                let given = match input {
                    Input::Right => stored_status,
                    Input::Wrong(i) => STATUSES[*i],
                };
                inputs_right = given == stored_status;
                u = u.set_due(date(*d), given);
                next.iter_mut().for_each(|t| t.due = Some(date(*d)));
            }
            TaskChange::RemoveDue => {
                u = u.remove_due();
                next.iter_mut().for_each(|t| t.due = None);
            }
            TaskChange::Award(a) => {
                u = u.set_award(AWARDS[*a].to_string());
                next.iter_mut()
                    .for_each(|t| t.award = Some(AWARDS[*a].to_string()));
            }
            TaskChange::RemoveAward => {
                u = u.remove_award();
                next.iter_mut().for_each(|t| t.award = None);
            }
            TaskChange::AddLabels(l) => {
                u = u.add_to_labels(set(l));
                next.iter_mut().for_each(|t| t.labels.extend(set(l)));
            }
            TaskChange::RemoveLabels(l) => {
                u = u.remove_from_labels(set(l));
                next.iter_mut()
                    .for_each(|t| t.labels.retain(|x| !l.contains(&x.as_str())));
            }
        }
        let want = if before.is_none() {
            in_tx(Outcome::NotFound, *tx)
        } else if !inputs_right {
            in_tx(Outcome::KeyInputMismatch, *tx)
        } else {
            Outcome::Ok
        };
        let after = if *tx {
            let r = self.db.transaction().update(u).send().await;
            expect(op, want, outcome(&r)?)?;
            if r.is_err() {
                return Ok(());
            }
            self.read_task(*o, *id).await?
        } else {
            let r = u.send().await;
            expect(op, want, outcome(&r)?)?;
            let Ok(a) = r else { return Ok(()) };
            a
        };
        let Some(expected) = next else {
            return Err(format!("{op:?}: an update of a missing item applied"));
        };
        self.settle_task(op, (*o, *id), before, after, expected, 0)
    }

    async fn task_batch(&mut self, op: &Op, keys: &[(usize, usize)]) -> Result<(), String> {
        let mut fresh: Vec<(usize, usize)> = keys
            .iter()
            .copied()
            .filter(|k| !self.tasks.contains_key(k))
            .collect();
        fresh.sort_unstable();
        fresh.dedup();
        if fresh.is_empty() {
            return Ok(());
        }
        let value = |(o, id): (usize, usize)| Task {
            owner: OWNERS[o].into(),
            id: TASKS[id].into(),
            status: STATUSES[id % 3],
            due: (o == 0).then(|| date(id % DATES.len())),
            award: Some(AWARDS[(o + id) % AWARDS.len()].to_string()),
            labels: set(&["batch"]),
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            version: 0,
        };
        let mut batch = self.db.batch_write();
        for &k in &fresh {
            batch = batch.put(&value(k));
        }
        let r = batch.send().await;
        expect(op, Outcome::Ok, outcome(&r)?)?;
        for k in fresh {
            let after = self.read_task(k.0, k.1).await?;
            self.settle_task(op, k, None, after, value(k), 1)?;
        }
        Ok(())
    }

    async fn session(&mut self, op: &Op) -> Result<(), String> {
        match op {
            Op::SessionCreate { id, ttl } => {
                let value = Session {
                    id: SESSIONS[*id].into(),
                    owner: OWNERS[0].into(),
                    expires_at: ttl.map(seconds),
                };
                let exists = self.sessions.contains_key(id);
                let want = if exists {
                    Outcome::AlreadyExists
                } else {
                    Outcome::Ok
                };
                let r = self.db.session().create(&value).await;
                expect(op, want, outcome(&r)?)?;
                if r.is_ok() {
                    self.sessions.insert(*id, value);
                }
                self.check_session_reads(op, *id).await
            }
            Op::SessionTtl { id, ttl } => {
                let key = SessionKey {
                    id: SESSIONS[*id].into(),
                };
                let u = self.db.session().update(&key);
                let u = match ttl {
                    Some(s) => u.set_expires_at(seconds(*s)),
                    None => u.remove_expires_at(),
                };
                let want = if self.sessions.contains_key(id) {
                    Outcome::Ok
                } else {
                    Outcome::NotFound
                };
                let r = u.send().await;
                expect(op, want, outcome(&r)?)?;
                if let Ok(after) = r {
                    let mut expected = self.sessions[id].clone();
                    expected.expires_at = ttl.map(seconds);
                    if after != expected {
                        return Err(format!("{op:?}: stored {after:?}, expected {expected:?}"));
                    }
                    self.sessions.insert(*id, after);
                }
                self.check_session_reads(op, *id).await
            }
            _ => unreachable!(),
        }
    }

    /// A session whose TTL has passed reads as absent through `get` and the default
    /// pattern, and as stored through the pattern that includes expired items.
    async fn check_session_reads(&self, op: &Op, id: usize) -> Result<(), String> {
        let key = SessionKey {
            id: SESSIONS[id].into(),
        };
        let stored = self.sessions.get(&id).cloned();
        let now = Timestamp::now();
        let live = stored
            .clone()
            .filter(|s| s.expires_at.is_none_or(|t| t > now));
        let err = |e: dyngen_runtime::Error| format!("{op:?}: {e}");
        let got = self.db.session().get(&key).await.map_err(err)?;
        let by_pattern = self
            .db
            .session_by_id(SESSIONS[id])
            .all()
            .await
            .map_err(err)?;
        let with_expired =
            (self.db.session_by_id_with_expired(SESSIONS[id]).all().await).map_err(err)?;
        let want_live: Vec<Session> = live.clone().into_iter().collect();
        let want_all: Vec<Session> = stored.into_iter().collect();
        if got != live || by_pattern != want_live || with_expired != want_all {
            return Err(format!(
                "{op:?}: get {got:?}, pattern {by_pattern:?}, with expired {with_expired:?}; model {want_all:?} (live: {want_live:?})"
            ));
        }
        Ok(())
    }
}
