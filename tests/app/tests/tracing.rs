//! Runtime feature `tracing`, on DynamoDB Local: each operation and access-pattern call is
//! one `dyngen` span with its table, entity or pattern, index, pages, items and the
//! capacity DynamoDB reported, summed over every request it made; no key value appears in
//! any span. The subscriber is a small recorder written here (no tracing-subscriber).

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use dyngen_app_tests::composite::{Db as Matches, Match};
use dyngen_app_tests::unique::{Customer, CustomerKey, Db as Accounts};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// One span as recorded: its fields, by name, as text.
type Fields = BTreeMap<String, String>;

#[derive(Clone, Default)]
struct Recorder {
    spans: Arc<Mutex<Vec<(String, Fields)>>>,
}

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields::new();
        span.record(&mut Collect(&mut fields));
        let mut spans = self.spans.lock().unwrap();
        spans.push((span.metadata().name().to_string(), fields));
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.spans.lock().unwrap();
        if let Some((_, fields)) = spans.get_mut(span.into_u64() as usize - 1) {
            values.record(&mut Collect(fields));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Recorder {
    /// The `dyngen` spans recorded so far, in order of creation.
    fn dyngen(&self) -> Vec<Fields> {
        let spans = self.spans.lock().unwrap();
        spans
            .iter()
            .filter(|(name, _)| name == "dyngen")
            .map(|(_, f)| f.clone())
            .collect()
    }
}

fn capacity(f: &Fields) -> f64 {
    f.get("capacity")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn each_operation_is_one_span_with_the_capacity_of_all_its_requests() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let db = Accounts::new(common::client()).with_table_name(common::table("traced"));
    db.create_table().await.unwrap();
    let secret = "ada-secret@example.org";
    db.customer()
        .create(&Customer::new("id-7341", secret, "acme", "ada", "Ada"))
        .await
        .unwrap();
    let key = CustomerKey {
        id: "id-7341".into(),
    };
    db.customer()
        .update(&key)
        .set_email("ada-2@example.org".into())
        .send()
        .await
        .unwrap();
    db.customer().get(&key).await.unwrap();

    let spans = recorder.dyngen();
    let ops: Vec<&str> = spans.iter().map(|f| f["op"].as_str()).collect();
    assert_eq!(ops, ["create", "update", "get"], "{spans:?}");
    for f in &spans {
        assert_eq!(f["entity"], "Customer");
        assert_eq!(f["table"], db.table_name());
        assert!(capacity(f) > 0.0, "no capacity recorded: {f:?}");
    }
    // A create with two guards is one transaction of three writes; the update moves the
    // email's guard (two more writes) and reads twice: more capacity than a get.
    assert!(capacity(&spans[0]) >= 3.0, "{:?}", spans[0]);
    assert!(capacity(&spans[1]) > capacity(&spans[2]), "{spans:?}");
    // Key values never appear in spans.
    let all = format!("{:?}", recorder.spans.lock().unwrap());
    for value in ["id-7341", secret, "CUSTOMER#", "ada-2@"] {
        assert!(!all.contains(value), "`{value}` leaked into a span: {all}");
    }
}

#[tokio::test]
async fn a_pattern_call_records_its_pages_items_pattern_and_index() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let db = Matches::new(common::client()).with_table_name(common::table("traced_q"));
    db.create_table().await.unwrap();
    for (id, round) in [("a", 1), ("b", 2), ("c", 3)] {
        db.r#match()
            .create(&Match::new(id, "cup", "eu", round, 0))
            .await
            .unwrap();
    }
    let before = recorder.dyngen().len();
    let all = db.bracket("cup", "eu").limit(1).all().await.unwrap();
    assert_eq!(all.len(), 3);
    let spans = recorder.dyngen()[before..].to_vec();
    // The call's span comes first; one span per page request is inside it.
    let call = &spans[0];
    assert_eq!(call["op"], "query");
    assert_eq!(call["pattern"], "bracket");
    assert_eq!(call["index"], "byBracket");
    assert_eq!(call["items"], "3");
    let pages: u64 = call["pages"].parse().unwrap();
    assert!((3..=4).contains(&pages), "{call:?}");
    assert_eq!(spans.len() as u64, 1 + pages, "{spans:?}");
    // The call's capacity is the sum of its pages'.
    let sum: f64 = spans[1..].iter().map(capacity).sum();
    assert!(
        sum > 0.0 && (capacity(call) - sum).abs() < 1e-9,
        "{spans:?}"
    );
}
