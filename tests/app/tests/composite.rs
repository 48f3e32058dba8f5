//! Multi-attribute index keys (`tests/fixtures/valid/composite`) on DynamoDB Local: the
//! table is created with them, items are indexed by their own attributes (numbers in
//! number order, no padding), every pattern shape reads what DynamoDB's rules say, the
//! results equal those of the concatenated-key index beside it, a cursor is bound to every
//! partition attribute, and an index of this kind added to a table with items by a
//! scaffolded migration needs no backfill.

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use dyngen_app_tests::composite::*;
use dyngen_runtime::Error;

async fn db(prefix: &str) -> Db {
    let db = Db::new(common::client()).with_table_name(common::table(prefix));
    db.create_table().await.expect("table created");
    db
}

fn game(id: &str, region: &str, round: i64, score: i64) -> Match {
    Match::new(id, "cup", region, round, score)
}

fn ids(v: &[Match]) -> Vec<String> {
    v.iter().map(|m| m.id.clone()).collect()
}

/// Rounds and scores around the places where text order and number order differ.
async fn seeded(prefix: &str) -> Db {
    let db = db(prefix).await;
    let rows = [
        ("a", "eu", 2, 9),
        ("b", "eu", 10, 1),
        ("c", "eu", 2, 10),
        ("d", "eu", 1, 100),
        ("e", "us", 2, 50),
        ("f", "eu", 9, 99),
        ("g", "eu", 2, 50),
    ];
    for (id, region, round, score) in rows {
        let mut m = game(id, region, round, score);
        m.player = (id != "f").then(|| "ada".to_string());
        db.r#match().create(&m).await.unwrap();
    }
    db
}

#[tokio::test]
async fn a_multi_attribute_index_orders_by_each_attribute_in_turn() {
    let db = seeded("composite").await;
    // (round, score) ascending, as numbers: 1/100, 2/9, 2/10, 2/50, 9/99, 10/1.
    let all = db.bracket("cup", "eu").all().await.unwrap();
    assert_eq!(ids(&all), ["d", "a", "c", "g", "f", "b"]);
    // The region is part of the partition: `us` is another one.
    assert_eq!(ids(&db.bracket("cup", "us").all().await.unwrap()), ["e"]);
    // Equality on the leading sort attribute.
    let round2 = db.bracket_round("cup", "eu", 2).all().await.unwrap();
    assert_eq!(ids(&round2), ["a", "c", "g"]);
    // A comparison on the next one, descending.
    let high = db
        .round_scores_at_least("cup", "eu", 2, 10)
        .all()
        .await
        .unwrap();
    assert_eq!(ids(&high), ["g", "c"]);
    // A range on the first sort attribute: 2 to 9 excludes 10 (a string key would not).
    let between = db.rounds_between("cup", "eu", 2, 9).all().await.unwrap();
    assert_eq!(ids(&between), ["a", "c", "g", "f"]);
    let exact = db.exact_score("cup", "eu", 2, 50).all().await.unwrap();
    assert_eq!(ids(&exact), ["g"]);
    // A sparse index: `f` has no player.
    let ada = db.player_matches("ada", "cup").all().await.unwrap();
    assert_eq!(ada.len(), 6);
    assert!(ada.iter().all(|m| m.id != "f"));
}

#[tokio::test]
async fn the_multi_attribute_index_answers_as_the_concatenated_one_it_replaces() {
    let db = seeded("composite_legacy").await;
    for region in ["eu", "us", "none"] {
        let legacy = db.legacy_bracket("cup", region).all().await.unwrap();
        let bracket = db.bracket("cup", region).all().await.unwrap();
        assert_eq!(legacy, bracket, "region {region}");
    }
    // The items carry the attributes once, and no derived copies for the new index (the
    // write token `_dw` aside).
    let raw = common::stored_item(db.client(), db.table_name(), "MATCH#a", "MATCH")
        .await
        .unwrap();
    assert_eq!(raw["round"], AttributeValue::N("2".into()));
    assert_eq!(raw["region"], AttributeValue::S("eu".into()));
    let mut names: Vec<&str> = raw.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "_dw",
            "_type",
            "gsi1pk",
            "gsi1sk",
            "id",
            "pk",
            "player",
            "region",
            "round",
            "score",
            "sk",
            "tournament"
        ]
    );
}

#[tokio::test]
async fn a_cursor_continues_only_the_partition_of_every_attribute() {
    let db = seeded("composite_cursor").await;
    let first = db.bracket("cup", "eu").limit(2).send().await.unwrap();
    assert_eq!(ids(&first.items), ["d", "a"]);
    let cursor = first.cursor.clone().expect("more pages");
    let next = db
        .bracket("cup", "eu")
        .limit(2)
        .cursor(cursor.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&next.items), ["c", "g"]);
    // Same tournament, another region: the second partition attribute differs.
    let other = db.bracket("cup", "us").cursor(cursor).send().await;
    assert!(
        matches!(other, Err(Error::CursorInputsMismatch { .. })),
        "{other:?}"
    );
}

#[tokio::test]
async fn an_empty_string_in_a_key_attribute_is_refused_before_the_request() {
    let db = db("composite_empty").await;
    let bad = db.r#match().create(&game("x", "", 1, 1)).await;
    assert!(matches!(bad, Err(Error::InvalidKey { .. })), "{bad:?}");
    db.r#match().create(&game("x", "eu", 1, 1)).await.unwrap();
    let set = db
        .r#match()
        .update(&MatchKey { id: "x".into() })
        .set_region(String::new(), "cup".into(), 1, 1)
        .send()
        .await;
    assert!(matches!(set, Err(Error::InvalidKey { .. })), "{set:?}");
    // A query whose partition attribute is empty matches nothing, without a request.
    assert!(db.bracket("cup", "").all().await.unwrap().is_empty());
}

const BEFORE: &str = r#"
version: 1
table:
  name: games
  partition_key: pk
  sort_key: sk
  indexes:
    legacy: { partition_key: gsi1pk, sort_key: gsi1sk }
entities:
  Game:
    attributes: { id: string, league: string, week: integer }
    keys:
      primary: { pk: "GAME#{id}", sk: "GAME" }
      legacy: { pk: "L#{league}", sk: "W#{week:02}" }
access_patterns:
  league: { entity: Game, index: legacy, inputs: [league] }
"#;

#[tokio::test]
async fn adding_a_multi_attribute_index_to_a_table_with_items_needs_no_backfill() {
    use dyngen_runtime::migrate::{Options, run};
    let client = common::client();
    let table = common::table("composite_mig");
    let mut files = Vec::new();
    assert_eq!(common::scaffold(BEFORE, &mut files), ["0001_create_table"]);
    run(
        &client,
        &table,
        &common::runnable(&files),
        &Options::default(),
    )
    .await
    .unwrap();
    let s = |v: &str| AttributeValue::S(v.into());
    for (id, week) in [("1", 10), ("2", 9), ("3", 1)] {
        client
            .put_item()
            .table_name(&table)
            .item("pk", s(&format!("GAME#{id}")))
            .item("sk", s("GAME"))
            .item("_type", s("Game"))
            .item("id", s(id))
            .item("league", s("x"))
            .item("week", AttributeValue::N(week.to_string()))
            .send()
            .await
            .unwrap();
    }
    let after = BEFORE
        .replace(
            "    legacy: { partition_key: gsi1pk, sort_key: gsi1sk }\n",
            "    legacy: { partition_key: gsi1pk, sort_key: gsi1sk }\n    byWeek: { partition_keys: [league], sort_keys: [week] }\n",
        );
    assert_eq!(
        common::scaffold(&after, &mut files),
        ["0002_add_index_byWeek"]
    );
    let text = &files.last().unwrap().text;
    assert!(!text.contains("backfill"), "{text}");
    let report = run(
        &client,
        &table,
        &common::runnable(&files),
        &Options::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.applied, ["0002_add_index_byWeek"]);
    assert_eq!(report.backfilled, 0);
    // The existing items are in the new index, in number order.
    let out = client
        .query()
        .table_name(&table)
        .index_name("byWeek")
        .key_condition_expression("league = :l")
        .expression_attribute_values(":l", s("x"))
        .send()
        .await
        .unwrap();
    let weeks: Vec<&str> = out
        .items()
        .iter()
        .map(|i| i["week"].as_n().unwrap().as_str())
        .collect();
    assert_eq!(weeks, ["1", "9", "10"]);
}
