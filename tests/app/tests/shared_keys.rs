//! Raw keys (`escape: false`) on a table shared with a DynamoDB-Toolbox service, on
//! DynamoDB Local: the other writer stores key values as they are, so for any value
//! without the delimiter both sides name the same item, whichever side wrote it; a value
//! holding the delimiter is refused by every Rust path before a request, and nothing is
//! written.

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use common::Rng;
use dyngen_app_tests::shared::*;
use dyngen_runtime::Error;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A value as users type them: `%`, escapes that look decoded (`%23`), spaces,
/// punctuation, non-ASCII; never `#`.
fn random_value(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a", "Z", "0", "%", "%23", "%25", " ", "@", ".", "-", "_", "/", "é", "日本", "🦀", "+",
        "|", ":",
    ];
    let len = 1 + rng.below(6);
    (0..len).map(|_| rng.pick(PIECES)).collect()
}

/// The items in the table, by (pk, sk).
async fn stored(db: &Db) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = db
            .client()
            .scan()
            .table_name(db.table_name())
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let text = |k: &str| item[k].as_s().unwrap().clone();
            out.push((text("pk"), text("sk")));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    out.sort();
    out
}

/// As the Node.js service writes a user: raw keys, `_et`, an offset timestamp, no version.
async fn put_as_toolbox(db: &Db, id: &str, company: &str) {
    db.client()
        .put_item()
        .table_name(db.table_name())
        .item("pk", s(&format!("USER#{id}")))
        .item("sk", s(&format!("USER#{id}")))
        .item("gsi1pk", s(&format!("COMPANY#{company}")))
        .item("gsi1sk", s(&format!("USER#{id}")))
        .item("_et", s("user"))
        .item("id", s(id))
        .item("company", s(company))
        .item("name", s("node"))
        .item("_ct", s("2024-02-29T23:30:00.5-01:00"))
        .item("_md", s("2024-03-01T00:30:00.500Z"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn any_value_without_the_delimiter_names_one_item_whichever_side_wrote_it() {
    let db = Db::new(common::client()).with_table_name(common::table("shared_raw"));
    db.create_table().await.unwrap();
    let mut rng = Rng(0x5eed_0001);
    let mut seen = std::collections::BTreeSet::new();
    for round in 0..60 {
        let (id, company) = (random_value(&mut rng), random_value(&mut rng));
        if !seen.insert(id.clone()) {
            continue;
        }
        let key = UserKey { id: id.clone() };
        if round % 2 == 0 {
            // Theirs, read and changed through the generated API: the same item.
            put_as_toolbox(&db, &id, &company).await;
            let theirs = db
                .user()
                .get(&key)
                .await
                .unwrap()
                .expect("found by raw key");
            assert_eq!((theirs.company.as_str(), theirs.v), (company.as_str(), 0));
            assert_eq!(theirs.ct.to_string(), "2024-03-01T00:30:00.500Z");
            let changed = db
                .user()
                .update(&key)
                .expect_version(0)
                .set_name("rust".into())
                .send()
                .await
                .unwrap();
            assert_eq!((changed.name.as_str(), changed.v), ("rust", 1));
        } else {
            // Ours, at the key the other writer computes from the plain value.
            db.user()
                .create(&User::new(id.clone(), company.clone(), "rust"))
                .await
                .unwrap();
            let raw = common::stored_item(
                db.client(),
                db.table_name(),
                &format!("USER#{id}"),
                &format!("USER#{id}"),
            )
            .await
            .expect("stored at the raw key");
            assert_eq!(raw["gsi1pk"], s(&format!("COMPANY#{company}")));
            assert_eq!(raw["_et"], s("user"));
            // The other writer's update of our item lands on it, not beside it.
            db.client()
                .update_item()
                .table_name(db.table_name())
                .key("pk", s(&format!("USER#{id}")))
                .key("sk", s(&format!("USER#{id}")))
                .update_expression("SET #n = :n")
                .expression_attribute_names("#n", "name")
                .expression_attribute_values(":n", s("node"))
                .send()
                .await
                .unwrap();
        }
        // Either way, one item; the pattern finds it by the plain company value.
        let found = db.users_of_company(&company).all().await.unwrap();
        assert!(found.iter().any(|u| u.id == id), "{id:?} in {company:?}");
        let u = db.user().get(&key).await.unwrap().unwrap();
        assert_eq!(u.name, if round % 2 == 0 { "rust" } else { "node" });
    }
    // One item per user and no more: nothing was written at another key.
    let items = stored(&db).await;
    assert_eq!(items.len(), seen.len(), "{items:?}");
    assert!(
        items
            .iter()
            .all(|(pk, sk)| pk == sk && pk.starts_with("USER#"))
    );

    // A company the other writer stored under a raw `%` is the one Rust sees: no twin.
    db.client()
        .put_item()
        .table_name(db.table_name())
        .item("pk", s("COMPANY#%"))
        .item("sk", s("COMPANY#%"))
        .item("_et", s("company"))
        .item("name", s("%"))
        .send()
        .await
        .unwrap();
    let twin = db.company().create(&Company::new("%")).await;
    assert!(matches!(twin, Err(Error::AlreadyExists { .. })), "{twin:?}");
}

fn refused<T: std::fmt::Debug>(r: Result<T, Error>, attribute: &str) {
    match r {
        Err(Error::InvalidKey {
            attribute: a,
            reason,
            ..
        }) if a == attribute => {
            assert!(reason.contains('#'), "{reason}")
        }
        other => panic!("expected InvalidKey on {attribute}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_value_holding_the_delimiter_is_refused_by_every_path_before_the_request() {
    let db = Db::new(common::client()).with_table_name(common::table("shared_delim"));
    db.create_table().await.unwrap();
    let ok = db
        .user()
        .create(&User::new("u1", "acme", "U"))
        .await
        .unwrap();
    let before = stored(&db).await;
    // The edges, and random values with `#` somewhere in them.
    let mut rng = Rng(0x5eed_0002);
    let mut bad_values: Vec<String> = ["x#y", "#", "x#", "#y", "a##b"].map(String::from).to_vec();
    for _ in 0..20 {
        let v = random_value(&mut rng);
        let at = v
            .char_indices()
            .map(|(i, _)| i)
            .nth(rng.below(v.chars().count() + 1))
            .unwrap_or(v.len());
        bad_values.push(format!("{}#{}", &v[..at], &v[at..]));
    }
    for bad in bad_values.iter().map(String::as_str) {
        let key = UserKey { id: bad.into() };
        refused(db.user().create(&User::new(bad, "acme", "B")).await, "id");
        refused(db.user().put(&User::new(bad, "acme", "B")).await, "id");
        refused(
            db.user().create(&User::new("u2", bad, "B")).await,
            "company",
        );
        refused(db.user().get(&key).await, "id");
        refused(db.user().get_consistent(&key).await, "id");
        refused(db.user().delete(&key).await, "id");
        refused(db.user().batch_get(&[ok.key(), key.clone()]).await, "id");
        refused(
            db.user().update(&key).set_name("n".into()).send().await,
            "id",
        );
        refused(
            db.user()
                .update(&ok.key())
                .set_company(bad.into())
                .send()
                .await,
            "company",
        );
        refused(db.users_of_company(bad).all().await, "company");
        refused(db.users_of_company(bad).send().await, "company");
        refused(db.tags_of_user(bad).all().await, "owner");
        refused(db.batch_write().delete(&key).send().await, "id");
        refused(
            db.transaction().condition_check(&key, false).send().await,
            "id",
        );
        refused(db.transaction().delete(&key).send().await, "id");
        refused(db.tag().create(&Tag::new(bad, "label")).await, "owner");
    }
    // Nothing was written or changed by the refused calls.
    assert_eq!(stored(&db).await, before);
    assert_eq!(db.user().get(&ok.key()).await.unwrap().unwrap(), ok);
}

#[tokio::test]
async fn an_entity_that_escapes_takes_any_value_and_its_raw_placeholder_does_not() {
    let db = Db::new(common::client()).with_table_name(common::table("shared_tag"));
    db.create_table().await.unwrap();
    for label in ["a#b", "50%", "%23", "#"] {
        db.tag().create(&Tag::new("u%1", label)).await.unwrap();
    }
    let mut keys = stored(&db).await;
    keys.sort();
    assert_eq!(
        keys,
        [
            ("USER#u%1".to_string(), "TAG#%23".to_string()),
            ("USER#u%1".to_string(), "TAG#%2523".to_string()),
            ("USER#u%1".to_string(), "TAG#50%25".to_string()),
            ("USER#u%1".to_string(), "TAG#a%23b".to_string()),
        ]
    );
    let mut labels: Vec<String> = db
        .tags_of_user("u%1")
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.label)
        .collect();
    labels.sort();
    assert_eq!(labels, ["#", "%23", "50%", "a#b"]);
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

async fn raw_item(db: &Db, pk: &str) -> common::Item {
    common::stored_item(db.client(), db.table_name(), pk, pk)
        .await
        .unwrap()
}

/// `stored_as`: the other writer's epoch numbers (`Date.now()`, Unix seconds) read as the
/// instants they are, and dyngen writes the same forms: on create, put, the setters, the
/// maintained times of an update, and in a filter's comparison.
#[tokio::test]
async fn timestamps_stored_as_epoch_numbers_are_read_written_and_compared_as_numbers() {
    let db = Db::new(common::client()).with_table_name(common::table("shared_epoch"));
    db.create_table().await.unwrap();
    let at = |text: &str| Timestamp::parse(text).unwrap();
    // Theirs: a company with Unix seconds, a user seen at `Date.now()` milliseconds.
    db.client()
        .put_item()
        .table_name(db.table_name())
        .item("pk", s("COMPANY#acme"))
        .item("sk", s("COMPANY#acme"))
        .item("_et", s("company"))
        .item("name", s("acme"))
        .item("createdAt", n(1_709_208_000))
        .item("updatedAt", s("2024-02-29T13:00:00+01:00"))
        .send()
        .await
        .unwrap();
    put_as_toolbox(&db, "u1", "acme").await;
    db.client()
        .update_item()
        .table_name(db.table_name())
        .key("pk", s("USER#u1"))
        .key("sk", s("USER#u1"))
        .update_expression("SET lastSeen = :t")
        .expression_attribute_values(":t", n(1_709_208_000_123))
        .send()
        .await
        .unwrap();
    let key = CompanyKey {
        name: "acme".into(),
    };
    let company = db.company().get(&key).await.unwrap().unwrap();
    assert_eq!(company.created_at, at("2024-02-29T12:00:00Z"));
    assert_eq!(
        company.updated_at,
        at("2024-02-29T12:00:00Z"),
        "text reads too"
    );
    let user = db
        .user()
        .get(&UserKey { id: "u1".into() })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.last_seen, Some(at("2024-02-29T12:00:00.123Z")));

    // Ours: a put keeps the stored creation time and writes both as seconds.
    let put = db.company().put(&company).await.unwrap();
    assert_eq!(put.created_at, company.created_at);
    let raw = raw_item(&db, "COMPANY#acme").await;
    assert_eq!(raw["createdAt"], n(1_709_208_000));
    assert_eq!(
        raw["updatedAt"],
        n(put.updated_at.unix_millis().div_euclid(1000))
    );
    let created = db.company().create(&Company::new("globex")).await.unwrap();
    let raw = raw_item(&db, "COMPANY#globex").await;
    assert_eq!(
        raw["createdAt"],
        n(created.created_at.unix_millis().div_euclid(1000))
    );

    // A setter writes milliseconds, and the update's own time stamp stays text (`_md`).
    let seen = at("2030-01-01T00:00:00.456Z");
    db.user()
        .update(&UserKey { id: "u1".into() })
        .set_last_seen(seen)
        .send()
        .await
        .unwrap();
    let raw = raw_item(&db, "USER#u1").await;
    assert_eq!(raw["lastSeen"], n(seen.unix_millis()));
    assert!(matches!(&raw["_md"], AttributeValue::S(_)), "{raw:?}");

    // The filter compares numbers with numbers: before, at and after the value.
    let mut u2 = User::new("u2", "acme", "two");
    u2.last_seen = Some(at("2020-01-01T00:00:00Z"));
    db.user().create(&u2).await.unwrap();
    let raw = raw_item(&db, "USER#u2").await;
    assert_eq!(raw["lastSeen"], n(u2.last_seen.unwrap().unix_millis()));
    // Any instant of the range is stored as its milliseconds and reads back as itself.
    let mut rng = Rng(0x5eed_0003);
    let (lo, hi) = (
        at("0000-01-01T00:00:00Z").unix_millis(),
        at("9999-12-31T23:59:59.999Z").unix_millis(),
    );
    for i in 0..40 {
        let millis =
            lo + ((rng.below(1 << 30) as i64) << 18 | rng.below(1 << 18) as i64) % (hi - lo + 1);
        let mut u = User::new(format!("r{i}"), "random", "r");
        u.last_seen = Some(Timestamp::from_unix_millis(millis).unwrap());
        db.user().create(&u).await.unwrap();
        assert_eq!(
            raw_item(&db, &format!("USER#r{i}")).await["lastSeen"],
            n(millis)
        );
        let back = db.user().get(&u.key()).await.unwrap().unwrap();
        assert_eq!(back.last_seen, u.last_seen);
    }
    for (since, want) in [
        ("2019-12-31T23:59:59.999Z", vec!["u1", "u2"]),
        ("2020-01-01T00:00:00Z", vec!["u1", "u2"]),
        ("2020-01-01T00:00:00.001Z", vec!["u1"]),
        ("2030-01-01T00:00:00.457Z", vec![]),
    ] {
        let mut ids: Vec<String> = db
            .users_seen_since("acme", at(since))
            .all()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .collect();
        ids.sort();
        assert_eq!(ids, want, "since {since}");
    }
}
