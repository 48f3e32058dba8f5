//! The migration runner: applies pending migrations in order, under a lease lock held in
//! the table, and records each one in a ledger item. `Db::migrate` and `dyngen migrate`
//! both call [`run`].

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::AsyncSleep;
use aws_sdk_dynamodb::types::AttributeValue;

use super::backfill::backfill;
use super::lease::Lease;
use super::model::{KeyAttr, Migration, ModelError, Step, TableDef};
use super::tables::{create_index, create_table, delete_index};

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
    /// Interval between DescribeTable polls while an index builds.
    pub poll: Duration,
    /// Identifies this runner in the lock item.
    pub owner: String,
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
            poll: Duration::from_secs(1),
            owner: default_owner(),
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
                "the table records migration {name}, which this code does not have; deploy code that includes it"
            ),
            MigrateError::LockTimeout { holder } => {
                write!(f, "another migration runner ({holder}) holds the lock")
            }
            MigrateError::Invalid(m) => write!(f, "invalid migrations: {m}"),
            MigrateError::Sdk(e) => write!(f, "DynamoDB: {e}"),
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
    fn item(&self, partition: (&str, i64), sort: (&str, i64)) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (
                self.pk.name.clone(),
                Keys::value(&self.pk, partition.0, partition.1),
            ),
            (self.sk.name.clone(), Keys::value(&self.sk, sort.0, sort.1)),
        ])
    }
    fn ledger(&self, seq: i64, name: &str) -> HashMap<String, AttributeValue> {
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

fn table_def(migrations: &[Migration]) -> Result<&TableDef, MigrateError> {
    match migrations.first().and_then(|m| m.steps.first()) {
        Some(Step::CreateTable(t)) => Ok(t),
        _ => Err(MigrateError::Invalid(
            "the first migration must create the table".into(),
        )),
    }
}

/// The sequence number at the start of a migration name (`0002_...`).
pub(super) fn seq(name: &str) -> i64 {
    name.split('_')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The applied migrations recorded in the table: name → checksum. Empty if the table
/// does not exist.
async fn applied(
    client: &Client,
    table: &str,
    keys: &Keys,
) -> Result<Option<Vec<(String, String)>>, MigrateError> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let partition = Keys::value(&keys.pk, "#dyngen#migrations", -1);
        let res = client
            .query()
            .table_name(table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", &keys.pk.name)
            .expression_attribute_values(":pk", partition)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await;
        let page = match res {
            Ok(p) => p,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(sdk(e)),
        };
        for item in page.items() {
            let name = item
                .get("migration")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            let checksum = item
                .get("checksum")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            out.push((name, checksum));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(Some(out));
        }
    }
}

/// Checks the ledger against the code; returns the migrations still to apply.
fn pending<'a>(
    migrations: &'a [Migration],
    applied: &[(String, String)],
) -> Result<Vec<&'a Migration>, MigrateError> {
    let mut errors = Vec::new();
    for (name, checksum) in applied {
        match migrations.iter().find(|m| &m.name == name) {
            None => errors.push(MigrateError::Missing { name: name.clone() }),
            Some(m) if &m.checksum != checksum => errors.push(MigrateError::Edited {
                name: name.clone(),
                applied: checksum.clone(),
                now: m.checksum.clone(),
            }),
            Some(_) => {}
        }
    }
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    Ok(migrations
        .iter()
        .filter(|m| !applied.iter().any(|(n, _)| n == &m.name))
        .collect())
}

/// The names of the migrations a run would apply, without changing anything.
pub async fn plan(
    client: &Client,
    table: &str,
    migrations: &[Migration],
) -> Result<Vec<String>, MigrateError> {
    let def = table_def(migrations)?;
    let keys = Keys {
        pk: def.partition_key.clone(),
        sk: def.sort_key.clone(),
    };
    let done = applied(client, table, &keys).await?.unwrap_or_default();
    Ok(pending(migrations, &done)?
        .into_iter()
        .map(|m| m.name.clone())
        .collect())
}

/// Applies every pending migration, in order, under a lock held in the table. Cheap when
/// nothing is pending (one consistent Query), so it can run at every cold start.
pub async fn run(
    client: &Client,
    table: &str,
    migrations: &[Migration],
    options: &Options,
) -> Result<Report, MigrateError> {
    let def = table_def(migrations)?;
    let keys = Keys {
        pk: def.partition_key.clone(),
        sk: def.sort_key.clone(),
    };
    let mut report = Report::default();
    let done = match applied(client, table, &keys).await? {
        Some(done) => done,
        None => {
            report.created_table = create_table(client, table, def, options).await?;
            Vec::new()
        }
    };
    if pending(migrations, &done)?.is_empty() {
        report.already_applied = done.len();
        return Ok(report);
    }
    let lease = Lease::acquire(client, table, &keys, options).await?;
    let result = apply_pending(
        client,
        table,
        &keys,
        migrations,
        options,
        &lease,
        &mut report,
    )
    .await;
    let released = lease.release(client, table, &keys).await;
    result?;
    released?;
    Ok(report)
}

async fn apply_pending(
    client: &Client,
    table: &str,
    keys: &Keys,
    migrations: &[Migration],
    options: &Options,
    lease: &Lease,
    report: &mut Report,
) -> Result<(), MigrateError> {
    // Read again under the lock: another runner may have applied some meanwhile.
    let done = applied(client, table, keys).await?.unwrap_or_default();
    let todo = pending(migrations, &done)?;
    report.already_applied = done.len();
    for m in todo {
        for step in &m.steps {
            lease.renew(client, table, keys, options).await?;
            match step {
                Step::CreateTable(def) => {
                    report.created_table |= create_table(client, table, def, options).await?;
                }
                Step::CreateIndex(ix) => create_index(client, table, ix, options).await?,
                Step::DeleteIndex { name } => delete_index(client, table, name, options).await?,
                Step::Backfill(b) => {
                    report.backfilled += backfill(client, table, keys, m, b, options, lease).await?
                }
            }
        }
        record(client, table, keys, m).await?;
        report.applied.push(m.name.clone());
    }
    Ok(())
}

async fn record(
    client: &Client,
    table: &str,
    keys: &Keys,
    m: &Migration,
) -> Result<(), MigrateError> {
    let mut item = keys.ledger(seq(&m.name), &m.name);
    item.insert("migration".into(), AttributeValue::S(m.name.clone()));
    item.insert("checksum".into(), AttributeValue::S(m.checksum.clone()));
    item.insert(
        "appliedAt".into(),
        AttributeValue::N(now_millis().to_string()),
    );
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", &keys.pk.name)
        .send()
        .await
        .map_err(sdk)?;
    Ok(())
}
