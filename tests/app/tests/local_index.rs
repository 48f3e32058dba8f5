//! Local secondary indexes (`tests/fixtures/valid/local_index`) against DynamoDB Local: the
//! runner creates them with the table, patterns on them read consistently, writes and
//! updates keep their sort keys (and a sparse one) right without touching the table's
//! partition key.

mod common;

use dyngen_app_tests::local_index::*;
use dyngen_runtime::Timestamp;

fn games(items: &[Score]) -> Vec<&str> {
    items.iter().map(|s| s.game.as_str()).collect()
}

#[tokio::test]
async fn local_indexes_are_created_with_the_table_and_read_consistently() {
    let db = Db::new(common::client()).with_table_name(common::table("lsi"));
    db.migrate(&Default::default()).await.unwrap();
    let described = db
        .client()
        .describe_table()
        .table_name(db.table_name())
        .send()
        .await
        .unwrap();
    let mut local: Vec<&str> = described
        .table()
        .unwrap()
        .local_secondary_indexes()
        .iter()
        .filter_map(|l| l.index_name())
        .collect();
    local.sort();
    assert_eq!(local, ["byFinish", "byScore"]);

    for (game, points) in [
        ("chess", 1200),
        ("go", 90),
        ("tetris", 45_000),
        ("snake", 90),
    ] {
        db.score()
            .create(&Score::new("ada", game, points))
            .await
            .unwrap();
    }
    db.score()
        .create(&Score::new("bob", "chess", 5))
        .await
        .unwrap();

    let best = db
        .best_scores("ada")
        .consistent_read(true)
        .all()
        .await
        .unwrap();
    assert_eq!(
        games(&best),
        ["tetris", "chess", "snake", "go"],
        "points, then game, descending"
    );
    let above = db
        .scores_above("ada", 100)
        .consistent_read(true)
        .all()
        .await
        .unwrap();
    assert_eq!(games(&above), ["chess", "tetris"]);

    // Updates rewrite the local sort key from the new value.
    let key = ScoreKey {
        player: "ada".into(),
        game: "go".into(),
    };
    db.score()
        .update(&key)
        .set_points(99_999)
        .send()
        .await
        .unwrap();
    let best = db
        .best_scores("ada")
        .consistent_read(true)
        .all()
        .await
        .unwrap();
    assert_eq!(games(&best)[0], "go");

    // The sparse local index holds finished games only.
    assert!(db.finished_games("ada").all().await.unwrap().is_empty());
    let finished = Timestamp::from_unix_millis(1_800_000_000_000).unwrap();
    db.score()
        .update(&key)
        .set_finished_at(finished)
        .send()
        .await
        .unwrap();
    let done = db
        .finished_games("ada")
        .consistent_read(true)
        .all()
        .await
        .unwrap();
    assert_eq!(
        done.iter().map(|s| s.game.as_str()).collect::<Vec<_>>(),
        ["go"]
    );
    db.score()
        .update(&key)
        .remove_finished_at()
        .send()
        .await
        .unwrap();
    assert!(db.finished_games("ada").all().await.unwrap().is_empty());

    // The GSI next to them.
    let board = db.leaderboard("chess").all().await.unwrap();
    assert_eq!(
        board.iter().map(|s| s.player.as_str()).collect::<Vec<_>>(),
        ["ada", "bob"]
    );
}

/// A setter given a number its zero-padded keys cannot hold fails before the request, and
/// the item is unchanged.
#[tokio::test]
async fn a_setter_refuses_a_number_too_wide_for_its_padding() {
    let db = Db::new(common::client()).with_table_name(common::table("lsi-pad"));
    db.migrate(&Default::default()).await.unwrap();
    let stored = db
        .score()
        .create(&Score::new("ada", "go", 7))
        .await
        .unwrap();
    let key = stored.key();
    for bad in [-1i64, 1_000_000_000] {
        let err = db
            .score()
            .update(&key)
            .set_points(bad)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                dyngen_runtime::Error::InvalidKey {
                    attribute: "points",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
    }
    assert_eq!(db.score().get(&key).await.unwrap(), Some(stored));
}
