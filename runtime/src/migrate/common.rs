//! What every part of the runner shares: its options and report, its error, the keys of
//! its own items, and small helpers over the SDK.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::AsyncSleep;
use aws_sdk_dynamodb::types::AttributeValue;

use super::model::{KeyAttr, ModelError};

/// A progress callback: (migration, items backfilled so far).
pub type Progress = ::std::sync::Arc<dyn Fn(&str, u64) + Send + Sync>;

/// How a run behaves.
#[derive(Clone)]
pub struct Options {
    /// Parallel Scan segments for backfills (DynamoDB allows up to 1,000,000).
    pub segments: u32,
    /// Items per backfill Scan page (`Limit`); `None` lets DynamoDB fill 1 MB pages.
    /// Smaller pages checkpoint more often and spread the write load.
    pub page_size: Option<i32>,
    /// How long the lock is held without a heartbeat; a crashed runner's lock expires then.
    pub lease: Duration,
    /// How long to wait for another runner's lock before giving up.
    pub lock_wait: Duration,
    /// How long one wait (a table or an index becoming ACTIVE, an index being deleted)
    /// may last before the runner gives up with [`MigrateError::WaitTimeout`].
    pub wait_timeout: Duration,
    /// Interval between DescribeTable polls while an index builds.
    pub poll: Duration,
    /// Identifies this runner in the lock item.
    pub owner: String,
    /// Refuse to start when the table records migrations this code does not have. Off by
    /// default: during a rolling deploy (or after a rollback) older code meets the
    /// migrations of newer code, and must start.
    pub strict: bool,
    /// Called after each backfilled page with (migration, items updated so far).
    pub progress: Option<Progress>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            segments: 1,
            page_size: None,
            lease: Duration::from_secs(60),
            lock_wait: Duration::from_secs(15 * 60),
            wait_timeout: Duration::from_secs(6 * 60 * 60),
            poll: Duration::from_secs(1),
            owner: default_owner(),
            strict: false,
            progress: None,
        }
    }
}

impl ::std::fmt::Debug for Options {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.debug_struct("Options")
            .field("segments", &self.segments)
            .field("lease", &self.lease)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

fn default_owner() -> String {
    use ::std::hash::{BuildHasher, Hasher};
    let mut h = ::std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now_millis() as u128);
    format!("{}-{:016x}", ::std::process::id(), h.finish())
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Migrations this run applied, in order.
    pub applied: Vec<String>,
    /// Migrations that were already applied.
    pub already_applied: usize,
    /// Items that got new key attributes.
    pub backfilled: u64,
    /// Whether the table was created by this run.
    pub created_table: bool,
    /// Migrations the table records that this code does not have, all newer than its own:
    /// applied by newer code (a rolling deploy, or a rollback), and left alone.
    pub newer_applied: Vec<String>,
}

#[derive(Debug)]
#[non_exhaustive]
pub enum MigrateError {
    /// An applied migration's file changed since it was applied.
    Edited {
        name: String,
        applied: String,
        now: String,
    },
    /// The table records a migration this code does not have.
    Missing {
        name: String,
    },
    /// Another runner held the lock for longer than `lock_wait`.
    LockTimeout {
        holder: String,
    },
    /// This runner's lease lapsed and another runner took the lock: it stopped before
    /// writing (fencing). Nothing it did is lost; the holder, or the next run, goes on.
    LeaseLost,
    /// A table or index did not reach the state the runner waited for in time.
    WaitTimeout {
        waited_for: String,
        waited: Duration,
    },
    /// The migrations themselves are unusable (e.g. the first does not create the table).
    Invalid(String),
    Sdk(::std::boxed::Box<::aws_sdk_dynamodb::Error>),
}

impl ::std::fmt::Display for MigrateError {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match self {
            MigrateError::Edited { name, applied, now } => write!(
                f,
                "migration {name} was edited after it was applied (checksum {applied}, now {now}); restore it and add a new migration instead"
            ),
            MigrateError::Missing { name } => write!(
                f,
                "the table records migration {name}, which this code does not have and which is not newer than all of its own (the histories diverged); deploy code that includes it"
            ),
            MigrateError::LockTimeout { holder } => {
                write!(f, "another migration runner ({holder}) holds the lock")
            }
            MigrateError::WaitTimeout { waited_for, waited } => write!(
                f,
                "gave up after {}s waiting for {waited_for} (Options::wait_timeout); the migration is not recorded and resumes on the next run",
                waited.as_secs()
            ),
            MigrateError::LeaseLost => f.write_str(
                "this runner's lease lapsed and another runner holds the lock now; it stopped before its next write",
            ),
            MigrateError::Invalid(m) => write!(f, "invalid migrations: {m}"),
            MigrateError::Sdk(e) => crate::error::write_sdk_error(f, e),
        }
    }
}

impl ::std::error::Error for MigrateError {}

impl From<MigrateError> for crate::Error {
    fn from(e: MigrateError) -> Self {
        match e {
            MigrateError::Sdk(e) => crate::Error::Sdk(e),
            other => crate::Error::Migration(other.to_string()),
        }
    }
}

impl From<ModelError> for MigrateError {
    fn from(e: ModelError) -> Self {
        MigrateError::Invalid(e.to_string())
    }
}

pub(super) fn sdk(e: impl Into<::aws_sdk_dynamodb::Error>) -> MigrateError {
    MigrateError::Sdk(::std::boxed::Box::new(e.into()))
}

pub(super) fn now_millis() -> i64 {
    ::std::time::SystemTime::now()
        .duration_since(::std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

pub(super) async fn sleep(client: &Client, d: Duration) {
    if let Some(s) = client.config().sleep_impl() {
        s.sleep(d).await;
    }
}

/// Where the runner's own items live: the ledger, the lock, backfill checkpoints. They use
/// the table's key attributes, in partitions starting `#dyngen#` (a template starting with
/// `#dyngen#` is refused by the validator), or negative numbers for a number key.
pub(super) struct Keys {
    pub(super) pk: KeyAttr,
    pub(super) sk: KeyAttr,
}

impl Keys {
    pub(super) fn value(attr: &KeyAttr, s: &str, n: i64) -> AttributeValue {
        if attr.numeric() {
            AttributeValue::N(n.to_string())
        } else {
            AttributeValue::S(s.to_string())
        }
    }
    pub(super) fn item(
        &self,
        partition: (&str, i64),
        sort: (&str, i64),
    ) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (
                self.pk.name.clone(),
                Keys::value(&self.pk, partition.0, partition.1),
            ),
            (self.sk.name.clone(), Keys::value(&self.sk, sort.0, sort.1)),
        ])
    }
    pub(super) fn ledger(&self, seq: i64, name: &str) -> HashMap<String, AttributeValue> {
        self.item(("#dyngen#migrations", -1), (name, seq))
    }
    pub(super) fn lock(&self) -> HashMap<String, AttributeValue> {
        self.item(("#dyngen#lock", -2), ("#lock", 0))
    }
    pub(super) fn checkpoint(
        &self,
        migration: &str,
        seq: i64,
        segment: u32,
    ) -> HashMap<String, AttributeValue> {
        self.item(
            ("#dyngen#backfill", -3),
            (
                &format!("{migration}#{segment}"),
                seq * 1_000_000 + i64::from(segment),
            ),
        )
    }
}

/// The sequence number at the start of a migration name (`0002_...`).
pub(super) fn seq(name: &str) -> i64 {
    name.split('_')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
