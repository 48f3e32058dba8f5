//! Unique constraints (`tests/fixtures/valid/unique`) on DynamoDB Local: a taken value is
//! refused with a typed error on create, put and update; a changed value frees the old
//! one; a delete frees its values; writes that cannot keep guards are refused before any
//! request. A property test runs random operation sequences against an in-memory model
//! and checks after every step that the guard items are exactly those of the stored
//! values, each naming its owner.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use common::Rng;
use dyngen_app_tests::unique::*;
use dyngen_runtime::Error;

async fn db(prefix: &str) -> Db {
    let db = Db::new(common::client()).with_table_name(common::table(prefix));
    db.create_table().await.expect("table created");
    db
}

fn customer(id: &str, email: &str, handle: &str) -> Customer {
    Customer::new(id, email, "acme", handle, "n")
}

fn key(id: &str) -> CustomerKey {
    CustomerKey { id: id.into() }
}

fn violated(r: &Result<impl std::fmt::Debug, Error>) -> Option<&'static str> {
    match r {
        Err(Error::UniqueViolation { constraint, .. }) => Some(constraint),
        _ => None,
    }
}

#[tokio::test]
async fn a_taken_value_is_refused_and_a_changed_or_deleted_one_is_free_again() {
    let db = db("unique").await;
    let repo = db.customer();
    repo.create(&customer("1", "ada@x", "ada")).await.unwrap();

    let same_email = repo.create(&customer("2", "ada@x", "other")).await;
    assert_eq!(violated(&same_email), Some("email"), "{same_email:?}");
    let same_pair = repo.create(&customer("2", "bob@x", "ada")).await;
    assert_eq!(violated(&same_pair), Some("org+handle"), "{same_pair:?}");
    // The pair is unique together: the same handle in another organisation is fine.
    let mut elsewhere = customer("2", "bob@x", "ada");
    elsewhere.org = "other".into();
    repo.create(&elsewhere).await.unwrap();
    // Absent values are not constrained: neither customer has a phone.
    assert_eq!(repo.get(&key("2")).await.unwrap().unwrap().phone, None);

    // A duplicate key is still AlreadyExists, not a violation.
    let again = repo.create(&customer("1", "new@x", "new")).await;
    assert!(
        matches!(again, Err(Error::AlreadyExists { .. })),
        "{again:?}"
    );

    // An update to a taken value fails and changes nothing.
    let taken = repo
        .update(&key("2"))
        .set_email("ada@x".into())
        .send()
        .await;
    assert_eq!(violated(&taken), Some("email"), "{taken:?}");
    assert_eq!(repo.get(&key("2")).await.unwrap().unwrap().email, "bob@x");

    // Changing the email frees the old one for someone else.
    let moved = repo
        .update(&key("1"))
        .set_email("ada@new".into())
        .send()
        .await
        .unwrap();
    assert_eq!((moved.email.as_str(), moved.version), ("ada@new", 2));
    repo.create(&customer("3", "ada@x", "c")).await.unwrap();

    // An update that touches no constrained value takes the usual single-request path.
    let renamed = repo.update(&key("3")).set_name("C".into()).send().await;
    assert_eq!(renamed.unwrap().name, "C");

    // A put moves guards too: replacing 3's email frees ada@x.
    let mut three = repo.get(&key("3")).await.unwrap().unwrap();
    three.email = "three@x".into();
    let stored = repo.put(&three).await.unwrap();
    assert_eq!(stored.version, three.version + 1);
    // A put onto a value someone else holds is refused.
    three = stored;
    three.email = "ada@new".into();
    let clash = repo.put(&three).await;
    assert_eq!(violated(&clash), Some("email"), "{clash:?}");

    // Deleting frees every value the item held.
    let gone = repo.delete(&key("1")).await.unwrap();
    assert_eq!(gone.map(|c| c.email).as_deref(), Some("ada@new"));
    repo.create(&customer("4", "ada@new", "ada")).await.unwrap();
    assert_eq!(repo.delete(&key("1")).await.unwrap(), None);
}

#[tokio::test]
async fn an_optional_unique_value_is_guarded_only_while_present() {
    let db = db("unique_opt").await;
    let repo = db.customer();
    repo.create(&customer("1", "a@x", "a")).await.unwrap();
    repo.create(&customer("2", "b@x", "b")).await.unwrap();
    repo.update(&key("1"))
        .set_phone("555".into())
        .send()
        .await
        .unwrap();
    let taken = repo.update(&key("2")).set_phone("555".into()).send().await;
    assert_eq!(violated(&taken), Some("phone"), "{taken:?}");
    repo.update(&key("1")).remove_phone().send().await.unwrap();
    let now_free = repo.update(&key("2")).set_phone("555".into()).send().await;
    assert_eq!(now_free.unwrap().phone.as_deref(), Some("555"));
}

#[tokio::test]
async fn a_guard_left_behind_by_a_write_that_ignored_it_is_reclaimed() {
    let db = db("unique_stale").await;
    let repo = db.customer();
    repo.create(&customer("1", "a@x", "a")).await.unwrap();
    repo.create(&customer("2", "b@x", "b")).await.unwrap();
    // Another writer (old code, a hand edit) deletes 1 and changes 2's email without
    // touching the guards.
    let s = |v: &str| AttributeValue::S(v.into());
    db.client()
        .delete_item()
        .table_name(db.table_name())
        .key("pk", s("CUSTOMER#1"))
        .key("sk", s("CUSTOMER"))
        .send()
        .await
        .unwrap();
    db.client()
        .update_item()
        .table_name(db.table_name())
        .key("pk", s("CUSTOMER#2"))
        .key("sk", s("CUSTOMER"))
        .update_expression("SET email = :e")
        .expression_attribute_values(":e", s("new@x"))
        .send()
        .await
        .unwrap();
    // Their values are free: the stale guards are released and claimed anew.
    repo.create(&customer("3", "a@x", "a")).await.unwrap();
    repo.update(&key("3"))
        .set_email("b@x".into())
        .send()
        .await
        .unwrap();
    // A value whose owner still holds it stays taken.
    let taken = repo.create(&customer("4", "b@x", "d")).await;
    assert_eq!(violated(&taken), Some("email"), "{taken:?}");
}

#[tokio::test]
async fn writes_that_cannot_keep_guards_are_refused_before_any_request() {
    let db = db("unique_refused").await;
    let c = customer("1", "a@x", "a");
    let batch = db.batch_write().put(&c).send().await;
    assert!(
        matches!(batch, Err(Error::UniqueGuardsUnsupported { .. })),
        "{batch:?}"
    );
    let del = db.batch_write().delete(&key("1")).send().await;
    assert!(matches!(del, Err(Error::UniqueGuardsUnsupported { .. })));
    let put = db.transaction().put(&c).send().await;
    assert!(matches!(put, Err(Error::UniqueGuardsUnsupported { .. })));
    let tdel = db.transaction().delete(&key("1")).send().await;
    assert!(matches!(tdel, Err(Error::UniqueGuardsUnsupported { .. })));
    // Nothing was written by any of them.
    assert_eq!(guards(&db).await, BTreeMap::new());
    assert_eq!(db.customer().get(&key("1")).await.unwrap(), None);
    // Entities without constraints batch as before.
    db.batch_write()
        .put(&Note::new("n", "t"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_transaction_claims_and_releases_guards_with_its_items() {
    let db = db("unique_tx").await;
    db.transaction()
        .create(&customer("1", "a@x", "a"))
        .create(&Note::new("n1", "hello"))
        .send()
        .await
        .unwrap();
    let clash = db
        .transaction()
        .create(&customer("2", "a@x", "b"))
        .create(&Note::new("n2", "not written"))
        .send()
        .await;
    assert_eq!(violated(&clash), Some("email"), "{clash:?}");
    assert_eq!(
        db.note().get(&NoteKey { id: "n2".into() }).await.unwrap(),
        None
    );
    let one = db.customer().get(&key("1")).await.unwrap().unwrap();
    db.transaction().delete_value(&one).send().await.unwrap();
    assert_eq!(guards(&db).await, BTreeMap::new());
    db.customer()
        .create(&customer("2", "a@x", "a"))
        .await
        .unwrap();
}

/// Every guard item in the table: its partition key → its owner.
async fn guards(db: &Db) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for item in guard_items(db.client(), db.table_name()).await {
        let pk = item["pk"].as_s().unwrap().clone();
        let owner = item["_dyngenOwner"].as_s().unwrap().clone();
        assert_eq!(item["sk"].as_s().unwrap(), "#unique");
        out.insert(pk, owner);
    }
    out
}

/// Every guard item of a table, by a paginated consistent Scan.
async fn guard_items(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<common::Item> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        let guard = AttributeValue::S("#dyngen#unique".into());
        out.extend(
            page.items()
                .iter()
                .filter(|i| i.get("_type") == Some(&guard))
                .cloned(),
        );
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

/// The model's view of one customer: the constrained values.
#[derive(Debug, Clone, PartialEq)]
struct Values {
    email: String,
    handle: String,
    phone: Option<String>,
}

/// A guard key written out independently of the runtime: `#` and `%` escaped.
fn guard_pk(constraint: &str, values: &[&str]) -> String {
    let esc = |s: &str| s.replace('%', "%25").replace('#', "%23");
    let mut pk = format!("#dyngen#unique#Customer#{}", esc(constraint));
    for v in values {
        pk.push('#');
        pk.push_str(&esc(v));
    }
    pk
}

fn expected_guards(model: &BTreeMap<String, Values>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (id, v) in model {
        let owner = format!("S:CUSTOMER%23{id}#S:CUSTOMER#");
        out.insert(guard_pk("email", &[&v.email]), owner.clone());
        out.insert(guard_pk("org+handle", &["acme", &v.handle]), owner.clone());
        if let Some(p) = &v.phone {
            out.insert(guard_pk("phone", &[p]), owner.clone());
        }
    }
    out
}

/// The constraints a value set would break, held by another customer.
fn clashes(model: &BTreeMap<String, Values>, id: &str, v: &Values) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for (other, o) in model.iter().filter(|(o, _)| o.as_str() != id) {
        let _ = other;
        if o.email == v.email {
            out.insert("email");
        }
        if o.handle == v.handle {
            out.insert("org+handle");
        }
        if o.phone.is_some() && o.phone == v.phone {
            out.insert("phone");
        }
    }
    out
}

const IDS: &[&str] = &["1", "2", "3"];
// Small pools, so clashes are frequent; `#` and `%` check the guards' escaping.
const EMAILS: &[&str] = &["a@x", "b@x", "c#1@x", "d%@x"];
const HANDLES: &[&str] = &["h", "h#2", "k"];
const PHONES: &[&str] = &["", "555", "777"];

fn random_values(rng: &mut Rng) -> Values {
    let phone = rng.pick(PHONES);
    Values {
        email: rng.pick(EMAILS).into(),
        handle: rng.pick(HANDLES).into(),
        phone: (!phone.is_empty()).then(|| phone.to_string()),
    }
}

fn with_values(id: &str, v: &Values) -> Customer {
    let mut c = customer(id, &v.email, &v.handle);
    c.phone = v.phone.clone();
    c
}

/// What one operation did: `Ok` or the violated constraint (or another error's name).
type Outcome = Result<(), String>;

fn outcome<T>(r: Result<T, Error>) -> Outcome {
    match r {
        Ok(_) => Ok(()),
        Err(Error::UniqueViolation { constraint, .. }) => Err(constraint.to_string()),
        Err(Error::AlreadyExists { .. }) => Err("exists".into()),
        Err(Error::NotFound { .. }) => Err("not found".into()),
        Err(e) => Err(format!("unexpected: {e}")),
    }
}

/// The model's prediction for writing `v` to `id`: applied, or one of the violated
/// constraints (DynamoDB may report any of them).
fn predict(model: &BTreeMap<String, Values>, id: &str, v: &Values, r: &Outcome) -> bool {
    let broken = clashes(model, id, v);
    match r {
        Ok(()) => broken.is_empty(),
        Err(c) => broken.contains(c.as_str()),
    }
}

#[tokio::test]
async fn guards_match_the_stored_values_after_random_operation_sequences() {
    let db = db("unique_model").await;
    let repo = db.customer();
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let mut model: BTreeMap<String, Values> = BTreeMap::new();
    let (mut applied, mut refused) = (0, 0);
    for step in 0..120 {
        let id = rng.pick(IDS);
        let v = random_values(&mut rng);
        let exists = model.contains_key(id);
        let (what, r) = match rng.below(5) {
            0 => {
                let r = outcome(repo.create(&with_values(id, &v)).await);
                let ok = if exists {
                    r == Err("exists".into())
                } else {
                    predict(&model, id, &v, &r)
                };
                assert!(ok, "step {step}: create {id} {v:?}: {r:?}");
                (format!("create {id}"), r.map(|_| v))
            }
            1 => {
                let mut c = with_values(id, &v);
                if let Some(stored) = repo.get(&key(id)).await.unwrap() {
                    c.version = stored.version;
                }
                let r = outcome(repo.put(&c).await);
                assert!(predict(&model, id, &v, &r), "step {step}: put {v:?}: {r:?}");
                (format!("put {id}"), r.map(|_| v))
            }
            2 | 3 => {
                // An update of one constrained attribute, or of the phone's presence.
                let mut next = model.get(id).cloned().unwrap_or(v.clone());
                let mut u = repo.update(&key(id));
                match rng.below(3) {
                    0 => {
                        next.email = v.email.clone();
                        u = u.set_email(v.email.clone());
                    }
                    1 => {
                        next.handle = v.handle.clone();
                        u = u.set_handle(v.handle.clone(), "acme".into());
                    }
                    _ => {
                        next.phone = v.phone.clone();
                        u = match &v.phone {
                            Some(p) => u.set_phone(p.clone()),
                            None => u.remove_phone(),
                        };
                    }
                }
                let r = outcome(u.send().await);
                let ok = if exists {
                    predict(&model, id, &next, &r)
                } else {
                    r == Err("not found".into())
                };
                assert!(ok, "step {step}: update {id} to {next:?}: {r:?}");
                (format!("update {id}"), r.map(|_| next))
            }
            _ => {
                let r = repo.delete(&key(id)).await.unwrap();
                assert_eq!(r.is_some(), exists, "step {step}: delete {id}");
                model.remove(id);
                (format!("delete {id}"), Err("deleted".into()))
            }
        };
        match r {
            Ok(v) => {
                applied += 1;
                model.insert(id.to_string(), v);
            }
            Err(e) if e != "deleted" => refused += 1,
            Err(_) => {}
        }
        let stored: BTreeMap<String, Values> = {
            let mut m = BTreeMap::new();
            for id in IDS {
                if let Some(c) = repo.get_consistent(&key(id)).await.unwrap() {
                    let v = Values {
                        email: c.email,
                        handle: c.handle,
                        phone: c.phone,
                    };
                    m.insert(id.to_string(), v);
                }
            }
            m
        };
        assert_eq!(stored, model, "step {step} ({what}): items");
        assert_eq!(
            guards(&db).await,
            expected_guards(&model),
            "step {step} ({what}): guards"
        );
    }
    // The sequence exercised both sides of every prediction.
    assert!(
        applied >= 20 && refused >= 20,
        "{applied} applied, {refused} refused"
    );
}

mod migrations {
    //! A constraint added to a table that has items, and removed again: scaffolded by the
    //! generator from schema changes, applied by the runner.

    use super::*;
    use common::{runnable, scaffold};
    use dyngen_runtime::migrate::{MigrateError, Options, run};

    const SCHEMA: &str = r#"
version: 1
table: { name: people, partition_key: pk, sort_key: sk }
entities:
  Person:
    attributes: { id: string, email: string }
    keys:
      primary: { pk: "P#{id}", sk: "P" }
"#;

    async fn write(client: &aws_sdk_dynamodb::Client, table: &str, id: &str, email: &str) {
        let s = |v: &str| AttributeValue::S(v.into());
        client
            .put_item()
            .table_name(table)
            .item("pk", s(&format!("P#{id}")))
            .item("sk", s("P"))
            .item("_type", s("Person"))
            .item("id", s(id))
            .item("email", s(email))
            .send()
            .await
            .unwrap();
    }

    /// Guard partition keys in the table → owners.
    async fn guards(client: &aws_sdk_dynamodb::Client, table: &str) -> BTreeMap<String, String> {
        super::guard_items(client, table)
            .await
            .into_iter()
            .map(|i| {
                let pk = i["pk"].as_s().unwrap().clone();
                (pk, i["_dyngenOwner"].as_s().unwrap().clone())
            })
            .collect()
    }

    #[tokio::test]
    async fn adding_a_constraint_claims_guards_and_stops_at_a_duplicate_naming_both() {
        let client = common::client();
        let table = common::table("unique_mig");
        let options = Options::default();
        let mut files = Vec::new();
        assert_eq!(scaffold(SCHEMA, &mut files), ["0001_create_table"]);
        run(&client, &table, &runnable(&files), &options)
            .await
            .unwrap();
        for (id, email) in [("1", "a@x"), ("2", "b@x"), ("3", "a@x"), ("4", "c#d@x")] {
            write(&client, &table, id, email).await;
        }

        let unique = SCHEMA.replace("email: string", "email: { type: string, unique: true }");
        assert_eq!(
            scaffold(&unique, &mut files),
            ["0002_add_unique_person_email"]
        );
        let err = run(&client, &table, &runnable(&files), &options)
            .await
            .unwrap_err();
        let MigrateError::Step {
            migration,
            key,
            message,
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(migration, "0002_add_unique_person_email");
        // Both holders of a@x are named: the item scanned second, and the guard's owner.
        let named = format!("{key} {message}");
        assert!(named.contains("P#1") || named.contains("P%231"), "{named}");
        assert!(named.contains("P#3") || named.contains("P%233"), "{named}");

        // Fixed by hand, the migration runs again and finishes.
        write(&client, &table, "3", "e@x").await;
        let report = run(&client, &table, &runnable(&files), &options)
            .await
            .unwrap();
        assert_eq!(report.applied, ["0002_add_unique_person_email"]);
        let owner = |id: &str| format!("S:P%23{id}#S:P#");
        let expected: BTreeMap<String, String> =
            [("a@x", "1"), ("b@x", "2"), ("e@x", "3"), ("c%23d@x", "4")]
                .into_iter()
                .map(|(v, id)| (format!("#dyngen#unique#Person#email#{v}"), owner(id)))
                .collect();
        assert_eq!(guards(&client, &table).await, expected);

        // Removing the constraint deletes its guards.
        assert_eq!(
            scaffold(SCHEMA, &mut files),
            ["0003_drop_unique_person_email"]
        );
        let report = run(&client, &table, &runnable(&files), &options)
            .await
            .unwrap();
        assert_eq!(report.applied, ["0003_drop_unique_person_email"]);
        assert_eq!(report.guards, 4);
        assert_eq!(guards(&client, &table).await, BTreeMap::new());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_of_one_value_leave_exactly_one_holder() {
    let db = db("unique_race").await;
    // Twelve creates of one email, at once, from different customers.
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let c = customer(&format!("r{i}"), "race@x", &format!("h{i}"));
                db.customer().create(&c).await.map(|_| i)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(i) => winners.push(i),
            Err(Error::UniqueViolation { constraint, .. }) => assert_eq!(constraint, "email"),
            Err(e) => panic!("a concurrent create failed otherwise: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let owner = format!("S:CUSTOMER%23r{}#S:CUSTOMER#", winners[0]);
    let email_guards: Vec<String> = guards(&db)
        .await
        .into_iter()
        .filter(|(pk, _)| pk.contains("#email#"))
        .map(|(_, o)| o)
        .collect();
    assert_eq!(email_guards, [owner]);

    // Then all of them race to take over the winner's email by update: still one holder.
    let tasks: Vec<_> = (0..12)
        .filter(|i| *i != winners[0])
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let c = customer(&format!("s{i}"), &format!("own{i}@x"), &format!("k{i}"));
                db.customer().create(&c).await?;
                db.customer()
                    .update(&key(&format!("s{i}")))
                    .set_email("race@x".into())
                    .send()
                    .await
            })
        })
        .collect();
    for t in tasks {
        match t.await.unwrap() {
            Err(Error::UniqueViolation { .. }) => {}
            other => panic!("the email was already held: {other:?}"),
        }
    }
    let holders = guards(&db)
        .await
        .into_keys()
        .filter(|pk| pk.ends_with("#race@x"))
        .count();
    assert_eq!(holders, 1);
}

/// Replaces the first `n` transactions with a `TransactionConflict` cancellation, the
/// answer DynamoDB gives when another transaction holds one of the items. DynamoDB Local
/// serializes transactions and never gives it (the race test above sees none), so this is
/// the one fault provoked here: the real request is emptied first, so it writes nothing.
#[derive(Debug, Clone, Default)]
struct Conflicts {
    left: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    injected: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl aws_sdk_dynamodb::config::Intercept for Conflicts {
    fn name(&self) -> &'static str {
        "dyngen-test-conflicts"
    }
    fn modify_before_transmit(
        &self,
        ctx: &mut aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _rc: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        use std::sync::atomic::Ordering;
        let tx = ctx
            .request()
            .headers()
            .get("x-amz-target")
            .is_some_and(|t| t.ends_with("TransactWriteItems"));
        let fault = tx
            && self
                .left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if fault {
            let req = ctx.request_mut();
            *req.body_mut() = aws_smithy_types::body::SdkBody::from("{}");
            req.headers_mut().insert("content-length", "2");
            self.injected.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
    fn modify_before_deserialization(
        &self,
        ctx: &mut aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if self
            .injected
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]","CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"},{"Code":"None"}]}"#;
            let res = ctx.response_mut();
            *res.status_mut() = 400u16.try_into().unwrap();
            res.headers_mut()
                .insert("content-length", body.len().to_string());
            *res.body_mut() = aws_smithy_types::body::SdkBody::from(body);
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_transaction_conflict_is_retried_and_reported_only_when_it_persists() {
    let table = common::table("unique_conflict");
    Db::new(common::client())
        .with_table_name(&table)
        .create_table()
        .await
        .unwrap();
    let conflicts = Conflicts::default();
    let c = conflicts.clone();
    let client = common::local().client_with(move |b| b.interceptor(c));
    let db = Db::new(client).with_table_name(&table);

    conflicts.left.store(2, std::sync::atomic::Ordering::SeqCst);
    let made = db.customer().create(&customer("1", "a@x", "a")).await;
    assert!(made.is_ok(), "two conflicts, then written: {made:?}");
    assert_eq!(conflicts.left.load(std::sync::atomic::Ordering::SeqCst), 0);

    conflicts
        .left
        .store(1000, std::sync::atomic::Ordering::SeqCst);
    let gave_up = db.customer().create(&customer("2", "b@x", "b")).await;
    assert!(matches!(gave_up, Err(Error::Sdk(_))), "{gave_up:?}");
    assert!(format!("{}", gave_up.unwrap_err()).contains("TransactionCanceled"));
    conflicts.left.store(0, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(db.customer().get(&key("2")).await.unwrap(), None);
    assert_eq!(guards(&db).await.len(), 2, "only customer 1's guards");
}
