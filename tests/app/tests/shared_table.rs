//! A table shared with a Node.js service (DynamoDB-Toolbox style) on DynamoDB Local: items
//! it wrote, with its own entity-type attribute and values, are read by the generated get
//! and patterns, and items the Rust side writes carry the values it expects.

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use dyngen_app_tests::shared::*;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A put of the other writer's user item `USER#{id}` (its key only; add attributes).
fn other_writers_user(
    db: &Db,
    id: &str,
) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
    db.client()
        .put_item()
        .table_name(db.table_name())
        .item("pk", s(&format!("USER#{id}")))
        .item("sk", s(&format!("USER#{id}")))
}

#[tokio::test]
async fn items_of_the_other_writer_are_read_and_ours_carry_its_type_values() {
    let db = Db::new(common::client()).with_table_name(common::table("shared"));
    db.create_table().await.unwrap();
    // As the Node.js service writes a user: `_et: "user"`, its own timestamps.
    db.client()
        .put_item()
        .table_name(db.table_name())
        .item("pk", s("USER#u1"))
        .item("sk", s("USER#u1"))
        .item("gsi1pk", s("COMPANY#acme"))
        .item("gsi1sk", s("USER#u1"))
        .item("_et", s("user"))
        .item("id", s("u1"))
        .item("company", s("acme"))
        .item("name", s("From Node"))
        .item("_ct", s("2024-01-02T05:04:05+02:00"))
        .item("_md", s("2024-01-02"))
        .send()
        .await
        .unwrap();
    let theirs = db
        .user()
        .get(&UserKey { id: "u1".into() })
        .await
        .unwrap()
        .expect("the other writer's user is read");
    assert_eq!(theirs.name, "From Node");
    // Its timestamps, at another offset and as a bare date, read as the instants they are.
    assert_eq!(theirs.ct.to_string(), "2024-01-02T03:04:05.000Z");
    assert_eq!(theirs.md.to_string(), "2024-01-02T00:00:00.000Z");

    let ours = db
        .user()
        .create(&User::new("u2", "acme", "From Rust"))
        .await
        .unwrap();
    let raw = common::stored_item(db.client(), db.table_name(), "USER#u2", "USER#u2")
        .await
        .unwrap();
    assert_eq!(raw["_et"], s("user"));
    assert!(raw.contains_key("_ct") && raw.contains_key("_md"));
    assert!(!raw.contains_key("_type"), "{raw:?}");

    // The pattern returns both writers' users (it skips no item of type `user`).
    let mut names: Vec<String> = db
        .users_of_company("acme")
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    names.sort();
    assert_eq!(names, ["From Node", "From Rust"]);
    assert_eq!(ours.name, "From Rust");
    // A company of the other writer is not mistaken for a user, nor the reverse.
    db.client()
        .put_item()
        .table_name(db.table_name())
        .item("pk", s("COMPANY#acme"))
        .item("sk", s("COMPANY#acme"))
        .item("_et", s("company"))
        .item("name", s("acme"))
        .item("createdAt", AttributeValue::N("1709208000".into()))
        .item("updatedAt", AttributeValue::N("1709208000".into()))
        .send()
        .await
        .unwrap();
    let acme = db
        .company()
        .get(&CompanyKey {
            name: "acme".into(),
        })
        .await
        .unwrap();
    assert_eq!(acme.map(|c| c.name).as_deref(), Some("acme"));
}

#[tokio::test]
async fn an_item_that_does_not_decode_is_reported_by_key_without_failing_the_page() {
    let db = Db::new(common::client()).with_table_name(common::table("shared_lenient"));
    db.create_table().await.unwrap();
    for id in ["a", "b", "c"] {
        db.user().create(&User::new(id, "acme", id)).await.unwrap();
    }
    // The other writer's items: one without a name, one with a timestamp that is not one.
    for (id, name, created) in [
        ("x", None, "2024-01-02T03:04:05.000Z"),
        ("y", Some("Y"), "Jan 2 2024"),
    ] {
        let mut put = other_writers_user(&db, id)
            .item("gsi1pk", s("COMPANY#acme"))
            .item("gsi1sk", s(&format!("USER#{id}")))
            .item("_et", s("user"))
            .item("id", s(id))
            .item("company", s("acme"))
            .item("_ct", s(created))
            .item("_md", s("2024-01-02T03:04:05.000Z"));
        if let Some(name) = name {
            put = put.item("name", s(name));
        }
        put.send().await.unwrap();
    }
    // The strict read fails on the first of them...
    let strict = db.users_of_company("acme").all().await;
    assert!(
        matches!(strict, Err(dyngen_runtime::Error::InvalidItem(_))),
        "{strict:?}"
    );
    // ... the lenient one returns the rest and names each item that failed, by key.
    let (users, errors) = db.users_of_company("acme").all_lenient().await.unwrap();
    let mut ids: Vec<String> = users.into_iter().map(|u| u.id).collect();
    ids.sort();
    assert_eq!(ids, ["a", "b", "c"]);
    let mut why: Vec<(String, &str)> = errors
        .iter()
        .map(|e| (e.key.clone(), e.attribute))
        .collect();
    why.sort();
    assert_eq!(
        why,
        [
            ("(USER#x, USER#x)".to_string(), "name"),
            ("(USER#y, USER#y)".to_string(), "_ct")
        ]
    );
    // One page at a time too, across pages.
    let mut seen = (0, 0);
    let mut cursor = None;
    loop {
        let mut q = db.users_of_company("acme").limit(2);
        if let Some(c) = cursor.take() {
            q = q.cursor(c);
        }
        let page = q.send_lenient().await.unwrap();
        seen.0 += page.items.len();
        seen.1 += page.errors.len();
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, (3, 2));
}

#[tokio::test]
async fn integers_a_javascript_reader_would_lose_are_refused_before_the_request() {
    use dyngen_runtime::Error;
    let db = Db::new(common::client()).with_table_name(common::table("shared_safe"));
    db.create_table().await.unwrap();
    let max = (1i64 << 53) - 1;
    let refused = |r: &Result<User, Error>| matches!(r, Err(Error::InvalidValue { attribute, .. }) if ["points", "badges", "history"].contains(attribute));
    let mut u = User::new("n", "acme", "N");
    u.points = max + 1;
    let r = db.user().create(&u).await;
    assert!(refused(&r), "{r:?}");
    u.points = -max - 1;
    assert!(refused(&db.user().put(&u).await));
    u.points = 0;
    u.badges = [1, i64::MAX].into();
    assert!(refused(&db.user().create(&u).await));
    u.badges = [1, max].into();
    u.history = Some(vec![max, -(max + 1)]);
    assert!(refused(&db.user().create(&u).await));
    // Nothing was written by the refused writes; the edges themselves are fine.
    assert_eq!(
        db.user().get(&UserKey { id: "n".into() }).await.unwrap(),
        None
    );
    u.history = Some(vec![max, -max]);
    u.points = -max;
    let stored = db.user().create(&u).await.unwrap();
    assert_eq!(stored.points, -max);

    let key = UserKey { id: "n".into() };
    let set = db.user().update(&key).set_points(max + 1).send().await;
    assert!(refused(&set), "{set:?}");
    let add = db.user().update(&key).add_points(1 << 60).send().await;
    assert!(refused(&add), "{add:?}");
    let members = db
        .user()
        .update(&key)
        .add_to_badges([1 << 54].into())
        .send()
        .await;
    assert!(refused(&members), "{members:?}");
    let ok = db.user().update(&key).add_points(1).send().await.unwrap();
    assert_eq!(ok.points, -max + 1);
    // Floats DynamoDB would store as unsafe integers, on create and in setters.
    let score = |r: &Result<User, Error>| {
        matches!(
            r,
            Err(Error::InvalidValue {
                attribute: "score",
                ..
            })
        )
    };
    let mut f = User::new("f", "acme", "F");
    f.score = Some(1e21);
    assert!(score(&db.user().create(&f).await));
    f.score = Some(-(max as f64) - 2.0);
    assert!(score(&db.user().create(&f).await));
    f.score = Some(max as f64);
    db.user().create(&f).await.unwrap();
    let fkey = UserKey { id: "f".into() };
    let set = db.user().update(&fkey).set_score(1e300).send().await;
    assert!(score(&set), "{set:?}");
    let set = db
        .user()
        .update(&fkey)
        .set_score(0.25)
        .send()
        .await
        .unwrap();
    assert_eq!(set.score, Some(0.25));

    // Reading is not restricted: a larger number another writer stored reads back.
    db.client()
        .update_item()
        .table_name(db.table_name())
        .key("pk", s("USER#n"))
        .key("sk", s("USER#n"))
        .update_expression("SET points = :p")
        .expression_attribute_values(":p", AttributeValue::N((1i64 << 60).to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(db.user().get(&key).await.unwrap().unwrap().points, 1 << 60);
}

/// Reads by key check the entity type as patterns do: an item the other writer stored at
/// a user's key with another type value (or none) is absent from get, get_consistent and
/// batch_get, never decoded as a user.
#[tokio::test]
async fn reads_by_key_return_only_items_of_their_entity() {
    let db = Db::new(common::client()).with_table_name(common::table("shared_ident"));
    db.create_table().await.unwrap();
    let foreign = |id: &str, et: Option<&str>| {
        let mut put = other_writers_user(&db, id)
            .item("id", s(id))
            .item("company", s("acme"))
            .item("name", s("not a user"));
        if let Some(et) = et {
            put = put.item("_et", s(et));
        }
        put.send()
    };
    foreign("a1", Some("admin")).await.unwrap();
    foreign("a2", None).await.unwrap();
    db.user()
        .create(&User::new("u1", "acme", "A user"))
        .await
        .unwrap();
    let key = |id: &str| UserKey { id: id.into() };
    for id in ["a1", "a2"] {
        assert_eq!(db.user().get(&key(id)).await.unwrap(), None, "{id}");
        assert_eq!(db.user().get_consistent(&key(id)).await.unwrap(), None);
    }
    let got = db
        .user()
        .batch_get(&[key("a1"), key("u1"), key("a2")])
        .await
        .unwrap();
    assert_eq!(
        got.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["u1"]
    );
    assert!(db.user().get(&key("u1")).await.unwrap().is_some());
}
