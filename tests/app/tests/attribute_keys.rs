//! Attribute keys (`tests/fixtures/valid/attribute_keys`, AWS's GameScores) against
//! DynamoDB Local: the index is keyed by the entity's own `GameTitle` (a string, stored raw
//! even with `#` and `%`) and `TopScore` (a number, so it sorts as one); there is no escaped
//! copy, another client reads the index as it is, and DynamoDB's refusals (an empty string
//! key) are typed errors first.

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use dyngen_app_tests::attribute_keys::*;
use dyngen_runtime::Error;

fn score(user: &str, game: &str, top: i64) -> GameScore {
    GameScore::new(user, game, top)
}

#[tokio::test]
async fn an_index_keyed_by_the_entitys_own_attributes() {
    let db = Db::new(common::client()).with_table_name(common::table("gamescores"));
    db.migrate(&Default::default()).await.unwrap();
    let game = "#hash%game";
    for (user, top) in [("u1", 9), ("u2", 10), ("u3", 100), ("u4", 99), ("u5", -3)] {
        db.game_score()
            .create(&score(user, game, top))
            .await
            .unwrap();
    }
    db.game_score()
        .create(&score("u1", "other", 1000))
        .await
        .unwrap();

    // Stored once, as the attributes themselves: a string and a number.
    let raw = db
        .client()
        .get_item()
        .table_name(db.table_name())
        .set_key(Some(score("u1", game, 0).key().to_key_item()))
        .send()
        .await
        .unwrap();
    let item = raw.item().unwrap();
    assert_eq!(item["GameTitle"], AttributeValue::S(game.into()));
    assert_eq!(item["TopScore"], AttributeValue::N("9".into()));
    let names: Vec<&String> = item.keys().filter(|k| k.contains("gsi")).collect();
    assert!(names.is_empty(), "no copies: {names:?}");

    // Numbers sort as numbers, descending.
    let top: Vec<i64> = db
        .top_scores(game)
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.top_score)
        .collect();
    assert_eq!(top, [100, 99, 10, 9, -3]);
    let at_least: Vec<i64> = db
        .scores_at_least(game, 10)
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.top_score)
        .collect();
    assert_eq!(at_least, [10, 99, 100]);

    // Another client reads the index with the raw values.
    let other = db
        .client()
        .query()
        .table_name(db.table_name())
        .index_name("GameTitleIndex")
        .key_condition_expression("GameTitle = :g AND TopScore > :s")
        .expression_attribute_values(":g", AttributeValue::S(game.into()))
        .expression_attribute_values(":s", AttributeValue::N("50".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(other.items().len(), 2);

    // An update moves the item in the index.
    let key = GameScoreKey {
        user_id: "u5".into(),
        game_title: game.into(),
    };
    db.game_score()
        .update(&key)
        .set_top_score(1_000)
        .send()
        .await
        .unwrap();
    assert_eq!(
        db.top_scores(game).limit(1).send().await.unwrap().items[0].user_id,
        "u5"
    );

    // DynamoDB refuses an empty string in an index key: refused before the request.
    let err = db
        .game_score()
        .create(&score("u9", "", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidKey {
                attribute: "GameTitle",
                ..
            }
        ),
        "{err:?}"
    );
}
