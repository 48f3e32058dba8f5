//! Every sort-key operator, pagination past 1 MB, and batches with forced unprocessed
//! requests, against DynamoDB Local.

mod common;

use std::sync::atomic::Ordering;

use dyngen_app_tests::operators::*;
use dyngen_runtime::{BatchRetry, Timestamp};

async fn db_with(client: aws_sdk_dynamodb::Client) -> Db {
    let db = Db::new(client).with_table_name(common::table("ops"));
    db.create_table().await.expect("table created");
    db
}

async fn db() -> Db {
    db_with(common::client()).await
}

fn points(v: &[Score]) -> Vec<i64> {
    v.iter().map(|s| s.points).collect()
}

#[tokio::test]
async fn number_sort_key_operators() {
    let db = db().await;
    let mut batch = db.batch_write();
    for p in [5, 10, 15, 20, 25] {
        batch = batch.put(&Score {
            game: "g".into(),
            points: p,
            player: format!("p{p}"),
        });
    }
    batch = batch.put(&Score {
        game: "other".into(),
        points: 15,
        player: "x".into(),
    });
    batch.send().await.unwrap();

    assert_eq!(points(&db.score_exact("g", 15).all().await.unwrap()), [15]);
    assert_eq!(
        points(&db.scores_below("g", 15).all().await.unwrap()),
        [5, 10]
    );
    assert_eq!(
        points(&db.scores_at_most("g", 15).all().await.unwrap()),
        [5, 10, 15]
    );
    assert_eq!(
        points(&db.scores_above("g", 15).all().await.unwrap()),
        [25, 20],
        "descending order"
    );
    assert_eq!(
        points(&db.scores_at_least("g", 15).all().await.unwrap()),
        [15, 20, 25]
    );
    assert_eq!(
        points(&db.scores_between("g", 10, 20).all().await.unwrap()),
        [10, 15, 20]
    );
}

#[tokio::test]
async fn string_sort_key_operators_with_trailing_key_parts() {
    let db = db().await;
    let t = |s: i64| Timestamp::from_unix_millis(1_700_000_000_000 + s * 1000).unwrap();
    let mut batch = db.batch_write();
    for (seq, s, id) in [(1, 0, "a"), (2, 10, "b"), (3, 10, "c"), (4, 20, "d")] {
        batch = batch.put(&Event {
            feed: "f".into(),
            seq,
            at: t(s),
            id: id.into(),
            kind: if seq % 2 == 0 { "even" } else { "odd" }.into(),
        });
    }
    batch.send().await.unwrap();
    let ids = |v: Vec<Event>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    // Keys are `at#<timestamp>#<id>`: comparisons on the timestamp must treat every id alike.
    assert_eq!(
        ids(db.events_between("f", t(10), t(10)).all().await.unwrap()),
        ["b", "c"]
    );
    assert_eq!(
        ids(db.events_before("f", t(10)).all().await.unwrap()),
        ["a"]
    );
    assert_eq!(
        ids(db.events_until("f", t(10)).all().await.unwrap()),
        ["a", "b", "c"]
    );
    assert_eq!(ids(db.events_after("f", t(10)).all().await.unwrap()), ["d"]);
    assert_eq!(
        ids(db.events_from("f", t(10)).all().await.unwrap()),
        ["b", "c", "d"]
    );
    assert_eq!(
        ids(db.events_of_kind("f", "even".into()).all().await.unwrap()),
        ["b", "d"]
    );
}

#[tokio::test]
async fn pagination_past_one_megabyte() {
    let db = db().await;
    let data = "x".repeat(8 * 1024);
    let mut batch = db.batch_write();
    for n in 0..300 {
        batch = batch.put(&Blob {
            bucket: "b".into(),
            n,
            data: data.clone(),
        });
    }
    assert_eq!(batch.len(), 300);
    batch.send().await.unwrap();

    // About 2.4 MB: DynamoDB stops each page at 1 MB.
    let first = db.blobs("b").send().await.unwrap();
    assert!(
        first.items.len() < 300 && !first.items.is_empty(),
        "first page has {} items",
        first.items.len()
    );
    assert!(first.cursor.is_some());
    let all = db.blobs("b").all().await.unwrap();
    assert_eq!(all.len(), 300);
    assert!(all.iter().enumerate().all(|(i, b)| b.n == i as i64));
}

#[tokio::test]
async fn batches_retry_forced_unprocessed_requests_and_keep_results() {
    let fault = common::Unprocessed::new(4, 10);
    let db = db_with(common::local().client_with(|b| b.interceptor(fault.clone()))).await;
    let scores: Vec<Score> = (0..250)
        .map(|p| Score {
            game: "batch".into(),
            points: p,
            player: format!("p{p}"),
        })
        .collect();
    let mut batch = db.batch_write();
    for s in &scores {
        batch = batch.put(s);
    }
    batch.send().await.unwrap();
    // 10 chunks of 25, plus one retry for each of the 4 faults.
    assert_eq!(fault.calls.load(Ordering::SeqCst), 14);
    assert_eq!(
        db.scores_at_least("batch", 0).all().await.unwrap().len(),
        250
    );

    fault.faults.store(3, Ordering::SeqCst);
    fault.calls.store(0, Ordering::SeqCst);
    let keys: Vec<ScoreKey> = scores.iter().map(Score::key).collect();
    let mut got = db.score().batch_get(&keys).await.unwrap();
    // 3 chunks (100, 100, 50) plus 3 retries; every item arrives exactly once.
    assert_eq!(fault.calls.load(Ordering::SeqCst), 6);
    got.sort_by_key(|s| s.points);
    assert_eq!(got, scores);
}

#[tokio::test]
async fn a_batch_that_stays_unprocessed_reports_exactly_what_is_left() {
    let fault = common::Unprocessed::new(usize::MAX, 5);
    let retry = BatchRetry {
        max_attempts: 3,
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(5),
    };
    let db = db_with(common::local().client_with(|b| b.interceptor(fault.clone())))
        .await
        .with_batch_retry(retry);
    let mut batch = db.batch_write();
    for p in 0..20 {
        batch = batch.put(&Score {
            game: "stuck".into(),
            points: p,
            player: "p".into(),
        });
    }
    match batch.send().await {
        // Each attempt writes all but the last 5 (keeping at least one): 15, then 1, then 1.
        Err(Error::BatchIncomplete {
            unprocessed_keys,
            unprocessed_writes,
        }) => {
            assert!(unprocessed_keys.is_empty());
            assert_eq!(unprocessed_writes.len(), 3);
            let written = db.scores_at_least("stuck", 0).all().await.unwrap().len();
            assert_eq!(
                written + unprocessed_writes.len(),
                20,
                "nothing lost, nothing double counted"
            );
        }
        other => panic!("expected BatchIncomplete, got {other:?}"),
    }
}

#[tokio::test]
async fn between_with_bounds_the_wrong_way_round_is_a_typed_error() {
    let db = db().await;
    let invalid = |r: Result<_, dyngen_runtime::Error>| {
        matches!(r, Err(dyngen_runtime::Error::InvalidRange { .. }))
    };
    // Numbers compare as numbers (9 < 10, though "9" > "10" as text)...
    assert!(invalid(
        db.scores_between("g", 20, 10).send().await.map(drop)
    ));
    assert!(db.scores_between("g", 9, 10).send().await.is_ok());
    // ...and strings by their bytes, with the bound's trailing key parts.
    let t = |s: i64| Timestamp::from_unix_millis(1_700_000_000_000 + s * 1000).unwrap();
    assert!(invalid(
        db.events_between("f", t(20), t(10)).send().await.map(drop)
    ));
    assert!(db.events_between("f", t(10), t(10)).send().await.is_ok());
}
