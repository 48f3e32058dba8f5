//! The runner's budget for DynamoDB's control plane, whose rate limits the whole account
//! shares. Every DescribeTable the runner makes goes through [`describe`]: within one
//! process, an answer younger than the poll interval is shared by every wait that had
//! begun when it was requested (however many runners, segments and waits), so the
//! process reads at most once per interval and table, plus once as each wait begins (a
//! wait never trusts an answer requested before it began: the table may have been
//! changed in between). A wait spaces its polls by a [`Backoff`] that doubles while
//! nothing changes. The runner's own control-plane writes call [`forget`].

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::TableDescription;

use super::common::{MigrateError, sdk, sleep};

/// One table's last answer, and whether a read of it is under way.
#[derive(Default)]
struct Slot {
    last: Option<(Instant, TableDescription)>,
    reading: bool,
}

/// The answers of this process, by region and table name.
static SLOTS: Mutex<BTreeMap<String, Slot>> = Mutex::new(BTreeMap::new());

fn slot_name(client: &Client, table: &str) -> String {
    let region = client.config().region().map(|r| r.to_string());
    format!("{}/{table}", region.unwrap_or_default())
}

/// What a caller found in the slot: a fresh answer, the duty to read, or another read
/// under way.
enum Turn {
    Fresh(Box<TableDescription>),
    Read,
    Wait,
}

fn take_turn(name: &str, fresh: Duration, since: Instant) -> Turn {
    let mut slots = SLOTS.lock().unwrap_or_else(|p| p.into_inner());
    let slot = slots.entry(name.to_string()).or_default();
    match &slot.last {
        Some((at, desc)) if *at >= since && at.elapsed() < fresh => {
            Turn::Fresh(Box::new(desc.clone()))
        }
        _ if slot.reading => Turn::Wait,
        _ => {
            slot.reading = true;
            Turn::Read
        }
    }
}

fn settle(name: &str, answer: Option<(Instant, TableDescription)>) {
    let mut slots = SLOTS.lock().unwrap_or_else(|p| p.into_inner());
    let slot = slots.entry(name.to_string()).or_default();
    slot.reading = false;
    if answer.is_some() {
        slot.last = answer;
    }
}

/// DescribeTable's description of `table`, shared within this process: a caller gets
/// the last answer when it was requested at or after `since` and less than `fresh` ago,
/// and callers that come while a read is under way wait for it.
pub(super) async fn describe(
    client: &Client,
    table: &str,
    fresh: Duration,
    since: Instant,
) -> Result<TableDescription, MigrateError> {
    let name = slot_name(client, table);
    loop {
        match take_turn(&name, fresh, since) {
            Turn::Fresh(desc) => return Ok(*desc),
            Turn::Wait => sleep(client, Duration::from_millis(5)).await,
            Turn::Read => {
                let started = Instant::now();
                let res = client.describe_table().table_name(table).send().await;
                let desc = res.as_ref().ok().and_then(|out| out.table.clone());
                settle(&name, desc.clone().map(|d| (started, d)));
                return match (res, desc) {
                    (Err(e), _) => Err(sdk(e)),
                    (Ok(_), Some(d)) => Ok(d),
                    (Ok(_), None) => Err(MigrateError::Invalid(format!(
                        "DescribeTable returned no table {table}"
                    ))),
                };
            }
        }
    }
}

/// Drops the shared answer for `table`: this process just changed the table (or its
/// indexes, or a setting), so the next wait must read it again.
pub(super) fn forget(client: &Client, table: &str) {
    let mut slots = SLOTS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(slot) = slots.get_mut(&slot_name(client, table)) {
        slot.last = None;
    }
}

/// The interval before a wait's next poll: `first` while the state it watches keeps
/// changing, doubled after every poll that found it unchanged, up to `cap`.
#[derive(Debug)]
pub(super) struct Backoff {
    first: Duration,
    cap: Duration,
    next: Duration,
    last_state: Option<String>,
}

impl Backoff {
    pub(super) fn new(first: Duration, cap: Duration) -> Backoff {
        Backoff {
            first,
            cap: cap.max(first),
            next: first,
            last_state: None,
        }
    }

    /// The interval to sleep after a poll that found `state`.
    pub(super) fn after(&mut self, state: &str) -> Duration {
        if self.last_state.as_deref() != Some(state) {
            self.last_state = Some(state.to_string());
            self.next = self.first;
            return self.first;
        }
        self.next = (self.next * 2).min(self.cap);
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_back_off_while_nothing_changes_and_start_over_when_it_does() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(700));
        let waits: Vec<Duration> = ["a", "a", "a", "a", "a", "b", "b"]
            .into_iter()
            .map(|s| b.after(s))
            .collect();
        assert_eq!(
            waits,
            [
                ms(100),
                ms(200),
                ms(400),
                ms(700),
                ms(700),
                ms(100),
                ms(200)
            ]
        );
        // A cap below the first interval never shortens it.
        let mut b = Backoff::new(ms(100), ms(10));
        assert_eq!((b.after("a"), b.after("a")), (ms(100), ms(100)));
    }

    #[test]
    fn a_fresh_answer_is_shared_and_one_read_at_a_time_is_under_way() {
        let name = "test-region/shared-table";
        let fresh = Duration::from_secs(60);
        let began = Instant::now();
        assert!(matches!(take_turn(name, fresh, began), Turn::Read));
        // Others wait for the read under way instead of reading too.
        assert!(matches!(take_turn(name, fresh, began), Turn::Wait));
        let requested = Instant::now();
        let answer = || Some((requested, TableDescription::builder().build()));
        settle(name, answer());
        assert!(matches!(take_turn(name, fresh, began), Turn::Fresh(_)));
        // A wait that began after the answer was requested reads for itself.
        let later = Instant::now();
        assert!(later > requested);
        assert!(matches!(take_turn(name, fresh, later), Turn::Read));
        settle(name, answer());
        // Stale once older than the interval: the next caller reads.
        assert!(matches!(take_turn(name, Duration::ZERO, began), Turn::Read));
        // A failed read lets the next caller try.
        settle(name, None);
        assert!(matches!(take_turn(name, Duration::ZERO, began), Turn::Read));
    }
}
