//! Scan passes that any number of runners share. The table is split into parallel-scan
//! segments; a worker claims a segment with a conditional write on the segment's
//! checkpoint item (a lease that expires), works it page by page, moving the checkpoint
//! only while it still holds the segment, and marks it done. A crashed worker's segment is
//! claimed again once its lease has expired and resumes from the checkpoint. The runner
//! holding the migration lock opens the pass (an item naming it) and waits until every
//! segment is done; runners waiting for the lock join it meanwhile.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::common::{
    Counts, Keys, MigrateError, Options, PassProgress, describe, join_all, now_millis, read_item,
    sdk, seq, settled,
};
use super::lease::{Held, Lease, RENEW_AFTER};
use super::model::Migration;
use super::wait::Wait;
use super::work::{Outcome, Work};

/// One pass: its checkpoint namespace and its number of segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pass {
    /// The migration it belongs to, and the step's position in it.
    pub(super) migration: String,
    /// The migration file's checksum: a runner helps only with the same file.
    pub(super) checksum: String,
    pub(super) step: usize,
    /// Checkpoints are kept under this name (a catch-up rerun gets a fresh one).
    pub(super) run: String,
    /// A unique negative number standing for `run` in number-keyed tables.
    pub(super) run_number: i64,
    pub(super) segments: u32,
}

impl Pass {
    /// The first pass of a migration's step: checkpoints named after them.
    pub(super) fn first(m: &Migration, step: usize, segments: u32) -> Pass {
        Pass {
            migration: m.name.clone(),
            checksum: m.checksum.clone(),
            step,
            run: format!("{}#{step}", m.name),
            run_number: -(1_000 + seq(&m.name) * 1_000 + step as i64),
            segments: segments.max(1),
        }
    }

    /// A catch-up pass over the same step: fresh checkpoints (the first pass's say
    /// "done"), numbered by the time it starts.
    pub(super) fn rerun(m: &Migration, step: usize, segments: u32) -> Pass {
        let now = now_millis();
        Pass {
            run: format!("{}#{step}#rerun#{now}", m.name),
            run_number: -now,
            ..Pass::first(m, step, segments)
        }
    }

    fn checkpoint(&self, keys: &Keys, segment: u32) -> HashMap<String, AttributeValue> {
        keys.item(
            (&format!("#dyngen#pass#{}", self.run), self.run_number),
            (&format!("{segment:07}"), i64::from(segment)),
        )
    }

    fn to_item(&self, keys: &Keys) -> HashMap<String, AttributeValue> {
        let mut item = keys.open_pass();
        let n = |v: i64| AttributeValue::N(v.to_string());
        item.insert(
            "migration".into(),
            AttributeValue::S(self.migration.clone()),
        );
        item.insert("checksum".into(), AttributeValue::S(self.checksum.clone()));
        item.insert("step".into(), n(self.step as i64));
        item.insert("run".into(), AttributeValue::S(self.run.clone()));
        item.insert("runNumber".into(), n(self.run_number));
        item.insert("segments".into(), n(i64::from(self.segments)));
        item
    }

    fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Pass> {
        let s = |k: &str| item.get(k)?.as_s().ok().cloned();
        let n = |k: &str| item.get(k)?.as_n().ok()?.parse::<i64>().ok();
        let pass = Pass {
            migration: s("migration")?,
            checksum: s("checksum")?,
            step: usize::try_from(n("step")?).ok()?,
            run: s("run")?,
            run_number: n("runNumber")?,
            segments: u32::try_from(n("segments")?).ok()?,
        };
        Some(pass)
    }
}

/// The pass the lock holder opened, if any. A helper asks only while the lock is held
/// (it failed to take it), and a pass left open by a holder that crashed is resumed, with
/// its segmentation, by the next holder.
pub(super) async fn open_pass(
    client: &Client,
    table: &str,
    keys: &Keys,
) -> Result<Option<Pass>, MigrateError> {
    let item = read_item(client, table, keys.open_pass()).await?;
    Ok(item.as_ref().and_then(Pass::from_item))
}

/// What the workers of one process share.
struct Shared<'a> {
    client: &'a Client,
    table: &'a str,
    keys: &'a Keys,
    pass: &'a Pass,
    work: &'a Work<'a>,
    options: &'a Options,
    /// The migration lock, when this process holds it (renewed at every page).
    lease: Option<&'a Lease>,
    done: Mutex<BTreeSet<u32>>,
    scanned: AtomicU64,
    checked: AtomicU64,
    changed: AtomicU64,
    skipped: AtomicU64,
    estimate: Option<u64>,
}

/// Runs a pass as the lock holder: opens it, works segments, and waits for segments other
/// runners hold until every one is done. Returns what this process did.
pub(super) async fn lead(
    client: &Client,
    table: &str,
    keys: &Keys,
    mut pass: Pass,
    work: &Work<'_>,
    options: &Options,
    lease: &Lease,
) -> Result<Counts, MigrateError> {
    // A pass a crashed holder opened keeps its segmentation: its checkpoints depend on it.
    if let Some(open) = open_pass(client, table, keys).await?
        && open.run == pass.run
    {
        pass.segments = open.segments;
    }
    lease
        .put_fenced(client, table, keys, pass.to_item(keys), false)
        .await?;
    let shared = Shared::new(client, table, keys, &pass, work, options, Some(lease)).await?;
    let held = Held { lease, keys };
    let what = format!("other runners to finish the segments of {}", pass.run);
    let mut wait = Wait::new(options, &what);
    loop {
        work_round(&shared).await?;
        if shared.all_done().await? {
            break;
        }
        let done = shared.done.lock().map_or(0, |d| d.len());
        let status = format!("{done} of {} segments done", pass.segments);
        wait.pause(client, table, options, Some(&held), &status)
            .await?;
    }
    close(client, table, keys).await?;
    Ok(shared.counts())
}

async fn close(client: &Client, table: &str, keys: &Keys) -> Result<(), MigrateError> {
    client
        .delete_item()
        .table_name(table)
        .set_key(Some(keys.open_pass()))
        .send()
        .await
        .map_err(sdk)?;
    Ok(())
}

/// Works the segments of a pass another runner leads, until none is left to claim.
pub(super) async fn help(
    client: &Client,
    table: &str,
    keys: &Keys,
    pass: &Pass,
    work: &Work<'_>,
    options: &Options,
) -> Result<Counts, MigrateError> {
    let shared = Shared::new(client, table, keys, pass, work, options, None).await?;
    work_round(&shared).await?;
    Ok(shared.counts())
}

impl<'a> Shared<'a> {
    #[allow(clippy::too_many_arguments)]
    async fn new(
        client: &'a Client,
        table: &'a str,
        keys: &'a Keys,
        pass: &'a Pass,
        work: &'a Work<'a>,
        options: &'a Options,
        lease: Option<&'a Lease>,
    ) -> Result<Shared<'a>, MigrateError> {
        let estimate = if options.progress.is_some() {
            item_count(client, table, options).await?
        } else {
            None
        };
        Ok(Shared {
            client,
            table,
            keys,
            pass,
            work,
            options,
            lease,
            done: Mutex::new(BTreeSet::new()),
            scanned: AtomicU64::new(0),
            checked: AtomicU64::new(0),
            changed: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            estimate,
        })
    }

    fn counts(&self) -> Counts {
        Counts {
            checked: self.checked.load(Ordering::Relaxed),
            changed: self.changed.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }

    fn count(&self, outcome: Outcome) {
        let counters: &[&AtomicU64] = match outcome {
            Outcome::Ignored => &[],
            Outcome::Unchanged => &[&self.checked],
            Outcome::Changed => &[&self.checked, &self.changed],
            Outcome::Skipped => &[&self.checked, &self.skipped],
        };
        for c in counters {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn known_done(&self, segment: u32) -> bool {
        self.done.lock().is_ok_and(|d| d.contains(&segment))
    }

    fn mark_done(&self, segment: u32) {
        if let Ok(mut d) = self.done.lock() {
            d.insert(segment);
        }
    }

    /// Whether every segment is done, reading those not known to be.
    async fn all_done(&self) -> Result<bool, MigrateError> {
        for s in 0..self.pass.segments {
            if self.known_done(s) {
                continue;
            }
            let checkpoint = self.pass.checkpoint(self.keys, s);
            let item = read_item(self.client, self.table, checkpoint).await?;
            if item.is_some_and(|i| i.contains_key("done")) {
                self.mark_done(s);
            } else {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn report(&self) {
        if let Some(p) = &self.options.progress {
            p(&PassProgress {
                run: &self.pass.run,
                scanned: self.scanned.load(Ordering::Relaxed),
                changed: self.changed.load(Ordering::Relaxed),
                estimate: self.estimate,
            });
        }
    }
}

/// DescribeTable's item count (updated by DynamoDB about every six hours): the progress
/// bar's estimate.
async fn item_count(
    client: &Client,
    table: &str,
    options: &Options,
) -> Result<Option<u64>, MigrateError> {
    Ok(describe(client, table, options)
        .await?
        .item_count()
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| *n > 0))
}

/// Segments one process works at once unless told (`Options::workers`): enough to hide
/// request latency, few enough not to open a connection per segment of a large split.
const DEFAULT_WORKERS: u32 = 16;

/// This process's workers, each claiming and working segments until none can be claimed.
async fn work_round(shared: &Shared<'_>) -> Result<(), MigrateError> {
    let segments = shared.pass.segments;
    let workers = shared
        .options
        .workers
        .unwrap_or(segments.min(DEFAULT_WORKERS))
        .clamp(1, segments.max(1));
    let futures: Vec<_> = (0..workers)
        .map(|w| Box::pin(worker(shared, w, workers)))
        .collect();
    for r in join_all(futures).await {
        r?;
    }
    Ok(())
}

async fn worker(shared: &Shared<'_>, w: u32, workers: u32) -> Result<(), MigrateError> {
    let segments = shared.pass.segments;
    let me = format!("{}#{w}", shared.options.owner);
    // Workers start at different segments, so they rarely contend for the same one.
    let first = (u64::from(w) * u64::from(segments) / u64::from(workers)) as u32;
    for i in 0..segments {
        let s = (first + i) % segments;
        if shared.known_done(s) {
            continue;
        }
        match claim(shared, s, &me).await? {
            Claim::Taken(start) => work_segment(shared, s, &me, start).await?,
            Claim::Done => shared.mark_done(s),
            Claim::Held => {}
        }
    }
    Ok(())
}

enum Claim {
    /// Claimed; resume after this key (`None`: from the start).
    Taken(Option<HashMap<String, AttributeValue>>),
    Done,
    /// Another worker's lease is current.
    Held,
}

async fn claim(shared: &Shared<'_>, segment: u32, me: &str) -> Result<Claim, MigrateError> {
    use ::aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    use ::aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
    let now = now_millis();
    let res = shared
        .client
        .update_item()
        .table_name(shared.table)
        .set_key(Some(shared.pass.checkpoint(shared.keys, segment)))
        .update_expression("SET #h = :me, #he = :exp")
        .condition_expression(
            "attribute_not_exists(#done) AND (attribute_not_exists(#h) OR #he < :now OR #h = :me)",
        )
        .expression_attribute_names("#h", "holder")
        .expression_attribute_names("#he", "holderExpires")
        .expression_attribute_names("#done", "done")
        .expression_attribute_values(":me", AttributeValue::S(me.to_string()))
        .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
        .expression_attribute_values(":exp", expiry(shared.options))
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match res {
        Ok(out) => Ok(Claim::Taken(
            out.attributes()
                .and_then(|a| a.get("lastKey"))
                .and_then(|v| v.as_m().ok())
                .cloned(),
        )),
        Err(e) => match e.as_service_error() {
            Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                if c.item().is_some_and(|i| i.contains_key("done")) {
                    Ok(Claim::Done)
                } else {
                    Ok(Claim::Held)
                }
            }
            _ => Err(sdk(e)),
        },
    }
}

fn expiry(options: &Options) -> AttributeValue {
    AttributeValue::N((now_millis() + options.lease.as_millis() as i64).to_string())
}

/// Works one claimed segment to its end, or until its lease is lost (another worker took
/// it over after this one stalled; the items it changed are changed correctly either way).
async fn work_segment(
    shared: &Shared<'_>,
    segment: u32,
    me: &str,
    mut start: Option<HashMap<String, AttributeValue>>,
) -> Result<(), MigrateError> {
    let mut claimed = Instant::now();
    loop {
        let page = shared
            .client
            .scan()
            .table_name(shared.table)
            .segment(segment as i32)
            .total_segments(shared.pass.segments as i32)
            .consistent_read(true)
            .set_limit(shared.options.page_size)
            .set_exclusive_start_key(start.clone())
            .send()
            .await
            .map_err(sdk)?;
        for item in page.items() {
            shared.scanned.fetch_add(1, Ordering::Relaxed);
            // A page can take longer than the lease: renew when due, whatever the page.
            if let Some(lease) = shared.lease {
                (lease.renew(shared.client, shared.table, shared.keys, shared.options)).await?;
            }
            // So does the segment's claim: a worker that finishes its own segment would
            // otherwise take this one over mid-page and work the same items again.
            if claimed.elapsed() >= shared.options.lease / RENEW_AFTER {
                claimed = Instant::now();
                if !extend_claim(shared, segment, me).await? {
                    return Ok(());
                }
            }
            let outcome = (shared.work)
                .apply(shared.client, shared.table, shared.keys, item)
                .await?;
            shared.count(outcome);
        }
        start = page.last_evaluated_key().cloned();
        claimed = Instant::now();
        let kept = move_checkpoint(shared, segment, me, start.as_ref()).await?;
        shared.report();
        if !kept {
            return Ok(());
        }
        if start.is_none() {
            shared.mark_done(segment);
            return Ok(());
        }
    }
}

/// Extends this worker's claim on a segment without moving its checkpoint; `false` when
/// the segment is no longer this worker's.
async fn extend_claim(shared: &Shared<'_>, segment: u32, me: &str) -> Result<bool, MigrateError> {
    let req = held_update(shared, segment, me).update_expression("SET #he = :exp");
    settled(req.send().await)
}

/// Records progress (or the end) of a segment and renews its lease; `false` when the
/// segment is no longer this worker's.
async fn move_checkpoint(
    shared: &Shared<'_>,
    segment: u32,
    me: &str,
    next: Option<&HashMap<String, AttributeValue>>,
) -> Result<bool, MigrateError> {
    let req = held_update(shared, segment, me).expression_attribute_names("#last", "lastKey");
    let req = match next {
        Some(k) => req
            .update_expression("SET #last = :last, #he = :exp")
            .expression_attribute_values(":last", AttributeValue::M(k.clone())),
        None => req
            .update_expression("SET #done = :done, #he = :exp REMOVE #last")
            .expression_attribute_names("#done", "done")
            .expression_attribute_values(":done", AttributeValue::Bool(true)),
    };
    settled(req.send().await)
}

/// An update of a segment's checkpoint item that holds only while this worker holds the
/// segment, with a fresh expiry bound to `:exp`.
fn held_update(
    shared: &Shared<'_>,
    segment: u32,
    me: &str,
) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
    shared
        .client
        .update_item()
        .table_name(shared.table)
        .set_key(Some(shared.pass.checkpoint(shared.keys, segment)))
        .condition_expression("#h = :me")
        .expression_attribute_names("#h", "holder")
        .expression_attribute_names("#he", "holderExpires")
        .expression_attribute_values(":me", AttributeValue::S(me.to_string()))
        .expression_attribute_values(":exp", expiry(shared.options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::model::KeyAttr;

    fn keys(pk: &str, sk: &str) -> Keys {
        let attr = |name: &str, ty: &str| KeyAttr {
            name: name.into(),
            ty: ty.into(),
        };
        Keys {
            pk: attr("pk", pk),
            sk: (!sk.is_empty()).then(|| attr("sk", sk)),
        }
    }

    fn migration(name: &str) -> Migration {
        Migration {
            name: name.into(),
            checksum: "c".into(),
            steps: Vec::new(),
        }
    }

    /// Checkpoints of different passes never share an item, whatever the key types: a
    /// rerun must not find the first pass's "done", nor a step another step's.
    #[test]
    fn every_pass_has_checkpoints_of_its_own() {
        for (pk, sk) in [
            ("S", "S"),
            ("N", "N"),
            ("S", "N"),
            ("N", "S"),
            ("S", ""),
            ("N", ""),
        ] {
            let k = keys(pk, sk);
            let passes = [
                Pass::first(&migration("0002_a"), 0, 4),
                Pass::first(&migration("0002_a"), 1, 4),
                Pass::first(&migration("0003_b"), 0, 4),
                Pass::rerun(&migration("0002_a"), 0, 4),
            ];
            let mut seen = std::collections::BTreeSet::new();
            for p in &passes {
                for s in 0..4 {
                    let item = p.checkpoint(&k, s);
                    let key = format!("{:?}/{:?}", item["pk"], item.get("sk"));
                    assert!(seen.insert(key.clone()), "{pk}{sk}: {key} twice");
                }
            }
            // Nor the runner's other items (ledger, lock, open pass).
            for other in [k.ledger(2, "0002_a"), k.lock(), k.open_pass()] {
                let key = format!("{:?}/{:?}", other["pk"], other.get("sk"));
                assert!(!seen.contains(&key), "{pk}{sk}: {key}");
            }
        }
    }

    #[test]
    fn a_pass_reads_back_from_its_item() {
        let k = keys("S", "S");
        let p = Pass::rerun(&migration("0004_c"), 2, 16);
        assert_eq!(Pass::from_item(&p.to_item(&k)), Some(p));
    }
}
