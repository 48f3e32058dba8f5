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
use dyngen_runtime::local::{DynamoDbLocal, unique_table_name};

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

/// The item stored under `(pk, sk)` (string keys), read consistently through the SDK as
/// another writer would see it.
pub async fn stored_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
    sk: &str,
) -> Option<Item> {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    client
        .get_item()
        .table_name(table)
        .key("pk", S(pk.into()))
        .key("sk", S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

/// The environment variable `name` parsed, or `default` (a run's size and seed).
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: a fixed seed gives the same sequence on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
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

// ---------------------------------------------------------------------------------------
// Recording every DynamoDB call, for the least-privilege proof.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;

/// (IAM action, index) pairs a client sent; the table is always the test's table.
pub type Calls = Arc<Mutex<BTreeSet<(String, Option<String>)>>>;

/// Records the IAM actions behind each request: the operation's own action, or for a
/// transaction, the per-item actions that authorize it (there is no TransactWriteItems
/// IAM action).
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    pub calls: Calls,
}

impl Recorder {
    pub fn actions(&self) -> BTreeSet<(String, Option<String>)> {
        self.calls.lock().unwrap().clone()
    }
    fn add(&self, action: &str, index: Option<&str>) {
        self.calls
            .lock()
            .unwrap()
            .insert((action.to_string(), index.map(str::to_string)));
    }
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "dyngen-test-recorder"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation as op;
        let input = context.input();
        macro_rules! plain {
            ($($ty:ty => $action:literal),* $(,)?) => {
                $(if input.downcast_ref::<$ty>().is_some() { self.add($action, None); return Ok(()); })*
            };
        }
        plain!(
            op::get_item::GetItemInput => "GetItem",
            op::put_item::PutItemInput => "PutItem",
            op::update_item::UpdateItemInput => "UpdateItem",
            op::delete_item::DeleteItemInput => "DeleteItem",
            op::batch_get_item::BatchGetItemInput => "BatchGetItem",
            op::batch_write_item::BatchWriteItemInput => "BatchWriteItem",
            op::scan::ScanInput => "Scan",
            op::create_table::CreateTableInput => "CreateTable",
            op::describe_table::DescribeTableInput => "DescribeTable",
            op::update_table::UpdateTableInput => "UpdateTable",
            op::update_time_to_live::UpdateTimeToLiveInput => "UpdateTimeToLive",
        );
        // The Streams API's actions act on a stream (`table/NAME/stream/LABEL`).
        {
            use aws_sdk_dynamodbstreams::operation as sop;
            macro_rules! on_stream {
                ($($ty:ty => $action:literal),* $(,)?) => {
                    $(if input.downcast_ref::<$ty>().is_some() { self.add($action, Some(STREAM)); return Ok(()); })*
                };
            }
            on_stream!(
                sop::list_streams::ListStreamsInput => "ListStreams",
                sop::describe_stream::DescribeStreamInput => "DescribeStream",
                sop::get_shard_iterator::GetShardIteratorInput => "GetShardIterator",
                sop::get_records::GetRecordsInput => "GetRecords",
            );
        }
        if let Some(q) = input.downcast_ref::<op::query::QueryInput>() {
            self.add("Query", q.index_name());
        } else if let Some(t) =
            input.downcast_ref::<op::transact_write_items::TransactWriteItemsInput>()
        {
            for item in t.transact_items() {
                let action = if item.put().is_some() {
                    "PutItem"
                } else if item.update().is_some() {
                    "UpdateItem"
                } else if item.delete().is_some() {
                    "DeleteItem"
                } else {
                    "ConditionCheckItem"
                };
                self.add(action, None);
            }
        } else {
            self.add("Unknown", None);
        }
        Ok(())
    }
}

/// The "index" of a pair whose resource is the table's stream.
pub const STREAM: &str = "<stream>";

/// The second half of an (action, resource) pair: the index an ARN names, or
/// [`STREAM`] for the table's streams, or `None` for the table.
pub fn resource_part(arn: &str) -> Option<String> {
    if arn.contains("/stream/") {
        return Some(STREAM.to_string());
    }
    arn.split_once("/index/").map(|(_, i)| i.to_string())
}

/// A policy document's allowed (action, index) pairs, read from the generated IAM JSON.
pub fn policy_pairs(path: &std::path::Path) -> BTreeSet<(String, Option<String>)> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = BTreeSet::new();
    for st in doc["Statement"].as_array().unwrap() {
        assert_eq!(st["Effect"], "Allow");
        for action in st["Action"].as_array().unwrap() {
            let action = action.as_str().unwrap();
            assert!(!action.contains('*'), "wildcard action {action}");
            for resource in st["Resource"].as_array().unwrap() {
                let resource = resource.as_str().unwrap();
                assert_ne!(resource, "*", "a `*` resource");
                out.insert((
                    action.trim_start_matches("dynamodb:").to_string(),
                    resource_part(resource),
                ));
            }
        }
    }
    out
}

/// Runs the generator on `schema` with the migrations so far, adds the migrations it
/// scaffolds to `files`, and returns their names.
pub fn scaffold(schema: &str, files: &mut Vec<dyngen::migrations::MigrationSource>) -> Vec<String> {
    let source = dyngen::diag::Source::new("schema.yaml", schema);
    let (set, _) =
        dyngen::pipeline::generate_files(&source, files, false).unwrap_or_else(|e| panic!("{e}"));
    let mut new = Vec::new();
    for (path, text) in &set.files {
        if let Some(file) = path.strip_prefix("migrations/") {
            files.push(dyngen::migrations::MigrationSource {
                file: file.to_string(),
                text: text.clone(),
            });
            new.push(file.trim_end_matches(".yaml").to_string());
        }
    }
    new
}

/// The runner's view of migration files.
pub fn runnable(
    files: &[dyngen::migrations::MigrationSource],
) -> Vec<dyngen_runtime::migrate::Migration> {
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.file.as_str(), f.text.as_str()))
        .collect();
    dyngen_runtime::migrate::Migration::parse_all(&pairs).unwrap()
}
