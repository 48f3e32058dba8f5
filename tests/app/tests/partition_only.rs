//! A table with a partition key only (`tests/fixtures/valid/sessions`), against DynamoDB
//! Local: the runner creates it and keeps its ledger in one item; every repository
//! operation, both patterns, a transaction and a batch work on one-attribute keys; and a
//! backfill adds a new index's keys to its items.

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use dyngen::diag::Source;
use dyngen::migrations::MigrationSource;
use dyngen_app_tests::sessions::*;
use dyngen_runtime::{Error, Timestamp};

fn at(s: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_800_000_000_000 + s * 1000).unwrap()
}

#[tokio::test]
async fn every_operation_works_on_a_table_with_a_partition_key_only() {
    let db = Db::new(common::client()).with_table_name(common::table("pkonly"));
    let report = db.migrate(&Default::default()).await.unwrap();
    assert!(report.created_table);
    assert_eq!(report.applied, ["0001_create_table"]);
    // The ledger holds: nothing to do the second time.
    let again = db.migrate(&Default::default()).await.unwrap();
    assert_eq!((again.applied.len(), again.already_applied), (0, 1));

    let s1 = db
        .session()
        .create(&Session::new("t1", "ada", at(0)))
        .await
        .unwrap();
    assert_eq!(s1.version, 1);
    let dup = db.session().create(&Session::new("t1", "ada", at(5))).await;
    assert!(matches!(dup, Err(Error::AlreadyExists { .. })), "{dup:?}");
    db.session()
        .create(&Session::new("t2", "ada", at(10)))
        .await
        .unwrap();
    db.session()
        .create(&Session::new("t3", "bob", at(20)))
        .await
        .unwrap();

    let key = SessionKey { token: "t1".into() };
    assert_eq!(db.session().get(&key).await.unwrap().as_ref(), Some(&s1));
    let updated = db
        .session()
        .update(&key)
        .set_device("phone".into())
        .send()
        .await
        .unwrap();
    assert_eq!(updated.device.as_deref(), Some("phone"));
    assert_eq!(updated.version, 2);

    let by_token = db.session_by_token("t1").all().await.unwrap();
    assert_eq!(by_token, std::slice::from_ref(&updated));
    let ada: Vec<String> = db
        .sessions_of_user("ada")
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.token)
        .collect();
    assert_eq!(ada, ["t2", "t1"], "newest first");

    // A transaction and a batch over one-attribute keys.
    db.transaction()
        .create(&Counter::new("visits"))
        .delete(&SessionKey { token: "t3".into() })
        .send()
        .await
        .unwrap();
    let counter = db
        .counter()
        .update(&CounterKey {
            name: "visits".into(),
        })
        .add_value(5)
        .send()
        .await
        .unwrap();
    assert_eq!(counter.value, 5);
    let got = db
        .session()
        .batch_get(&[key.clone(), SessionKey { token: "t3".into() }])
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "t3 was deleted in the transaction");
    let deleted = db.session().delete(&key).await.unwrap();
    assert_eq!(deleted.map(|s| s.token).as_deref(), Some("t1"));
    assert_eq!(db.session().get(&key).await.unwrap(), None);
}

/// Migrations generated from two versions of a partition-key-only schema: the second adds
/// an index, and its backfill gives existing items their keys.
#[tokio::test]
async fn a_new_index_is_backfilled_on_a_table_with_a_partition_key_only() {
    let v1 = "version: 1\ntable: { name: tags, partition_key: id }\nentities:\n  Tag:\n    attributes: { label: string, color: string }\n    keys:\n      primary: { pk: \"TAG#{label}\" }\n";
    let v2 = v1
        .replace(
            "table: { name: tags, partition_key: id }",
            "table: { name: tags, partition_key: id, indexes: { byColor: { partition_key: colorKey, sort_key: labelKey } } }",
        )
        + "      byColor: { pk: \"COLOR#{color}\", sk: \"{label}\" }\n";
    let mut files: Vec<MigrationSource> = Vec::new();
    for schema in [v1.to_string(), v2] {
        let (set, _) =
            dyngen::pipeline::generate_files(&Source::new("schema.yaml", schema), &files, false)
                .unwrap_or_else(|e| panic!("{e}"));
        for (path, text) in set.files {
            if let Some(file) = path.strip_prefix("migrations/") {
                files.push(MigrationSource {
                    file: file.into(),
                    text,
                });
            }
        }
    }
    let migrations: Vec<dyngen_runtime::migrate::Migration> = files
        .iter()
        .map(|f| dyngen_runtime::migrate::Migration::parse(&f.file, &f.text).unwrap())
        .collect();
    assert_eq!(migrations.len(), 2);
    let client = common::client();
    let table = common::table("pkonly-bf");
    let options = dyngen_runtime::migrate::Options {
        poll: Duration::from_millis(100),
        segments: 3,
        ..Default::default()
    };
    dyngen_runtime::migrate::run(&client, &table, &migrations[..1], &options)
        .await
        .unwrap();
    for (label, color) in [("a", "red"), ("b", "red"), ("c", "blue")] {
        client
            .put_item()
            .table_name(&table)
            .item("id", AttributeValue::S(format!("TAG#{label}")))
            .item("_type", AttributeValue::S("Tag".into()))
            .item("label", AttributeValue::S(label.into()))
            .item("color", AttributeValue::S(color.into()))
            .send()
            .await
            .unwrap();
    }
    let report = dyngen_runtime::migrate::run(&client, &table, &migrations, &options)
        .await
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.backfilled, 3);
    let red = client
        .query()
        .table_name(&table)
        .index_name("byColor")
        .key_condition_expression("colorKey = :c")
        .expression_attribute_values(":c", AttributeValue::S("COLOR#red".into()))
        .send()
        .await
        .unwrap();
    let labels: Vec<&str> = red
        .items()
        .iter()
        .map(|i| i["labelKey"].as_s().unwrap().as_str())
        .collect();
    assert_eq!(labels, ["a", "b"]);
    // Applied once: a third run finds both in the one-item ledger.
    let again = dyngen_runtime::migrate::run(&client, &table, &migrations, &options)
        .await
        .unwrap();
    assert_eq!((again.applied.len(), again.already_applied), (0, 2));
}
