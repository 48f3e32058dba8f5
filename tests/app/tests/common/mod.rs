//! Test support shared by the DynamoDB Local suites: a fresh table per test, and an SDK
//! interceptor that forces unprocessed batch requests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextMut, FinalizerInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemInput, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput};
use aws_sdk_dynamodb::types::{KeysAndAttributes, WriteRequest};
use dyngen::local::{DynamoDbLocal, unique_table_name};

pub type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// DynamoDB Local for this test process (started on first use; fails loudly if Java or
/// npm is missing).
pub fn local() -> &'static DynamoDbLocal {
    match DynamoDbLocal::shared() {
        Ok(l) => l,
        Err(e) => panic!("DynamoDB Local is required for this test: {e}"),
    }
}

pub fn client() -> aws_sdk_dynamodb::Client {
    local().client()
}

pub fn table(prefix: &str) -> String {
    unique_table_name(prefix)
}

/// Requests taken out of one call, by table, to be reported back as unprocessed.
type Stash<T> = Arc<Mutex<Option<(String, Vec<T>)>>>;

/// Forces unprocessed requests the way the service produces them under throttling: on
/// each of the first `faults` calls, the last `drop` requests are taken out of the request
/// before it is sent (so DynamoDB never sees them) and put back into the response's
/// `UnprocessedItems` / `UnprocessedKeys`. DynamoDB Local never returns unprocessed
/// requests by itself, so this is the one fault the tests provoke with an interceptor.
#[derive(Debug, Clone)]
pub struct Unprocessed {
    pub faults: Arc<AtomicUsize>,
    pub drop: usize,
    pub calls: Arc<AtomicUsize>,
    stash_writes: Stash<WriteRequest>,
    stash_keys: Stash<Item>,
}

impl Unprocessed {
    pub fn new(faults: usize, drop: usize) -> Self {
        Unprocessed {
            faults: Arc::new(AtomicUsize::new(faults)),
            drop,
            calls: Arc::default(),
            stash_writes: Arc::default(),
            stash_keys: Arc::default(),
        }
    }

    fn take_fault(&self) -> bool {
        self.faults
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
            .is_ok()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Intercept for Unprocessed {
    fn name(&self) -> &'static str {
        "dyngen-test-unprocessed"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        if let Some(w) = input.downcast_mut::<BatchWriteItemInput>() {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some((table, reqs)) = w.request_items.as_mut().and_then(|m| m.iter_mut().next())
                && reqs.len() > 1
                && self.take_fault()
            {
                let keep = reqs.len().saturating_sub(self.drop).max(1);
                let dropped = reqs.split_off(keep);
                *self.stash_writes.lock().unwrap() = Some((table.clone(), dropped));
            }
        } else if let Some(g) = input.downcast_mut::<BatchGetItemInput>() {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some((table, ka)) = g.request_items.as_mut().and_then(|m| m.iter_mut().next())
                && ka.keys.len() > 1
                && self.take_fault()
            {
                let keep = ka.keys.len().saturating_sub(self.drop).max(1);
                let dropped = ka.keys.split_off(keep);
                *self.stash_keys.lock().unwrap() = Some((table.clone(), dropped));
            }
        }
        Ok(())
    }

    fn modify_before_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Ok(output)) = context.output_or_error_mut() else {
            return Ok(());
        };
        if let Some(out) = output.downcast_mut::<BatchWriteItemOutput>()
            && let Some((table, dropped)) = self.stash_writes.lock().unwrap().take()
        {
            out.unprocessed_items
                .get_or_insert_with(Default::default)
                .entry(table)
                .or_default()
                .extend(dropped);
        }
        if let Some(out) = output.downcast_mut::<BatchGetItemOutput>()
            && let Some((table, dropped)) = self.stash_keys.lock().unwrap().take()
        {
            let entry = out.unprocessed_keys.get_or_insert_with(Default::default);
            let ka = KeysAndAttributes::builder()
                .set_keys(Some(dropped))
                .build()
                .expect("keys are set");
            entry.insert(table, ka);
        }
        Ok(())
    }
}
