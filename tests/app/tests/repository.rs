//! The generated repository for the example schema, against DynamoDB Local started by the
//! tests (or `DYNAMODB_ENDPOINT`).

mod common;

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use dyngen_app_tests::example::*;
use dyngen_runtime::{Date, ItemErrorKind, Timestamp};

async fn db() -> Db {
    let db = Db::new(common::client()).with_table_name(common::table("example"));
    db.create_table().await.expect("table created");
    db
}

fn user(company: &str, email: &str) -> User {
    User::new(email, company, format!("Name of {email}"))
}

#[tokio::test]
async fn a_constructed_value_has_the_schema_defaults_and_create_stamps_it() {
    let u = User::new("a@x.io", "acme", "Ada");
    // The schema: role defaults to member, newsletter to false, login count to 0.
    assert_eq!(
        u,
        User {
            email: "a@x.io".into(),
            company_name: "acme".into(),
            name: "Ada".into(),
            dob: None,
            newsletter_subscribed: false,
            role: UserRole::Member,
            tags: BTreeSet::new(),
            login_count: 0,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            version: 0,
        }
    );
    let db = db().await;
    let before = Timestamp::now();
    let stored = db.user().create(&u).await.unwrap();
    assert!(stored.created_at >= before && stored.updated_at == stored.created_at);
    assert_eq!(stored.version, 1);
    assert_eq!(db.user().get(&u.key()).await.unwrap(), Some(stored));
}

fn company(name: &str) -> Company {
    Company {
        name: name.into(),
        industry: None,
        plan: CompanyPlan::Free,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
        version: 0,
    }
}

#[tokio::test]
async fn create_get_put_delete() {
    let db = db().await;
    let alice = user("acme", "alice@example.com");
    let created = db.user().create(&alice).await.unwrap();
    assert_eq!(created.version, 1);
    assert!(created.created_at.unix_millis() > 0 && created.created_at == created.updated_at);

    match db.user().create(&alice).await {
        Err(Error::AlreadyExists {
            entity: "User",
            key,
        }) => assert_eq!(key, "(company#acme, user#alice@example.com)"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }

    let got = db.user().get(&alice.key()).await.unwrap().unwrap();
    assert_eq!(got, created);
    assert_eq!(
        db.user()
            .get_consistent(&alice.key())
            .await
            .unwrap()
            .unwrap(),
        created
    );

    // put (upsert) keeps createdAt, bumps updatedAt and the version.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut changed = got.clone();
    changed.name = "Alice".into();
    changed.created_at = Timestamp::from_unix_millis(42).unwrap();
    let put = db.user().put(&changed).await.unwrap();
    assert_eq!(put.name, "Alice");
    assert_eq!(
        put.created_at, created.created_at,
        "createdAt must never be overwritten"
    );
    assert!(put.updated_at > created.updated_at);
    assert_eq!(put.version, 2);

    let deleted = db.user().delete(&alice.key()).await.unwrap().unwrap();
    assert_eq!(deleted.name, "Alice");
    assert_eq!(db.user().get(&alice.key()).await.unwrap(), None);
    assert_eq!(db.user().delete(&alice.key()).await.unwrap(), None);
}

#[tokio::test]
async fn every_item_carries_its_entity_type_and_derived_keys() {
    let db = db().await;
    let mut bob = user("acme", "bob@example.com");
    bob.dob = Some(Date::new(1990, 12, 31).unwrap());
    db.user().create(&bob).await.unwrap();
    let raw = db
        .client()
        .get_item()
        .table_name(db.table_name())
        .set_key(Some(bob.key().to_key_item()))
        .send()
        .await
        .unwrap();
    let item = raw.item().unwrap();
    assert_eq!(item["_type"].as_s().unwrap(), "User");
    assert_eq!(item["gsi1pk"].as_s().unwrap(), "user#bob@example.com");
    assert_eq!(item["gsi2pk"].as_s().unwrap(), "newsletter#false");
    assert_eq!(item["gsi3pk"].as_s().unwrap(), "born#1990");
    assert_eq!(item["gsi3sk"].as_s().unwrap(), "1990-12-31#bob@example.com");
    assert!(
        !item.contains_key("tags"),
        "an empty set is stored as no attribute"
    );

    // Without a date of birth the user stays out of the sparse index.
    let carol = user("acme", "carol@example.com");
    db.user().create(&carol).await.unwrap();
    let raw = db
        .client()
        .get_item()
        .table_name(db.table_name())
        .set_key(Some(carol.key().to_key_item()))
        .send()
        .await
        .unwrap();
    assert!(!raw.item().unwrap().contains_key("gsi3pk"));
}

#[tokio::test]
async fn typed_update_operations() {
    let db = db().await;
    let dan = user("acme", "dan@example.com");
    db.user().create(&dan).await.unwrap();
    let updated = db
        .user()
        .update(&dan.key())
        .set_name("Dan".into())
        .add_login_count(3)
        .add_to_tags(["a".to_string(), "b".to_string()].into())
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name, "Dan");
    assert_eq!(updated.login_count, 3);
    assert_eq!(updated.tags, ["a".to_string(), "b".to_string()].into());
    assert_eq!(updated.version, 2);
    let updated = db
        .user()
        .update(&dan.key())
        .add_login_count(-1)
        .remove_from_tags(["a".to_string()].into())
        .send()
        .await
        .unwrap();
    assert_eq!(updated.login_count, 2);
    assert_eq!(updated.tags, ["b".to_string()].into());

    // Updating an item that does not exist is NotFound, not an upsert.
    let ghost = user("acme", "ghost@example.com");
    match db
        .user()
        .update(&ghost.key())
        .set_name("x".into())
        .send()
        .await
    {
        Err(Error::NotFound { entity: "User", .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(db.user().get(&ghost.key()).await.unwrap(), None);
}

#[tokio::test]
async fn updates_rewrite_every_derived_key() {
    let db = db().await;
    let erin = user("acme", "erin@example.com");
    db.user().create(&erin).await.unwrap();
    assert!(db.newsletter_subscribers().all().await.unwrap().is_empty());

    db.user()
        .update(&erin.key())
        .set_newsletter_subscribed(true)
        .send()
        .await
        .unwrap();
    let subs = db.newsletter_subscribers().all().await.unwrap();
    assert_eq!(
        subs.iter().map(|s| s.email.as_str()).collect::<Vec<_>>(),
        ["erin@example.com"]
    );

    // Setting the optional dob puts the user into the sparse gsi3; removing it takes it out.
    db.user()
        .update(&erin.key())
        .set_dob(Date::new(1985, 6, 1).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(db.users_born_in(1985).all().await.unwrap().len(), 1);
    db.user()
        .update(&erin.key())
        .set_dob(Date::new(1986, 6, 1).unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        db.users_born_in(1985).all().await.unwrap().is_empty(),
        "stale gsi3 key left behind"
    );
    assert_eq!(db.users_born_in(1986).all().await.unwrap().len(), 1);
    db.user()
        .update(&erin.key())
        .remove_dob()
        .send()
        .await
        .unwrap();
    assert!(db.users_born_in(1986).all().await.unwrap().is_empty());
}

#[tokio::test]
async fn optimistic_locking_detects_a_stale_write() {
    let db = db().await;
    let acme = db.company().create(&company("acme")).await.unwrap();
    assert_eq!(acme.version, 1);

    // Two writers read version 1; the first wins, the second gets a typed conflict.
    let mut first = acme.clone();
    first.industry = Some("anvils".into());
    let mut second = acme.clone();
    second.industry = Some("rockets".into());
    assert_eq!(db.company().put(&first).await.unwrap().version, 2);
    match db.company().put(&second).await {
        Err(Error::VersionConflict {
            entity: "Company",
            expected: 1,
            actual: Some(2),
            ..
        }) => {}
        other => panic!("expected VersionConflict, got {other:?}"),
    }
    match db
        .company()
        .update(&acme.key())
        .set_industry("x".into())
        .expect_version(1)
        .send()
        .await
    {
        Err(Error::VersionConflict {
            expected: 1,
            actual: Some(2),
            ..
        }) => {}
        other => panic!("expected VersionConflict, got {other:?}"),
    }
    let ok = db
        .company()
        .update(&acme.key())
        .set_plan(CompanyPlan::Team)
        .expect_version(2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (ok.version, ok.plan, ok.industry.as_deref()),
        (3, CompanyPlan::Team, Some("anvils"))
    );
}

#[tokio::test]
async fn patterns_query_with_pages_and_cursors() {
    let db = db().await;
    for i in 0..7 {
        db.user()
            .create(&user("acme", &format!("u{i}@acme.com")))
            .await
            .unwrap();
    }
    db.user()
        .create(&user("other", "x@other.com"))
        .await
        .unwrap();

    let first = db.users_of_company("acme").limit(3).send().await.unwrap();
    assert_eq!(first.items.len(), 3);
    let cursor = first.cursor.clone().expect("more pages");
    let second = db
        .users_of_company("acme")
        .limit(3)
        .cursor(cursor.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(second.items[0].email, "u3@acme.com");

    // The cursor survives a trip through a string, and is refused by another pattern.
    let revived = Cursor::from_string(cursor.as_str().to_string());
    assert_eq!(
        db.users_of_company("acme")
            .limit(3)
            .cursor(revived)
            .send()
            .await
            .unwrap(),
        second
    );
    match db.members_of_company("acme").cursor(cursor).send().await {
        Err(Error::CursorMismatch {
            expected: "membersOfCompany",
            found,
        }) => assert_eq!(found, "usersOfCompany"),
        other => panic!("expected CursorMismatch, got {other:?}"),
    }
    assert!(matches!(
        db.users_of_company("acme")
            .cursor(Cursor::from_string("@@@"))
            .send()
            .await,
        Err(Error::InvalidCursor)
    ));

    let mut pager = db.users_of_company("acme").limit(2).pages();
    let mut seen = Vec::new();
    while let Some(u) = pager.next().await {
        seen.push(u.unwrap().email);
    }
    assert_eq!(seen.len(), 7);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "ordered by sort key");

    let by_email = db.user_by_email("u4@acme.com").all().await.unwrap();
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].company_name, "acme");
}

#[tokio::test]
async fn sparse_index_and_between_on_dates() {
    let db = db().await;
    for (email, dob) in [
        ("a@x", (2000, 1, 1)),
        ("b@x", (2000, 12, 31)),
        ("c@x", (2001, 1, 1)),
        ("d@x", (2000, 6, 15)),
    ] {
        let mut u = user("acme", email);
        u.dob = Some(Date::new(dob.0, dob.1, dob.2).unwrap());
        db.user().create(&u).await.unwrap();
    }
    db.user().create(&user("acme", "nodob@x")).await.unwrap();
    let in_2000: Vec<String> = db
        .users_born_in(2000)
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .collect();
    assert_eq!(in_2000, ["a@x", "d@x", "b@x"]);
    // The upper bound is inclusive although keys continue after the date (`{dob}#{email}`).
    let h2: Vec<String> = db
        .users_born_between(
            2000,
            Date::new(2000, 6, 15).unwrap(),
            Date::new(2000, 12, 31).unwrap(),
        )
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .collect();
    assert_eq!(h2, ["d@x", "b@x"]);
}

#[tokio::test]
async fn item_collection_returns_each_entity_typed() {
    let db = db().await;
    db.company().create(&company("acme")).await.unwrap();
    db.user().create(&user("acme", "a@acme")).await.unwrap();
    db.user().create(&user("acme", "b@acme")).await.unwrap();
    // A member item shares the partition but is not part of this collection.
    let member = CompanyMember {
        company_name: "acme".into(),
        email: "a@acme".into(),
        joined_at: Timestamp::now(),
        role: CompanyMemberRole::Owner,
    };
    db.company_member().create(&member).await.unwrap();

    let items = db.company_with_users("acme").all().await.unwrap();
    let companies = items
        .iter()
        .filter(|i| matches!(i, CompanyWithUsersItem::Company(_)))
        .count();
    let users: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            CompanyWithUsersItem::User(u) => Some(u.email.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(companies, 1);
    assert_eq!(users, ["a@acme", "b@acme"]);
}

#[tokio::test]
async fn many_to_many_links_both_directions_atomically() {
    let db = db().await;
    let joined = Timestamp::now();
    let link = || {
        db.link_membership(
            "acme".into(),
            "a@x".into(),
            joined,
            CompanyMemberRole::Admin,
        )
    };
    link().await.unwrap();
    let members = db.members_of_company("acme").all().await.unwrap();
    let companies = db.companies_of_user("a@x").all().await.unwrap();
    // Both items come from one set of inputs: they agree on every shared attribute.
    assert_eq!((members.len(), companies.len()), (1, 1));
    assert_eq!(members[0].joined_at, joined);
    assert_eq!(companies[0].joined_at, joined);
    assert_eq!(
        (&members[0].company_name, &members[0].email),
        (&companies[0].company_name, &companies[0].email)
    );

    // Linking again fails as a whole, and says which action failed.
    match link().await {
        Err(Error::TransactionCanceled { reasons }) => {
            assert_eq!(reasons.len(), 2);
            assert_eq!(reasons[0].action, "create CompanyMember");
            assert_eq!(reasons[0].code.as_deref(), Some("ConditionalCheckFailed"));
        }
        other => panic!("expected TransactionCanceled, got {other:?}"),
    }
    db.unlink_membership("acme".into(), "a@x".into())
        .await
        .unwrap();
    assert!(db.companies_of_user("a@x").all().await.unwrap().is_empty());
    assert!(
        db.members_of_company("acme")
            .all()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_transaction_with_one_failing_condition_writes_nothing() {
    let db = db().await;
    let existing = db.company().create(&company("acme")).await.unwrap();
    let newcomer = user("acme", "new@acme");
    let missing = CompanyKey {
        name: "nope".into(),
    };
    let update = db
        .company()
        .update(&existing.key())
        .set_industry("tx".into());
    let res = db
        .transaction()
        .create(&newcomer)
        .update(update)
        .condition_check(&missing, true)
        .send()
        .await;
    match res {
        Err(Error::TransactionCanceled { reasons }) => {
            let failed: Vec<(usize, &str)> = reasons
                .iter()
                .filter(|r| r.code.is_some())
                .map(|r| (r.index, r.action.as_str()))
                .collect();
            assert_eq!(failed, [(2, "condition check Company")]);
        }
        other => panic!("expected TransactionCanceled, got {other:?}"),
    }
    assert_eq!(db.user().get(&newcomer.key()).await.unwrap(), None);
    assert_eq!(
        db.company()
            .get(&existing.key())
            .await
            .unwrap()
            .unwrap()
            .industry,
        None
    );
}

#[tokio::test]
async fn a_mistyped_item_is_a_typed_error_naming_entity_attribute_and_key() {
    let db = db().await;
    let u = user("acme", "typo@x");
    let mut item = u.to_item();
    item.insert("loginCount".into(), AttributeValue::S("many".into()));
    db.client()
        .put_item()
        .table_name(db.table_name())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    match db.user().get(&u.key()).await {
        Err(Error::InvalidItem(e)) => {
            assert_eq!((e.entity, e.attribute), ("User", "loginCount"));
            assert_eq!(e.kind, ItemErrorKind::WrongType { expected: "N" });
            assert_eq!(e.key, "(company#acme, user#typo@x)");
        }
        other => panic!("expected InvalidItem, got {other:?}"),
    }
    let mut item = u.to_item();
    item.remove("name");
    db.client()
        .put_item()
        .table_name(db.table_name())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    match db.user().get(&u.key()).await {
        Err(Error::InvalidItem(e)) => {
            assert_eq!((e.attribute, e.kind), ("name", ItemErrorKind::Missing))
        }
        other => panic!("expected InvalidItem, got {other:?}"),
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn string(&mut self) -> String {
        const ALPHABET: &[char] = &['#', '%', '2', '3', 'a', 'u', 's', 'e', 'r', '#', '%'];
        let len = (self.next() % 7) as usize;
        (0..len)
            .map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize])
            .collect()
    }
}

#[test]
fn delimiter_injection_never_makes_two_keys_collide() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seen = std::collections::HashMap::new();
    for _ in 0..20_000 {
        let key = UserKey {
            company_name: rng.string(),
            email: rng.string(),
        };
        let item = key.to_key_item();
        let rendered = (
            item["pk"].as_s().unwrap().clone(),
            item["sk"].as_s().unwrap().clone(),
        );
        if let Some(previous) = seen.insert(rendered.clone(), key.clone()) {
            assert_eq!(
                previous, key,
                "{previous:?} and {key:?} both render {rendered:?}"
            );
        }
        // Escaped values never contain the delimiter.
        assert!(!rendered.0["company#".len()..].contains('#'));
    }
}

#[tokio::test]
async fn a_delimiter_in_a_value_cannot_reach_another_partition_or_entity() {
    let db = db().await;
    let mut rng = Rng(12345);
    let mut companies: Vec<String> = (0..12)
        .map(|i| {
            if i == 0 {
                "acme".into()
            } else {
                format!("acme{}", rng.string())
            }
        })
        .collect();
    companies.sort();
    companies.dedup();
    assert!(companies.len() > 5);
    for c in &companies {
        db.user()
            .create(&user(c, &format!("{}#user#x", rng.string())))
            .await
            .unwrap();
        db.company().create(&company(c)).await.unwrap();
    }
    for c in &companies {
        let users = db.users_of_company(c).all().await.unwrap();
        assert_eq!(users.len(), 1, "company {c:?} sees {users:?}");
        assert_eq!(&users[0].company_name, c);
    }
}

#[tokio::test]
async fn items_whose_ttl_has_passed_are_skipped_by_gets_and_patterns() {
    let db = db().await;
    // Whole seconds: the TTL attribute is stored in epoch seconds.
    let now = Timestamp::now().unix_millis() / 1000 * 1000;
    let at = |offset_s: i64| Timestamp::from_unix_millis(now + offset_s * 1000);
    let invite = |email: &str, expires_at| {
        let mut i = Invitation::new("acme", email, "ada@acme.io");
        i.expires_at = expires_at;
        i
    };
    let gone = invite("gone@x.io", at(-5));
    let live = invite("live@x.io", at(3600));
    let forever = invite("forever@x.io", None);
    for i in [&gone, &live, &forever] {
        db.invitation().create(i).await.unwrap();
    }
    // DynamoDB Local never deletes expired items: the stored item is still there...
    let raw = db
        .client()
        .get_item()
        .table_name(db.table_name())
        .set_key(Some(gone.key().to_key_item()))
        .send()
        .await
        .unwrap();
    assert!(raw.item().is_some());
    // ... and reads skip it.
    assert_eq!(db.invitation().get(&gone.key()).await.unwrap(), None);
    assert_eq!(
        db.invitation().get(&live.key()).await.unwrap().as_ref(),
        Some(&live)
    );
    let pending = db.pending_invitations("acme").all().await.unwrap();
    let emails: Vec<&str> = pending.iter().map(|i| i.email.as_str()).collect();
    assert_eq!(emails, ["forever@x.io", "live@x.io"]);
    let got = db
        .invitation()
        .batch_get(&[gone.key(), live.key()])
        .await
        .unwrap();
    assert_eq!(got, [live]);
}
