//! What every part of the runner shares: its options and report, its error, the keys of
//! its own items, and small helpers over the SDK.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::model::{KeyAttr, ModelError};

/// A progress callback, called after every page a scan pass reads.
pub type Progress = ::std::sync::Arc<dyn Fn(&PassProgress<'_>) + Send + Sync>;

/// Where a scan pass (a backfill or a code step) stands, as this process sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassProgress<'a> {
    /// The migration (or catch-up run) the pass belongs to.
    pub run: &'a str,
    /// Items this process has read.
    pub scanned: u64,
    /// Items this process has changed.
    pub changed: u64,
    /// The table's item count as DescribeTable last reported it (DynamoDB refreshes it
    /// about every six hours), when the pass started.
    pub estimate: Option<u64>,
}

/// How a run behaves.
#[derive(Clone)]
pub struct Options {
    /// Parallel Scan segments a scan pass (backfill, code step) is split into, shared by
    /// every runner that joins it (DynamoDB allows up to 1,000,000). A pass keeps the
    /// number it started with when it is resumed.
    pub segments: u32,
    /// Segments this process works at once; `None`: all of them, up to 16.
    pub workers: Option<u32>,
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
    /// The first interval between polls of a wait (DescribeTable while an index builds,
    /// the segments of a pass other runners work). Within a process, a DescribeTable
    /// answer younger than this is shared by every wait, so the process makes at most one
    /// such read per interval however many runners and segments it has.
    pub poll: Duration,
    /// The longest interval between polls: each poll that finds nothing changed doubles
    /// the interval, up to this.
    pub poll_max: Duration,
    /// Identifies this runner in the lock item.
    pub owner: String,
    /// Refuse to start when the table records migrations this code does not have. Off by
    /// default: during a rolling deploy (or after a rollback) older code meets the
    /// migrations of newer code, and must start.
    pub strict: bool,
    /// Called after each page a scan pass reads.
    pub progress: Option<Progress>,
    /// Whether a runner waiting for another's lock works on that runner's scan pass
    /// meanwhile (when it has the same migration, and the code step if it is one).
    pub help: bool,
    /// The code steps this application provides, by the name migration files use.
    pub code: ::std::collections::BTreeMap<String, super::code::CodeStep>,
}

impl Options {
    /// Registers the code step that migration files name `name` (`- code: {name: ...}`).
    pub fn code_step(mut self, name: &str, step: super::code::CodeStep) -> Options {
        self.code.insert(name.to_string(), step);
        self
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            segments: 1,
            workers: None,
            page_size: None,
            lease: Duration::from_secs(60),
            lock_wait: Duration::from_secs(15 * 60),
            wait_timeout: Duration::from_secs(6 * 60 * 60),
            poll: Duration::from_secs(1),
            poll_max: Duration::from_secs(30),
            owner: default_owner(),
            strict: false,
            progress: None,
            help: true,
            code: ::std::collections::BTreeMap::new(),
        }
    }
}

impl ::std::fmt::Debug for Options {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.debug_struct("Options")
            .field("segments", &self.segments)
            .field("workers", &self.workers)
            .field("code", &self.code.keys().collect::<Vec<_>>())
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
    /// Items that got new key attributes (by this process).
    pub backfilled: u64,
    /// Items code steps changed (by this process).
    pub changed_by_code: u64,
    /// Unique-constraint guards claimed for existing items, or deleted with their
    /// constraint (by this process).
    pub guards: u64,
    /// Whether the table was created by this run.
    pub created_table: bool,
    /// Migrations the table records that this code does not have, all newer than its own:
    /// applied by newer code (a rolling deploy, or a rollback), and left alone.
    pub newer_applied: Vec<String>,
}

/// What a scan pass did, counted by this process: the items of its entities it checked,
/// those it changed, and those it left as they were although they might need a change
/// (deleted meanwhile, holding a value no generated code could have written, or changing
/// faster than the pass could follow). A catch-up (`rerun`) returns it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub checked: u64,
    pub changed: u64,
    pub skipped: u64,
}

impl ::std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.checked += other.checked;
        self.changed += other.changed;
        self.skipped += other.skipped;
    }
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
        /// What the runner waited for, on which table.
        waited_for: String,
        /// What it saw at its last poll (`index `gsi2` is CREATING (backfilling)`).
        status: String,
        waited: Duration,
    },
    /// The migrations themselves are unusable (e.g. the first does not create the table,
    /// or a code step is not registered).
    Invalid(String),
    /// A code step failed on an item (or, for a one-off step, `key` is empty).
    Step {
        migration: String,
        key: String,
        message: String,
    },
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
            MigrateError::WaitTimeout {
                waited_for,
                status,
                waited,
            } => write!(
                f,
                "gave up after {}s waiting for {waited_for}; last seen: {status} (Options::wait_timeout); the migration is not recorded and resumes on the next run",
                waited.as_secs()
            ),
            MigrateError::LeaseLost => f.write_str(
                "this runner's lease lapsed and another runner holds the lock now; it stopped before its next write",
            ),
            MigrateError::Invalid(m) => write!(f, "invalid migrations: {m}"),
            MigrateError::Step { migration, key, message } if key.is_empty() => write!(
                f,
                "the code step of {migration} failed: {message}; the migration is not recorded and runs again on the next run"
            ),
            MigrateError::Step { migration, key, message } => write!(
                f,
                "the code step of {migration} failed on the item {key}: {message}; the migration is not recorded and resumes on the next run"
            ),
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

/// A conditional write's outcome: `false` when its condition failed.
pub(super) fn settled<T, E>(
    res: Result<T, aws_sdk_dynamodb::error::SdkError<E>>,
) -> Result<bool, MigrateError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
    aws_sdk_dynamodb::Error: From<aws_sdk_dynamodb::error::SdkError<E>>,
{
    match res {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error().and_then(|s| s.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(e) => Err(sdk(e)),
    }
}

/// For a cancelled transaction: which of its actions failed their condition, in order.
/// Any other failure is returned as the error.
pub(super) fn condition_failures(
    e: aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
    >,
) -> Result<Vec<bool>, MigrateError> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error()
    else {
        return Err(sdk(e));
    };
    let reasons: Vec<bool> = c
        .cancellation_reasons()
        .iter()
        .map(|r| r.code() == Some("ConditionalCheckFailed"))
        .collect();
    if reasons.iter().any(|f| *f) {
        Ok(reasons)
    } else {
        Err(sdk(e))
    }
}

/// One item, read consistently (`None` when there is none).
pub(super) async fn read_item(
    client: &Client,
    table: &str,
    key: HashMap<String, AttributeValue>,
) -> Result<Option<HashMap<String, AttributeValue>>, MigrateError> {
    let out = client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .map_err(sdk)?;
    Ok(out.item)
}

/// DescribeTable's description of `table` now (an answer another caller of this process
/// requested meanwhile is shared; see [`super::poll`]).
pub(super) async fn describe(
    client: &Client,
    table: &str,
    options: &Options,
) -> Result<::aws_sdk_dynamodb::types::TableDescription, MigrateError> {
    let now = ::std::time::Instant::now();
    super::poll::describe(client, table, options.poll, now).await
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
    crate::table::sleep(client, d).await
}

/// Where the runner's own items live: the ledger, the lock, backfill checkpoints. They use
/// the table's key attributes, in partitions starting `#dyngen#` (a template starting with
/// `#dyngen#` is refused by the validator), or negative numbers for a number key. A table
/// with a partition key only folds the sort part into the partition key.
pub(super) struct Keys {
    pub(super) pk: KeyAttr,
    pub(super) sk: Option<KeyAttr>,
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
        match &self.sk {
            Some(sk) => HashMap::from([
                (
                    self.pk.name.clone(),
                    Keys::value(&self.pk, partition.0, partition.1),
                ),
                (sk.name.clone(), Keys::value(sk, sort.0, sort.1)),
            ]),
            // Distinct (partition, sort) pairs stay distinct: sorts are non-negative and
            // below a million, partitions negative.
            None => HashMap::from([(
                self.pk.name.clone(),
                Keys::value(
                    &self.pk,
                    &format!("{}#{}", partition.0, sort.0),
                    partition.1 * 1_000_000 - sort.1,
                ),
            )]),
        }
    }
    pub(super) fn ledger(&self, seq: i64, name: &str) -> HashMap<String, AttributeValue> {
        self.item(("#dyngen#migrations", -1), (name, seq))
    }
    /// The one ledger item of a table with a partition key only.
    pub(super) fn ledger_item(&self) -> HashMap<String, AttributeValue> {
        self.item(("#dyngen#migrations", -1), ("#ledger", 0))
    }
    pub(super) fn lock(&self) -> HashMap<String, AttributeValue> {
        self.item(("#dyngen#lock", -2), ("#lock", 0))
    }
    /// The item naming the scan pass the lock holder is running.
    pub(super) fn open_pass(&self) -> HashMap<String, AttributeValue> {
        self.item(("#dyngen#pass", -3), ("#open", 0))
    }
    /// The primary key of an item.
    pub(super) fn key_of(
        &self,
        item: &HashMap<String, AttributeValue>,
    ) -> HashMap<String, AttributeValue> {
        ::std::iter::once(&self.pk.name)
            .chain(self.sk.as_ref().map(|s| &s.name))
            .filter_map(|k| Some((k.clone(), item.get(k)?.clone())))
            .collect()
    }
    /// A key for messages: `(pk, sk)` as stored.
    pub(super) fn describe(&self, key: &HashMap<String, AttributeValue>) -> String {
        let show = |k: &str| match key.get(k) {
            Some(AttributeValue::S(s)) => format!("{s:?}"),
            Some(AttributeValue::N(n)) => n.clone(),
            Some(other) => format!("{other:?}"),
            None => "-".into(),
        };
        match &self.sk {
            Some(sk) => format!("({}, {})", show(&self.pk.name), show(&sk.name)),
            None => format!("({})", show(&self.pk.name)),
        }
    }
}

/// Polls several futures to completion on the current task (no runtime needed).
pub(super) async fn join_all<F: ::core::future::Future + Unpin>(
    mut futures: Vec<F>,
) -> Vec<F::Output> {
    let mut results: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    ::core::future::poll_fn(move |cx| {
        let mut pending = false;
        for (i, f) in futures.iter_mut().enumerate() {
            if results[i].is_none() {
                match ::core::pin::Pin::new(f).poll(cx) {
                    ::core::task::Poll::Ready(v) => results[i] = Some(v),
                    ::core::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            ::core::task::Poll::Pending
        } else {
            ::core::task::Poll::Ready(results.iter_mut().filter_map(Option::take).collect())
        }
    })
    .await
}

/// The sequence number at the start of a migration name (`0002_...`).
pub(super) fn seq(name: &str) -> i64 {
    name.split('_')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Provisioned throughput from `(read, write)` capacity units.
pub(super) fn throughput(
    c: (i64, i64),
) -> Result<::aws_sdk_dynamodb::types::ProvisionedThroughput, MigrateError> {
    ::aws_sdk_dynamodb::types::ProvisionedThroughput::builder()
        .read_capacity_units(c.0)
        .write_capacity_units(c.1)
        .build()
        .map_err(sdk)
}
