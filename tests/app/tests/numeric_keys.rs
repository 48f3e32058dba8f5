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

/// An index keyed by the entity's own optional enum (an attribute key): its setters write
/// only what they change (`set_due` needs no status, `set_status` no due date), and the
/// item is in the index exactly when it has a status and a due date.
#[tokio::test]
async fn an_attribute_key_index_follows_its_setters() {
    let db = Db::new(common::client()).with_table_name(common::table("numeric_status"));
    db.migrate(&Default::default()).await.unwrap();
    let date = |d| dyngen_runtime::Date::new(2030, 1, d).unwrap();
    let mut tag = Tag::new(1, "t");
    tag.status = Some(TagStatus::Open);
    db.tag().create(&tag).await.unwrap();
    let key = TagKey {
        player_id: 1,
        label: "t".into(),
    };
    let open = || async {
        db.tags_by_status(TagStatus::Open)
            .all()
            .await
            .unwrap()
            .len()
    };
    assert_eq!(open().await, 0, "no due date: not in the index");
    db.tag().update(&key).set_due(date(2)).send().await.unwrap();
    assert_eq!(open().await, 1);
    db.tag().update(&key).remove_status().send().await.unwrap();
    assert_eq!(open().await, 0);
    db.tag()
        .update(&key)
        .set_status(TagStatus::Closed)
        .send()
        .await
        .unwrap();
    let closed = db.tags_by_status(TagStatus::Closed).all().await.unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].due, Some(date(2)));
    db.tag().update(&key).remove_due().send().await.unwrap();
    assert!(
        db.tags_by_status(TagStatus::Closed)
            .all()
            .await
            .unwrap()
            .is_empty()
    );
}
