//! Waiting for the table: until it and every index are ACTIVE, renewing the runner's lease
//! at each poll and giving up after `wait_timeout`.

use aws_sdk_dynamodb::Client;

use super::common::{MigrateError, Options, describe, sleep};
use super::lease::Held;

/// Polls until the table and every index are ACTIVE and none is being deleted (the SDK's
/// waiter looks only at the table).
pub async fn wait_active(
    client: &Client,
    table: &str,
    options: &Options,
) -> Result<(), MigrateError> {
    wait_active_held(client, table, options, None).await
}

/// [`wait_active`], renewing the runner's lease at every poll and giving up after
/// `options.wait_timeout`.
pub(super) async fn wait_active_held(
    client: &Client,
    table: &str,
    options: &Options,
    held: Option<&Held<'_>>,
) -> Result<(), MigrateError> {
    use ::aws_sdk_dynamodb::types::{IndexStatus, TableStatus};
    let started = ::std::time::Instant::now();
    loop {
        let t = describe(client, table).await?;
        let ready = t.table_status() == Some(&TableStatus::Active)
            && t.global_secondary_indexes()
                .iter()
                .all(|g| g.index_status() == Some(&IndexStatus::Active));
        if ready {
            return Ok(());
        }
        pause(
            client,
            table,
            options,
            held,
            started,
            "the table and its indexes to be ACTIVE",
        )
        .await?;
    }
}

/// One poll interval of a wait: the lease renewed first (a lost lease stops the runner
/// before its next write), and the wait refused once it has lasted `wait_timeout`.
pub(super) async fn pause(
    client: &Client,
    table: &str,
    options: &Options,
    held: Option<&Held<'_>>,
    started: ::std::time::Instant,
    what: &str,
) -> Result<(), MigrateError> {
    if started.elapsed() > options.wait_timeout {
        return Err(MigrateError::WaitTimeout {
            waited_for: format!("{what} on {table}"),
            waited: started.elapsed(),
        });
    }
    if let Some(h) = held {
        h.renew(client, table, options).await?;
    }
    sleep(client, options.poll).await;
    Ok(())
}
