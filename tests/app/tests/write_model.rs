//! One regression test per write-model defect found in real designs, on DynamoDB Local.
//! Each test names the rule the README states; every item written is also checked against
//! the key invariant (`support/invariants.rs`).

mod common;
#[path = "support/invariants.rs"]
mod invariants;

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use dyngen_app_tests::write_model::*;
use dyngen_runtime::{Date, Timestamp};

async fn db() -> Db {
    let db = Db::new(common::client()).with_table_name(common::table("write_model"));
    db.create_table().await.expect("table created");
    db
}

fn repo(owner: &str, name: &str) -> Repo {
    Repo {
        owner: owner.into(),
        name: name.into(),
        description: None,
        topics: BTreeSet::new(),
        stars: 0,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
        version: 0,
    }
}

fn task(owner: &str, id: &str, due: Option<Date>) -> Task {
    Task {
        owner: owner.into(),
        id: id.into(),
        status: TaskStatus::Todo,
        due,
        award: None,
        labels: BTreeSet::new(),
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
        version: 0,
    }
}

async fn raw(db: &Db, pk: &str, sk: &str) -> Option<dyngen_runtime::Item> {
    common::stored_item(db.client(), db.table_name(), pk, sk).await
}

async fn assert_invariants(db: &Db) {
    if let Err(e) = invariants::check_table(db).await {
        panic!("{e}");
    }
}

fn date(y: i32, m: u8, d: u8) -> Date {
    Date::new(y, m, d).unwrap()
}

async fn later() {
    // Timestamps have millisecond precision: make the next stamp a later one.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
}

#[tokio::test]
async fn an_index_key_built_from_updated_at_follows_every_write() {
    let db = db().await;
    let created = db.repo().create(&repo("o", "a")).await.unwrap();
    later().await;
    let updated = db
        .repo()
        .update(&created.key())
        .set_description("d".into())
        .send()
        .await
        .unwrap();
    assert!(updated.updated_at > created.updated_at);
    let item = raw(&db, "ACCOUNT#o", "REPO#a").await.unwrap();
    assert_eq!(
        item["gsi1sk"],
        AttributeValue::S(format!("#{}", updated.updated_at))
    );
    later().await;
    let update = db.repo().update(&created.key()).add_stars(1);
    db.transaction().update(update).send().await.unwrap();
    let after = db
        .repo()
        .get_consistent(&created.key())
        .await
        .unwrap()
        .unwrap();
    assert!(after.updated_at > updated.updated_at);
    let item = raw(&db, "ACCOUNT#o", "REPO#a").await.unwrap();
    assert_eq!(
        item["gsi1sk"],
        AttributeValue::S(format!("#{}", after.updated_at))
    );
    assert_invariants(&db).await;
}

#[tokio::test]
async fn a_blind_put_keeps_created_at_and_the_keys_built_from_it() {
    let db = db().await;
    let created = db.repo().create(&repo("o", "a")).await.unwrap();
    // A struct made from scratch: createdAt 1970, version the stored one.
    let mut blind = repo("o", "a");
    blind.version = created.version;
    blind.description = Some("new".into());
    let stored = db.repo().put(&blind).await.unwrap();
    assert_eq!(stored.created_at, created.created_at);
    assert_eq!(stored.description.as_deref(), Some("new"));
    assert_eq!(stored.version, created.version + 1);
    let by_creation = db.repos_by_creation("o").all().await.unwrap();
    assert_eq!(by_creation.len(), 1);
    assert_eq!(by_creation[0].created_at, created.created_at);
    assert_invariants(&db).await;
}

#[tokio::test]
async fn a_put_of_a_new_item_stamps_created_at() {
    let db = db().await;
    let before = Timestamp::now();
    let stored = db.repo().put(&repo("o", "new")).await.unwrap();
    assert!(stored.created_at >= before, "{stored:?}");
    assert_eq!(stored.version, 1);
    // Also for an entity whose keys do not use createdAt.
    let t = db.task().put(&task("o", "t", None)).await.unwrap();
    assert!(t.created_at >= before, "{t:?}");
    let read = db.task().get_consistent(&t.key()).await.unwrap().unwrap();
    assert_eq!(read.created_at, t.created_at);
    assert_invariants(&db).await;
}

#[tokio::test]
async fn a_transaction_put_honours_the_version_and_keeps_created_at() {
    let db = db().await;
    let created = db.task().create(&task("o", "t", None)).await.unwrap();
    let newer = db
        .task()
        .update(&created.key())
        .with_status(created.status)
        .set_award("x".into())
        .send()
        .await
        .unwrap();
    // `created` is now stale: version 1 against a stored 2.
    let result = db.transaction().put(&created).send().await;
    assert!(
        matches!(
            result,
            Err(dyngen_runtime::Error::TransactionCanceled { .. })
        ),
        "{result:?}"
    );
    let read = db
        .task()
        .get_consistent(&created.key())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, newer);
    // With the current version it applies, and keeps createdAt.
    let mut fresh = newer.clone();
    fresh.created_at = Timestamp::UNIX_EPOCH;
    fresh.award = None;
    db.transaction().put(&fresh).send().await.unwrap();
    let read = db
        .task()
        .get_consistent(&created.key())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.created_at, created.created_at);
    assert_eq!(read.version, newer.version + 1);
    assert_eq!(read.award, None);
    assert_invariants(&db).await;
}

#[tokio::test]
async fn a_setter_checks_the_key_inputs_it_is_given() {
    let db = db().await;
    let t = db
        .task()
        .create(&task("o", "t", Some(date(2024, 2, 29))))
        .await
        .unwrap();
    let wrong = db
        .task()
        .update(&t.key())
        .set_status(TaskStatus::Doing, Some(date(1999, 1, 1)))
        .send()
        .await;
    match wrong {
        Err(dyngen_runtime::Error::KeyInputMismatch { attribute, .. }) => {
            assert_eq!(attribute, "due")
        }
        other => panic!("expected KeyInputMismatch, got {other:?}"),
    }
    assert_eq!(
        db.task().get_consistent(&t.key()).await.unwrap(),
        Some(t.clone())
    );
    // Saying the task has no due date when it has one is caught too.
    let absent = db
        .task()
        .update(&t.key())
        .set_status(TaskStatus::Doing, None)
        .send()
        .await;
    assert!(matches!(
        absent,
        Err(dyngen_runtime::Error::KeyInputMismatch { .. })
    ));
    // The right input moves the task to the new status's partition.
    db.task()
        .update(&t.key())
        .set_status(TaskStatus::Doing, Some(date(2024, 2, 29)))
        .send()
        .await
        .unwrap();
    let before_2000 = db
        .tasks_due_before("o", TaskStatus::Doing, date(2000, 1, 1))
        .all()
        .await
        .unwrap();
    assert!(before_2000.is_empty(), "{before_2000:?}");
    assert_eq!(
        db.tasks_due("o", TaskStatus::Doing)
            .all()
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        db.tasks_due("o", TaskStatus::Todo)
            .all()
            .await
            .unwrap()
            .is_empty()
    );
    // A task without a due date changes status and stays out of the sparse index.
    let undated = db.task().create(&task("o", "u", None)).await.unwrap();
    db.task()
        .update(&undated.key())
        .set_status(TaskStatus::Done, None)
        .send()
        .await
        .unwrap();
    assert!(
        db.tasks_due("o", TaskStatus::Done)
            .all()
            .await
            .unwrap()
            .is_empty()
    );
    assert_invariants(&db).await;
}

#[tokio::test]
async fn an_empty_whole_value_key_leaves_the_item_out_of_the_index() {
    let db = db().await;
    let mut t = task("o", "t", None);
    t.award = Some(String::new());
    let created = db.task().create(&t).await.unwrap();
    assert_out_of_award_indexes(&db, "t").await;
    // Querying the empty value matches nothing, without an error.
    assert!(db.tasks_with_award("").all().await.unwrap().is_empty());
    db.task()
        .update(&created.key())
        .with_status(created.status)
        .set_award("gold".into())
        .send()
        .await
        .unwrap();
    assert_eq!(db.tasks_with_award("gold").all().await.unwrap().len(), 1);
    // Setting it back to empty takes the item out of the index again.
    db.task()
        .update(&created.key())
        .with_status(created.status)
        .set_award(String::new())
        .send()
        .await
        .unwrap();
    assert!(db.tasks_with_award("gold").all().await.unwrap().is_empty());
    assert_out_of_award_indexes(&db, "t").await;
    let mut again = db
        .task()
        .get_consistent(&created.key())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.award.as_deref(), Some(""));
    again = (db.task().update(&created.key()))
        .with_status(created.status)
        .set_award("gold".into())
        .send()
        .await
        .unwrap();
    again.award = Some(String::new());
    db.task().put(&again).await.unwrap();
    assert_out_of_award_indexes(&db, "t").await;
    db.transaction()
        .put(
            &db.task()
                .get_consistent(&created.key())
                .await
                .unwrap()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    db.batch_write()
        .put(&{
            let mut b = task("o", "b", None);
            b.award = Some(String::new());
            b
        })
        .send()
        .await
        .unwrap();
    assert_out_of_award_indexes(&db, "b").await;
    assert_invariants(&db).await;
}

/// The task holds no key attribute of the indexes keyed by its award: `gsi5`'s sort key
/// renders from other attributes, and leaves with the empty partition key.
async fn assert_out_of_award_indexes(db: &Db, id: &str) {
    let item = raw(db, "ACCOUNT#o", &format!("TASK#{id}")).await.unwrap();
    for attr in ["gsi4pk", "gsi5pk", "gsi5sk"] {
        assert!(!item.contains_key(attr), "{attr} kept: {item:?}");
    }
}

#[tokio::test]
async fn an_empty_primary_key_is_refused_before_the_request() {
    let db = db().await;
    let empty = Tag {
        label: String::new(),
    };
    let expect_invalid_key = |r: Result<(), dyngen_runtime::Error>| match r {
        Err(dyngen_runtime::Error::InvalidKey { attribute, .. }) => assert_eq!(attribute, "pk"),
        other => panic!("expected InvalidKey, got {other:?}"),
    };
    expect_invalid_key(db.tag().create(&empty).await.map(drop));
    expect_invalid_key(db.tag().put(&empty).await.map(drop));
    expect_invalid_key(db.transaction().put(&empty).send().await);
    expect_invalid_key(db.batch_write().put(&empty).send().await);
    // A label `SESSION#{id}` with an empty id is not empty: that one is fine.
    let session = Session {
        id: String::new(),
        owner: "o".into(),
        expires_at: None,
    };
    db.session().create(&session).await.unwrap();
    assert_eq!(invariants::scan(&db).await.len(), 1);
    assert_invariants(&db).await;
}

#[test]
fn timestamps_and_dates_outside_years_0_to_9999_cannot_be_made() {
    assert!(Timestamp::from_unix_millis(Timestamp::MAX.unix_millis() + 1).is_none());
    assert!(Timestamp::from_unix_millis(Timestamp::MIN.unix_millis() - 1).is_none());
    assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59.999Z");
    assert_eq!(Timestamp::MIN.to_string(), "0000-01-01T00:00:00.000Z");
    assert!(Timestamp::parse("10000-01-01T00:00:00.000Z").is_none());
    assert!(Date::new(10000, 1, 1).is_none());
    assert!(Date::new(-1, 1, 1).is_none());
    assert!(Date::new(9999, 12, 31).is_some());
}

#[tokio::test]
async fn a_ttl_outside_the_timestamp_range_is_an_item_error_not_a_panic() {
    let db = db().await;
    db.client()
        .put_item()
        .table_name(db.table_name())
        .item("pk", AttributeValue::S("SESSION#s".into()))
        .item("sk", AttributeValue::S("SESSION#".into()))
        .item("_type", AttributeValue::S("Session".into()))
        .item("id", AttributeValue::S("s".into()))
        .item("owner", AttributeValue::S("o".into()))
        .item("expiresAt", AttributeValue::N("400000000000".into()))
        .send()
        .await
        .unwrap();
    let read = db.session().get(&SessionKey { id: "s".into() }).await;
    assert!(
        matches!(read, Err(dyngen_runtime::Error::InvalidItem(_))),
        "{read:?}"
    );
}

#[tokio::test]
async fn an_item_without_a_version_is_version_0_for_put_and_update() {
    let db = db().await;
    // Written by another writer, before `version:` was in the schema.
    db.client()
        .put_item()
        .table_name(db.table_name())
        .item("pk", AttributeValue::S("ACCOUNT#o".into()))
        .item("sk", AttributeValue::S("TASK#t".into()))
        .item("_type", AttributeValue::S("Task".into()))
        .item("owner", AttributeValue::S("o".into()))
        .item("id", AttributeValue::S("t".into()))
        .item("status", AttributeValue::S("todo".into()))
        .item(
            "createdAt",
            AttributeValue::S("2020-01-01T00:00:00.000Z".into()),
        )
        .item(
            "updatedAt",
            AttributeValue::S("2020-01-01T00:00:00.000Z".into()),
        )
        .send()
        .await
        .unwrap();
    let key = TaskKey {
        owner: "o".into(),
        id: "t".into(),
    };
    let read = db.task().get_consistent(&key).await.unwrap().unwrap();
    assert_eq!(read.version, 0);
    let stored = db.task().put(&read).await.unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.created_at, read.created_at);
    // And an update expecting version 0 of an unversioned item applies.
    db.client()
        .update_item()
        .table_name(db.table_name())
        .key("pk", AttributeValue::S("ACCOUNT#o".into()))
        .key("sk", AttributeValue::S("TASK#t".into()))
        .update_expression("REMOVE version")
        .send()
        .await
        .unwrap();
    let updated = db
        .task()
        .update(&key)
        .with_status(read.status)
        .expect_version(0)
        .add_to_labels(["x".to_string()].into())
        .send()
        .await
        .unwrap();
    assert_eq!(updated.version, 1);
    assert_invariants(&db).await;
}

#[tokio::test]
async fn empty_and_overlapping_updates_are_typed_not_dynamodb_errors() {
    let db = db().await;
    let r = db.repo().create(&repo("o", "a")).await.unwrap();
    match db.repo().update(&r.key()).send().await {
        Err(dyngen_runtime::Error::EmptyUpdate { entity }) => assert_eq!(entity, "Repo"),
        other => panic!("expected EmptyUpdate, got {other:?}"),
    }
    // The last setter of an attribute wins.
    let updated = db
        .repo()
        .update(&r.key())
        .set_description("first".into())
        .remove_description()
        .set_description("last".into())
        .set_stars(5)
        .add_stars(2)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description.as_deref(), Some("last"));
    assert_eq!(
        updated.stars, 2,
        "add_stars came last: it adds to the stored 0"
    );
    // Setters that contradict each other on a key input are refused before the request.
    let t = db
        .task()
        .create(&task("o", "t", Some(date(2024, 1, 1))))
        .await
        .unwrap();
    let contradictory = db
        .task()
        .update(&t.key())
        .set_due(date(2024, 6, 1), TaskStatus::Todo)
        .set_status(TaskStatus::Doing, Some(date(2024, 1, 1)))
        .send()
        .await;
    assert!(
        matches!(
            contradictory,
            Err(dyngen_runtime::Error::InvalidUpdate { .. })
        ),
        "{contradictory:?}"
    );
    // Consistent inputs to both setters apply together.
    let both = db
        .task()
        .update(&t.key())
        .set_due(date(2024, 6, 1), TaskStatus::Doing)
        .set_status(TaskStatus::Doing, Some(date(2024, 6, 1)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (both.status, both.due),
        (TaskStatus::Doing, Some(date(2024, 6, 1)))
    );
    assert_eq!(
        db.tasks_due("o", TaskStatus::Doing)
            .all()
            .await
            .unwrap()
            .len(),
        1
    );
    assert_invariants(&db).await;
}

#[tokio::test]
async fn a_cursor_continues_only_the_query_it_came_from() {
    let db = db().await;
    for id in ["1", "2", "3"] {
        db.task().create(&task("a", id, None)).await.unwrap();
        db.task().create(&task("b", id, None)).await.unwrap();
    }
    let page = db.tasks_of("a").limit(1).send().await.unwrap();
    let cursor = page.cursor.expect("more pages");
    let other = db.tasks_of("b").cursor(cursor.clone()).send().await;
    assert!(
        matches!(
            other,
            Err(dyngen_runtime::Error::CursorInputsMismatch { pattern: "tasksOf" })
        ),
        "{other:?}"
    );
    let rest = db.tasks_of("a").cursor(cursor).send().await.unwrap();
    let ids: Vec<&str> = rest.items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["2", "3"]);
    assert!(rest.items.iter().all(|t| t.owner == "a"));
}

#[tokio::test]
async fn link_builds_both_items_from_one_set_of_inputs() {
    let db = db().await;
    let at = Timestamp::now();
    // `check_ends`: no team, no account, no link; the cancellation names the checks.
    let r = db.link_membership("core".into(), "ann".into(), at).await;
    let Err(dyngen_runtime::Error::TransactionCanceled { reasons }) = r else {
        panic!("linked without its ends: {r:?}");
    };
    let failed: Vec<&str> = (reasons.iter())
        .filter(|r| r.code.is_some())
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(failed, ["condition check Team", "condition check Account"]);
    db.team()
        .put(&Team {
            name: "core".into(),
        })
        .await
        .unwrap();
    let r = db.link_membership("core".into(), "ann".into(), at).await;
    assert!(r.is_err(), "linked without its account: {r:?}");
    db.account()
        .put(&Account {
            owner: "ann".into(),
        })
        .await
        .unwrap();
    db.link_membership("core".into(), "ann".into(), at)
        .await
        .unwrap();
    let members = db.members_of("core").all().await.unwrap();
    let teams = db.teams_of("ann").all().await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(teams.len(), 1);
    assert_eq!((members[0].joined_at, teams[0].joined_at), (at, at));
    assert!(
        db.unlink_membership("core".into(), "ann".into())
            .await
            .unwrap()
    );
    assert!(db.teams_of("ann").all().await.unwrap().is_empty());
    // Unlinking again: there was no link.
    assert!(
        !db.unlink_membership("core".into(), "ann".into())
            .await
            .unwrap()
    );
    // Half a link another writer left (one item only) is not a link, and is removed.
    db.transaction()
        .create(&MemberTeam {
            member: "ann".into(),
            team: "core".into(),
            joined_at: at,
        })
        .send()
        .await
        .unwrap();
    assert!(
        !db.unlink_membership("core".into(), "ann".into())
            .await
            .unwrap()
    );
    assert!(db.teams_of("ann").all().await.unwrap().is_empty());
    assert_invariants(&db).await;
}

#[tokio::test]
async fn an_sdk_error_shows_dynamodb_code_and_message() {
    let db = Db::new(common::client()).with_table_name("no-such-table-dyngen");
    let err = db.repo().get(&repo("o", "a").key()).await.unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("ResourceNotFoundException"), "{shown}");
    assert!(
        shown.len() > "DynamoDB ResourceNotFoundException: ".len(),
        "{shown}"
    );
}

/// `gsi6` is built from the status and the update time: an update that does not set the
/// status names it, and the condition checks it, so the rebuilt key is never a guess.
#[tokio::test]
async fn an_update_rebuilds_a_time_key_from_the_status_it_names_and_checks_it() {
    let db = db().await;
    let t = db.task().create(&task("o", "t", None)).await.unwrap();
    let labels = || ["x".to_string()].into();
    // Named nowhere: refused before any request.
    let r = db
        .task()
        .update(&t.key())
        .add_to_labels(labels())
        .send()
        .await;
    assert!(
        matches!(
            r,
            Err(dyngen_runtime::Error::InvalidKey {
                attribute: "status",
                ..
            })
        ),
        "{r:?}"
    );
    // Named wrongly: the condition refuses it and nothing changes.
    let r = (db.task().update(&t.key()))
        .with_status(TaskStatus::Done)
        .add_to_labels(labels())
        .send()
        .await;
    assert!(
        matches!(
            r,
            Err(dyngen_runtime::Error::KeyInputMismatch {
                attribute: "status",
                ..
            })
        ),
        "{r:?}"
    );
    // Named rightly: the item moves to its new update time within the status.
    let updated = (db.task().update(&t.key()))
        .with_status(TaskStatus::Todo)
        .add_to_labels(labels())
        .send()
        .await
        .unwrap();
    let recent = db.tasks_by_status(TaskStatus::Todo).all().await.unwrap();
    assert_eq!(recent, [updated]);
    // Setting the status gives it: no `with_status` needed.
    let moved = (db.task().update(&t.key()))
        .set_status(TaskStatus::Doing, None)
        .send()
        .await
        .unwrap();
    assert!(
        db.tasks_by_status(TaskStatus::Todo)
            .all()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.tasks_by_status(TaskStatus::Doing).all().await.unwrap(),
        [moved]
    );
    assert_invariants(&db).await;
}
