//! The handle every generated `Db` wraps: the client, the table's name and design, and
//! how batches retry. (`batch_write` and `transaction` are defined beside their types.)

use std::time::Duration;

use aws_sdk_dynamodb::Client;

/// What the runtime needs to know of a table's design, fixed by the schema: the default
/// table name and the names of the key and entity-type attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDesign {
    /// The default table name (`table.name` in the schema).
    pub name: &'static str,
    /// The table's partition key attribute.
    pub partition_key: &'static str,
    /// The table's sort key attribute; empty for a table with a partition key only.
    pub sort_key: &'static str,
    /// The attribute that names each item's entity.
    pub entity_type_attribute: &'static str,
}

/// A handle on one table of a design: the client, the table's name and the retry policy
/// of batches. Cheap to clone (the client is shared).
#[derive(Debug, Clone)]
pub struct Table {
    client: Client,
    name: String,
    design: &'static TableDesign,
    retry: BatchRetry,
}

/// How batch operations retry unprocessed requests: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRetry {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The delay before the second attempt (before jitter); it doubles each attempt.
    pub base_delay: Duration,
    /// The largest delay between two attempts.
    pub max_delay: Duration,
}

impl Default for BatchRetry {
    fn default() -> Self {
        BatchRetry {
            max_attempts: 8,
            base_delay: Duration::from_millis(25),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl Table {
    /// A handle on the design's default table.
    pub fn new(client: Client, design: &'static TableDesign) -> Self {
        Table {
            client,
            name: design.name.to_string(),
            design,
            retry: BatchRetry::default(),
        }
    }

    /// The same handle on another table with the same design (per stage, per test).
    pub fn with_table_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The same handle with another retry policy for batches.
    pub fn with_batch_retry(mut self, retry: BatchRetry) -> Self {
        self.retry = retry;
        self
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The name of the table requests go to.
    pub fn table_name(&self) -> &str {
        &self.name
    }

    /// The design this table follows.
    pub fn design(&self) -> &'static TableDesign {
        self.design
    }

    /// The retry policy of batches.
    pub fn batch_retry(&self) -> BatchRetry {
        self.retry
    }

    /// Waits before retry number `attempt` (1 for the first retry): exponential backoff
    /// capped at `max_delay`, with full jitter, on the SDK's own sleep.
    pub(crate) async fn backoff(&self, attempt: u32) {
        use aws_sdk_dynamodb::config::AsyncSleep;
        let exp = self
            .retry
            .base_delay
            .saturating_mul(1u32 << attempt.min(16));
        let cap = exp.min(self.retry.max_delay);
        let delay = Duration::from_millis(jitter(cap.as_millis() as u64));
        if let Some(sleep) = self.client.config().sleep_impl() {
            sleep.sleep(delay).await;
        }
    }
}

/// A random number in `0..=bound_ms` for jitter, from the standard library's random
/// hasher keys (no dependency needed for that).
fn jitter(bound_ms: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(bound_ms);
    if bound_ms == 0 {
        0
    } else {
        h.finish() % (bound_ms + 1)
    }
}
