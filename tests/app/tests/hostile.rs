//! Hostile names and every attribute type, stored and read back through DynamoDB Local.

mod common;

use std::collections::BTreeMap;

use dyngen_app_tests::hostile::*;
use dyngen_runtime::{Date, Timestamp};

#[tokio::test]
async fn every_attribute_type_round_trips_through_dynamodb() {
    let db = Db::new(common::client()).with_table_name(common::table("hostile"));
    db.create_table().await.unwrap();
    let value = Result {
        r#type: "t\"#%".into(),
        self_: "s".into(),
        r#async: -7,
        _1st: Some(true),
        user_id: "u#1".into(),
        r#match: ResultMatch::InProgress,
        r#fn: vec![1.5, -0.25, 1e100, 123_456.789e-120],
        r#impl: BTreeMap::from([("a".to_string(), 1), ("b#c".to_string(), -2)]),
        r#where: Some([3, 1, 2].into()),
        r#loop: 0.1,
        weird: "\\ and \"".into(),
    };
    let stored = db.result().create(&value).await.unwrap();
    assert_eq!(
        db.result().get(&value.key()).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(stored, value);

    // The index on TYPE/SELF (a number sort key from `{async}`) answers `gte`.
    let found = db.r#type("t\"#%", -10).all().await.unwrap();
    assert_eq!(found, std::slice::from_ref(&value));
    assert!(db.r#type("t\"#%", 0).all().await.unwrap().is_empty());

    let opt = Option {
        self_: "x".into(),
        crate_: Timestamp::from_unix_millis(1_709_251_199_999).unwrap(),
        super_: Date::new(2024, 2, 29).unwrap(),
    };
    db.option().create(&opt).await.unwrap();
    let back = db.option().get(&opt.key()).await.unwrap().unwrap();
    assert_eq!(back, opt);
    assert_eq!(back.crate_.to_string(), "2024-02-29T23:59:59.999Z");
    let later = db
        .self_("x", Date::new(2024, 1, 1).unwrap())
        .all()
        .await
        .unwrap();
    assert_eq!(later, [opt]);
}
