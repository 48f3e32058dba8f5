//! Waiting for the table: until it and every index are ACTIVE, polling with a backoff
//! (see [`super::poll`]), keeping the runner's lease, and giving up after `wait_timeout`
//! with what it last saw.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::TableDescription;

use super::common::{MigrateError, Options, sleep};
use super::lease::{Held, RENEW_AFTER};
use super::poll::Backoff;

/// Polls until the table and every index are ACTIVE and none is being deleted (the SDK's
/// waiter looks only at the table).
pub async fn wait_active(
    client: &Client,
    table: &str,
    options: &Options,
) -> Result<(), MigrateError> {
    wait_active_held(client, table, options, None).await
}

/// [`wait_active`], keeping the runner's lease during the wait and giving up after
/// `options.wait_timeout`.
pub(super) async fn wait_active_held(
    client: &Client,
    table: &str,
    options: &Options,
    held: Option<&Held<'_>>,
) -> Result<(), MigrateError> {
    let mut wait = Wait::new(options, "the table and its indexes to be ACTIVE");
    loop {
        let t = super::poll::describe(client, table, options.poll, wait.started).await?;
        let busy = not_active(&t);
        if busy.is_empty() {
            return Ok(());
        }
        wait.pause(client, table, options, held, &busy.join(", "))
            .await?;
    }
}

/// What of the table is not ACTIVE, in words: `index `gsi2` is CREATING (backfilling)`.
pub(super) fn not_active(t: &TableDescription) -> Vec<String> {
    use ::aws_sdk_dynamodb::types::{IndexStatus, TableStatus};
    let mut busy = Vec::new();
    match t.table_status() {
        Some(TableStatus::Active) => {}
        Some(s) => busy.push(format!("the table is {s}")),
        None => busy.push("the table reports no status".into()),
    }
    for g in t.global_secondary_indexes() {
        if g.index_status() == Some(&IndexStatus::Active) {
            continue;
        }
        let status = g
            .index_status()
            .map_or("of unknown status".into(), |s| s.to_string());
        let backfilling = if g.backfilling() == Some(true) {
            " (backfilling)"
        } else {
            ""
        };
        let name = g.index_name().unwrap_or_default();
        busy.push(format!("index `{name}` is {status}{backfilling}"));
    }
    busy
}

/// One wait of the runner: when it started, what it waits for, and its poll backoff.
pub(super) struct Wait<'a> {
    /// When the wait began: it trusts no answer requested before.
    pub(super) started: Instant,
    what: &'a str,
    backoff: Backoff,
}

impl<'a> Wait<'a> {
    pub(super) fn new(options: &Options, what: &'a str) -> Wait<'a> {
        Wait {
            started: Instant::now(),
            what,
            backoff: Backoff::new(options.poll, options.poll_max),
        }
    }

    /// One poll interval, after a poll that found `status`: the lease renewed when due
    /// (a lost lease stops the runner before its next write), the wait refused once it
    /// has lasted `wait_timeout`, and the interval doubled while `status` stays the same.
    pub(super) async fn pause(
        &mut self,
        client: &Client,
        table: &str,
        options: &Options,
        held: Option<&Held<'_>>,
        status: &str,
    ) -> Result<(), MigrateError> {
        if self.started.elapsed() > options.wait_timeout {
            return Err(MigrateError::WaitTimeout {
                waited_for: format!("{} on {table}", self.what),
                status: status.to_string(),
                waited: self.started.elapsed(),
            });
        }
        // A long interval is slept in parts, so the lease is renewed in time.
        let mut left = self.backoff.after(status);
        while !left.is_zero() {
            if let Some(h) = held {
                h.renew(client, table, options).await?;
            }
            let part = left.min((options.lease / RENEW_AFTER).max(Duration::from_millis(10)));
            sleep(client, part).await;
            left -= part;
        }
        Ok(())
    }
}
