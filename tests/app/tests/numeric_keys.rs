//! A table whose partition key is a number (`tests/fixtures/valid/numeric_keys`), against
//! DynamoDB Local: dyngen keeps its migration ledger under negative partition keys there,
//! so every write and read by key refuses a negative id before the request, and the
//! ledger survives an entity's attempt to write over it.

mod common;

use dyngen_app_tests::numeric_keys::*;
use dyngen_runtime::Error;

fn refused(r: &Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(
        r,
        Err(Error::InvalidKey {
            attribute: "playerId",
            ..
        })
    )
}

#[tokio::test]
async fn negative_partition_numbers_are_refused_and_the_ledger_survives() {
    let db = Db::new(common::client()).with_table_name(common::table("numeric"));
    assert!(db.migrate(&Default::default()).await.unwrap().created_table);
    let player = |id: i64| Player::new(id, "p");
    for id in [-1, -2, -3, i64::MIN] {
        assert!(refused(&db.player().create(&player(id)).await), "{id}");
        assert!(refused(&db.player().put(&player(id)).await), "{id}");
        let key = PlayerKey { player_id: id };
        assert!(refused(&db.player().get(&key).await), "{id}");
        assert!(refused(&db.player().delete(&key).await), "{id}");
        let score = Score::new(id, "chess", 1);
        assert!(refused(&db.score().create(&score).await), "{id}");
    }
    for id in [0, 1, i64::MAX] {
        db.player().create(&player(id)).await.unwrap();
        assert!(
            db.player()
                .get(&PlayerKey { player_id: id })
                .await
                .unwrap()
                .is_some()
        );
    }
    db.score().create(&Score::new(7, "chess", 3)).await.unwrap();
    assert_eq!(db.scores_of(7).all().await.unwrap().len(), 1);
    // The ledger is intact: the migration is recorded as applied, nothing to redo.
    let again = db.migrate(&Default::default()).await.unwrap();
    assert_eq!((again.applied.len(), again.already_applied), (0, 1));
}

/// `begins_with` an input that renders empty: DynamoDB refuses an empty prefix, so the
/// query reads the partition instead (every key starts with the empty string).
#[tokio::test]
async fn an_empty_begins_with_prefix_reads_the_partition() {
    let db = Db::new(common::client()).with_table_name(common::table("numeric_prefix"));
    db.migrate(&Default::default()).await.unwrap();
    for label in ["red", "rust", "blue"] {
        db.tag().create(&Tag::new(1, label)).await.unwrap();
    }
    db.tag().create(&Tag::new(2, "red")).await.unwrap();
    let labels = |tags: Vec<Tag>| {
        let mut l: Vec<String> = tags.into_iter().map(|t| t.label).collect();
        l.sort();
        l
    };
    let r = db.tags_starting(1, "r").all().await.unwrap();
    assert_eq!(labels(r), ["red", "rust"]);
    let all = db.tags_starting(1, "").all().await.unwrap();
    assert_eq!(labels(all), ["blue", "red", "rust"]);
}
