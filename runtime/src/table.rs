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
    /// The same client with the SDK's retries off, for single-request writes: they are
    /// retried by [`crate::deliver`], which knows what a lost answer may have done. Built
    /// on the first write (about 1.3 M instructions), so a function that only reads does
    /// not pay for it at a cold start.
    writer: std::sync::Arc<std::sync::OnceLock<Client>>,
    write_retry: WriteRetry,
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

/// How single-request writes retry: the client's own retry policy (attempts and backoff),
/// applied by the runtime instead of the SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WriteRetry {
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl WriteRetry {
    fn of(client: &Client) -> Self {
        let standard = aws_sdk_dynamodb::config::retry::RetryConfig::standard();
        let config = client.config().retry_config().unwrap_or(&standard);
        WriteRetry {
            max_attempts: config.max_attempts().max(1),
            initial_backoff: config.initial_backoff(),
            max_backoff: config.max_backoff(),
        }
    }

    /// Waits before retry number `attempt` (1 for the first retry), as the SDK's standard
    /// policy does: exponential backoff with full jitter, capped.
    pub async fn sleep(&self, db: &Table, attempt: u32) {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_backoff);
        db.sleep(Duration::from_millis(jitter(cap.as_millis() as u64)))
            .await;
    }
}

/// `client` with the SDK's retries off. Its other settings are kept, and what was set on
/// the client (an HTTP client, an identity cache) is shared; what the SDK supplied by
/// default is made again for this client (a connection pool, a credentials cache).
fn without_retries(client: &Client) -> Client {
    let config = client
        .config()
        .to_builder()
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

impl Table {
    /// A handle on the design's default table.
    pub fn new(client: Client, design: &'static TableDesign) -> Self {
        Table {
            writer: Default::default(),
            write_retry: WriteRetry::of(&client),
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

    /// The client single-request writes are sent on (the SDK's retries off).
    pub(crate) fn writer(&self) -> &Client {
        self.writer.get_or_init(|| without_retries(&self.client))
    }

    /// How single-request writes retry.
    pub(crate) fn write_retry(&self) -> WriteRetry {
        self.write_retry
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
        let exp = self
            .retry
            .base_delay
            .saturating_mul(1u32 << attempt.min(16));
        let cap = exp.min(self.retry.max_delay);
        self.sleep(Duration::from_millis(jitter(cap.as_millis() as u64)))
            .await;
    }

    async fn sleep(&self, delay: Duration) {
        sleep(&self.client, delay).await
    }
}

/// Sleeps on the client's own sleep, or on Tokio's when the client has none (a client
/// built from a bare `Config`): a backoff or a poll that does not wait turns into a storm
/// of requests.
pub(crate) async fn sleep(client: &aws_sdk_dynamodb::Client, delay: Duration) {
    use aws_sdk_dynamodb::config::AsyncSleep;
    let sleep =
        (client.config().sleep_impl()).or_else(aws_smithy_async::rt::sleep::default_async_sleep);
    if let Some(sleep) = sleep {
        sleep.sleep(delay).await;
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
