//! `TableChange` on records captured from DynamoDB Local's stream: the same writes are
//! made through the generated API on tables with each stream view type, the records are
//! read with the Streams API as the Lambda event a function receives
//! (`DynamoDbLocal::stream_event`), passed through that event's JSON, and decoded. With both images every entity change decodes to what
//! the API returned; a view type that lacks an image the change needs gives
//! `MissingImage`; dyngen's own items and another writer's are `OtherItem`s.

mod common;

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use dyngen_app_tests::streams::*;
use dyngen_runtime::stream::{Change, ChangeKind, Event, StreamError};
use serde_json::{Value, json};

/// Every record of the table's stream, as the JSON of a Lambda event's records.
async fn stream_records(table: &str) -> Vec<Value> {
    let event = common::local().stream_event(table).await.unwrap();
    event
        .records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
}

/// One record's partition and sort key, for grouping changes by item.
fn key_of(record: &Value) -> (String, String) {
    let k = &record["dynamodb"]["Keys"];
    let text = |a: &str| k[a]["S"].as_str().unwrap_or_default().to_string();
    (text("pk"), text("sk"))
}

fn decode(record: &Value) -> Result<TableChange, StreamError> {
    let event: Event = serde_json::from_value(json!({ "Records": [record] })).unwrap();
    TableChange::from_event(&event).remove(0)
}

/// The writes, through the generated API; returns each entity change as the API saw it,
/// by item key, in order.
async fn write_everything(db: &Db) -> BTreeMap<(String, String), Vec<TableChange>> {
    let mut expected: BTreeMap<(String, String), Vec<TableChange>> = BTreeMap::new();
    let mut note = |pk: &str, sk: &str, c: TableChange| {
        expected.entry((pk.into(), sk.into())).or_default().push(c)
    };
    let user = db
        .user()
        .create(&User::new("u1", "a@x", "Ann"))
        .await
        .unwrap();
    note(
        "USER#u1",
        "PROFILE",
        TableChange::User(Change::Inserted { new: user.clone() }),
    );
    let mut session = Session::new("s1", "u1");
    session.expires_at = Some(Timestamp::from_unix_millis(4_102_444_800_000).unwrap());
    let session = db.session().create(&session).await.unwrap();
    note(
        "USER#u1",
        "SESSION#s1",
        TableChange::Session(Change::Inserted {
            new: session.clone(),
        }),
    );
    let other = db.other().create(&Other::new("o1")).await.unwrap();
    note(
        "OTHER#o1",
        "OTHER",
        TableChange::Other(Change::Inserted { new: other.clone() }),
    );

    let renamed = db
        .user()
        .update(&user.key())
        .set_name("Anne".into())
        .send()
        .await
        .unwrap();
    note(
        "USER#u1",
        "PROFILE",
        TableChange::User(Change::Modified {
            old: user,
            new: renamed.clone(),
        }),
    );
    let moved = db
        .user()
        .update(&renamed.key())
        .set_email("b@x".into())
        .send()
        .await
        .unwrap();
    note(
        "USER#u1",
        "PROFILE",
        TableChange::User(Change::Modified {
            old: renamed,
            new: moved.clone(),
        }),
    );
    let noted = db
        .other()
        .update(&other.key())
        .set_note("n".into())
        .send()
        .await
        .unwrap();
    note(
        "OTHER#o1",
        "OTHER",
        TableChange::Other(Change::Modified {
            old: other,
            new: noted.clone(),
        }),
    );

    for (pk, sk, change) in [
        (
            "USER#u1",
            "SESSION#s1",
            db.session()
                .delete(&session.key())
                .await
                .unwrap()
                .map(|old| {
                    TableChange::Session(Change::Removed {
                        old,
                        expired: false,
                    })
                }),
        ),
        (
            "USER#u1",
            "PROFILE",
            db.user().delete(&moved.key()).await.unwrap().map(|old| {
                TableChange::User(Change::Removed {
                    old,
                    expired: false,
                })
            }),
        ),
        (
            "OTHER#o1",
            "OTHER",
            db.other().delete(&noted.key()).await.unwrap().map(|old| {
                TableChange::Other(Change::Removed {
                    old,
                    expired: false,
                })
            }),
        ),
    ] {
        note(pk, sk, change.expect("the item existed"));
    }
    // Another writer's item, of an entity this schema does not declare.
    for put in [true, false] {
        let robot = |a: &str, v: &str| {
            (
                a.to_string(),
                aws_sdk_dynamodb::types::AttributeValue::S(v.into()),
            )
        };
        if put {
            db.client()
                .put_item()
                .table_name(db.table_name())
                .set_item(Some(
                    [
                        robot("pk", "ROBOT#r"),
                        robot("sk", "ROBOT"),
                        robot("_type", "Robot"),
                    ]
                    .into(),
                ))
                .send()
                .await
                .unwrap();
        } else {
            db.client()
                .delete_item()
                .table_name(db.table_name())
                .set_key(Some([robot("pk", "ROBOT#r"), robot("sk", "ROBOT")].into()))
                .send()
                .await
                .unwrap();
        }
    }
    expected
}

/// A table of the design with a stream of `view`, made directly (the schema's own view is
/// `NEW_AND_OLD_IMAGES`, made by the migration runner in the first test).
async fn table_with_view(name: &str, view: StreamViewType) -> Db {
    let client = common::client();
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    Db::new(client).with_table_name(name)
}

fn is_internal(c: &TableChange) -> bool {
    matches!(c, TableChange::OtherItem(o) if o.internal)
}

#[tokio::test]
async fn with_both_images_every_change_decodes_to_what_the_api_returned() {
    let table = common::table("streams-both");
    let db = Db::new(common::client()).with_table_name(&table);
    db.migrate(&Default::default()).await.unwrap();
    let expected = write_everything(&db).await;
    let records = stream_records(&table).await;
    let mut seen: BTreeMap<(String, String), Vec<TableChange>> = BTreeMap::new();
    let (mut internal, mut foreign) = (0, Vec::new());
    for r in &records {
        let change = decode(r).unwrap_or_else(|e| panic!("{e}: {r}"));
        match &change {
            TableChange::OtherItem(o) if o.internal => {
                assert!(key_of(r).0.starts_with("#dyngen"), "{r}");
                internal += 1;
            }
            TableChange::OtherItem(o) => foreign.push((o.kind, o.entity_type.clone(), key_of(r))),
            _ => seen.entry(key_of(r)).or_default().push(change),
        }
    }
    assert_eq!(seen, expected);
    // The runner's ledger and lock, and the email guard claimed, moved and released.
    assert!(internal >= 4, "{internal} internal changes");
    let robot = Some("Robot".to_string());
    let key = ("ROBOT#r".to_string(), "ROBOT".to_string());
    assert_eq!(
        foreign,
        [
            (ChangeKind::Inserted, robot.clone(), key.clone()),
            (ChangeKind::Removed, robot, key)
        ]
    );

    // The same REMOVE, as DynamoDB's time to live reports it, is an expiry.
    let removed = records
        .iter()
        .find(|r| r["eventName"] == "REMOVE" && key_of(r).1 == "SESSION#s1")
        .unwrap();
    let mut by_ttl = removed.clone();
    by_ttl["userIdentity"] = json!({ "type": "Service", "principalId": "dynamodb.amazonaws.com" });
    match decode(&by_ttl).unwrap() {
        TableChange::Session(Change::Removed { old, expired: true }) => assert_eq!(old.id, "s1"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        decode(removed).unwrap(),
        TableChange::Session(Change::Removed { expired: false, .. })
    ));
    // An event name no stream writes, and an image that is not the entity it says.
    let mut odd = removed.clone();
    odd["eventName"] = json!("UPSERT");
    assert!(matches!(
        decode(&odd),
        Err(StreamError::UnknownEvent { .. })
    ));
    let mut broken = removed.clone();
    broken["dynamodb"]["OldImage"]["user"] = json!({ "N": "1" });
    assert!(
        matches!(decode(&broken), Err(StreamError::InvalidItem { .. })),
        "{:?}",
        decode(&broken)
    );
}

#[tokio::test]
async fn a_view_type_without_an_image_a_change_needs_is_a_typed_error() {
    for (view, suffix) in [
        (StreamViewType::NewImage, "new"),
        (StreamViewType::OldImage, "old"),
        (StreamViewType::KeysOnly, "keys"),
    ] {
        let db = table_with_view(&common::table(&format!("streams-{suffix}")), view.clone()).await;
        let expected = write_everything(&db).await;
        let records = stream_records(db.table_name()).await;
        assert!(records.len() >= 11, "{} records", records.len());
        let mut decoded: BTreeMap<(String, String), Vec<TableChange>> = BTreeMap::new();
        for r in &records {
            let kind = match r["eventName"].as_str() {
                Some("INSERT") => ChangeKind::Inserted,
                Some("MODIFY") => ChangeKind::Modified,
                _ => ChangeKind::Removed,
            };
            // Which image the change needs, and whether this view keeps it.
            let needs_old = kind != ChangeKind::Inserted;
            let needs_new = kind != ChangeKind::Removed;
            let has_old = view == StreamViewType::OldImage;
            let has_new = view == StreamViewType::NewImage;
            // The entity is known only from an image the record carries.
            let entity_known = (has_old && needs_old) || (has_new && needs_new);
            match decode(r) {
                // dyngen's own items (the email guard) are told by their key alone.
                Ok(c) if is_internal(&c) => assert!(key_of(r).0.starts_with("#dyngen"), "{r}"),
                Ok(c) if key_of(r).0.starts_with("ROBOT") => {
                    assert!(
                        matches!(&c, TableChange::OtherItem(o) if !o.internal),
                        "{c:?}"
                    )
                }
                Ok(c) => {
                    assert!(
                        entity_known && (!needs_old || has_old) && (!needs_new || has_new),
                        "{view:?} {r}"
                    );
                    decoded.entry(key_of(r)).or_default().push(c);
                }
                Err(StreamError::MissingImage {
                    image,
                    kind: k,
                    view: v,
                    ..
                }) => {
                    assert_eq!(k, kind);
                    assert_eq!(v.as_deref(), Some(view.as_str()));
                    let missing_old = image == "old" && needs_old && !has_old;
                    let missing_new = image == "new" && needs_new && !has_new;
                    assert!(
                        missing_old || missing_new || !entity_known,
                        "{view:?} {image} {r}"
                    );
                }
                Err(e) => panic!("{view:?}: {e}"),
            }
        }
        // What does decode is exactly the expected changes of that kind.
        let keep = |c: &TableChange| {
            let kind = match c {
                TableChange::User(c) => c.kind(),
                TableChange::Session(c) => c.kind(),
                TableChange::Other(c) => c.kind(),
                TableChange::OtherItem(o) => o.kind,
            };
            match view {
                StreamViewType::NewImage => kind == ChangeKind::Inserted,
                StreamViewType::OldImage => kind == ChangeKind::Removed,
                _ => false,
            }
        };
        let wanted: BTreeMap<_, Vec<TableChange>> = expected
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().filter(keep).collect::<Vec<_>>()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        assert_eq!(decoded, wanted, "{view:?}");
    }
}

/// Seeded random sequences of creates, updates and deletes of users (with a unique
/// email, so some writes are refused) and of `Other` items: the stream, decoded, is per
/// item exactly the sequence of changes the API reported, whatever the interleaving.
#[tokio::test]
async fn random_operation_sequences_decode_to_what_the_api_reported() {
    use dyngen_runtime::Error;
    let table = common::table("streams-random");
    let db = Db::new(common::client()).with_table_name(&table);
    db.migrate(&Default::default()).await.unwrap();
    let mut rng = common::Rng(0x5eed_5717);
    let mut expected: BTreeMap<(String, String), Vec<TableChange>> = BTreeMap::new();
    for _ in 0..80 {
        let id = rng.pick(&["1", "2", "3"]);
        let email = rng.pick(&["a@x", "b@x", "c@x"]);
        let user_key = (format!("USER#{id}"), "PROFILE".to_string());
        let other_key = (format!("OTHER#{id}"), "OTHER".to_string());
        let key = UserKey { id: id.into() };
        let (at, change) = match rng.below(6) {
            0 => match db.user().create(&User::new(id, email, "n")).await {
                Ok(new) => (user_key, Some(TableChange::User(Change::Inserted { new }))),
                Err(Error::AlreadyExists { .. } | Error::UniqueViolation { .. }) => {
                    (user_key, None)
                }
                Err(e) => panic!("{e}"),
            },
            1 | 2 => {
                let old = db.user().get_consistent(&key).await.unwrap();
                let update = db.user().update(&key);
                let update = match rng.below(2) {
                    0 => update.set_name(format!("n{}", rng.below(100))),
                    _ => update.set_email(email.into()),
                };
                match (update.send().await, old) {
                    (Ok(new), Some(old)) => (
                        user_key,
                        Some(TableChange::User(Change::Modified { old, new })),
                    ),
                    (Err(Error::NotFound { .. } | Error::UniqueViolation { .. }), _) => {
                        (user_key, None)
                    }
                    (other, _) => panic!("{other:?}"),
                }
            }
            3 => {
                let gone = db.user().delete(&key).await.unwrap();
                (
                    user_key,
                    gone.map(|old| {
                        TableChange::User(Change::Removed {
                            old,
                            expired: false,
                        })
                    }),
                )
            }
            4 => match db
                .other()
                .put(&Other {
                    id: id.into(),
                    note: Some(format!("{}", rng.below(9))),
                })
                .await
            {
                Ok(new) => {
                    let old =
                        expected
                            .get(&other_key)
                            .and_then(|v| v.last())
                            .and_then(|c| match c {
                                TableChange::Other(
                                    Change::Inserted { new } | Change::Modified { new, .. },
                                ) => Some(new.clone()),
                                _ => None,
                            });
                    // A write that changes nothing leaves no stream record.
                    let change = match old {
                        Some(old) if old == new => None,
                        Some(old) => Some(Change::Modified { old, new }),
                        None => Some(Change::Inserted { new }),
                    };
                    (other_key, change.map(TableChange::Other))
                }
                Err(e) => panic!("{e}"),
            },
            _ => {
                let gone = db
                    .other()
                    .delete(&OtherKey { id: id.into() })
                    .await
                    .unwrap();
                (
                    other_key,
                    gone.map(|old| {
                        TableChange::Other(Change::Removed {
                            old,
                            expired: false,
                        })
                    }),
                )
            }
        };
        if let Some(c) = change {
            expected.entry(at).or_default().push(c);
        }
    }
    let mut seen: BTreeMap<(String, String), Vec<TableChange>> = BTreeMap::new();
    for r in &stream_records(&table).await {
        match decode(r).unwrap_or_else(|e| panic!("{e}: {r}")) {
            TableChange::OtherItem(o) => assert!(o.internal, "{o:?}"),
            change => seen.entry(key_of(r)).or_default().push(change),
        }
    }
    assert_eq!(seen, expected);
}
