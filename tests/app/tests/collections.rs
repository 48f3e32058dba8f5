//! Item collections with a literal sort-key condition (`sort_key:`), against DynamoDB
//! Local: a repository, its issues and its stars share a partition; each pattern returns
//! exactly the items whose sort key meets its condition, page after page, and never the
//! others.

mod common;

use dyngen_app_tests::collections::*;

const ISSUES: i64 = 11;
const STARS: usize = 20;

async fn seeded() -> Db {
    let db = Db::new(common::client()).with_table_name(common::table("coll"));
    db.create_table().await.unwrap();
    let mut batch = db.batch_write();
    batch = batch.put(&Repo::new("acme", "rocket"));
    for n in 1..=ISSUES {
        batch = batch.put(&Issue::new("acme", "rocket", n, format!("issue {n}")));
    }
    for u in 0..STARS {
        batch = batch.put(&Star::new("acme", "rocket", format!("user{u:02}")));
    }
    // Another repository's items must never appear.
    batch = batch.put(&Issue::new("acme", "other", 1, "elsewhere"));
    batch.send().await.unwrap();
    db
}

fn issue_numbers<'a>(issues: impl Iterator<Item = &'a Issue>) -> Vec<i64> {
    let mut n: Vec<i64> = issues.map(|i| i.number).collect();
    n.sort();
    n
}

#[tokio::test]
async fn a_literal_bound_reads_one_entitys_items_without_anothers() {
    let db = seeded().await;
    let all: Vec<i64> = (1..=ISSUES).collect();

    let items = db.repo_and_issues("acme", "rocket").all().await.unwrap();
    assert!(
        matches!(items[0], RepoAndIssuesItem::Repo(_)),
        "#REPO sorts first"
    );
    let issues = items.iter().filter_map(|i| match i {
        RepoAndIssuesItem::Issue(i) => Some(i),
        RepoAndIssuesItem::Repo(_) => None,
    });
    assert_eq!(issue_numbers(issues), all);
    assert_eq!(items.len() as i64, ISSUES + 1);

    // A page of 11 is full: no star was read into it.
    let page = db
        .repo_and_issues("acme", "rocket")
        .limit(11)
        .send()
        .await
        .unwrap();
    assert_eq!(page.items.len(), 11);

    let only = db.issues_of_repo("acme", "rocket").all().await.unwrap();
    assert!(only.iter().all(|i| matches!(i, IssuesOfRepoItem::Issue(_))));
    assert_eq!(only.len() as i64, ISSUES);

    let between = db
        .repo_and_issues_between("acme", "rocket")
        .all()
        .await
        .unwrap();
    assert_eq!(between.len() as i64, ISSUES + 1);
    assert!(
        matches!(between.last(), Some(RepoAndIssuesBetweenItem::Repo(_))),
        "descending"
    );

    let stars_and_issues = db.stars_and_issues("acme", "rocket").all().await.unwrap();
    let stars = stars_and_issues
        .iter()
        .filter(|i| matches!(i, StarsAndIssuesItem::Star(_)))
        .count();
    assert_eq!(
        (stars, stars_and_issues.len() - stars),
        (STARS, ISSUES as usize)
    );

    // Pages of 3 add up to the same items.
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let mut q = db.issues_of_repo("acme", "rocket").limit(3);
        if let Some(c) = cursor.take() {
            q = q.cursor(c);
        }
        let page = q.send().await.unwrap();
        paged.extend(page.items);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, only);

    let everything = db.everything("acme", "rocket").all().await.unwrap();
    assert_eq!(everything.len(), 1 + ISSUES as usize + STARS);
}

/// `ISSUE#{number:07}`: ranges compare numbers, around every digit-count boundary, and
/// values outside the width are refused on write and bound correctly in queries.
#[tokio::test]
async fn zero_padded_numbers_sort_as_numbers() {
    let db = Db::new(common::client()).with_table_name(common::table("pad"));
    db.create_table().await.unwrap();
    let numbers = [
        0i64, 1, 2, 9, 10, 11, 19, 20, 99, 100, 101, 999, 1000, 9_999_999,
    ];
    let mut batch = db.batch_write();
    for n in numbers {
        batch = batch.put(&Issue::new("acme", "rocket", n, format!("#{n}")));
    }
    batch.send().await.unwrap();
    let between = |lo: i64, hi: i64| {
        let db = &db;
        async move {
            let got: Vec<i64> = db
                .issues_between("acme", "rocket", lo, hi)
                .all()
                .await
                .unwrap()
                .into_iter()
                .map(|i| i.number)
                .collect();
            let want: Vec<i64> = numbers
                .iter()
                .copied()
                .filter(|n| (lo..=hi).contains(n))
                .collect();
            assert_eq!(got, want, "between({lo}, {hi})");
        }
    };
    for (lo, hi) in [
        (9, 10),
        (1, 20),
        (99, 100),
        (10, 99),
        (0, 0),
        (100, 1000),
        (-5, 5),
        (500, 20_000_000),
        (-1, i64::MAX),
    ] {
        between(lo, hi).await;
    }
    // A descending `gt`: in number order, from the top.
    let after: Vec<i64> = db
        .issues_after("acme", "rocket", 99)
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.number)
        .collect();
    assert_eq!(after, [9_999_999, 1000, 999, 101, 100]);
    let above_all = db
        .issues_after("acme", "rocket", 50_000_000)
        .all()
        .await
        .unwrap();
    assert!(above_all.is_empty());
    let below_all = db.issues_after("acme", "rocket", -3).all().await.unwrap();
    assert_eq!(below_all.len(), numbers.len());
    // An exact key that no stored item can have matches nothing.
    assert!(
        db.issue_by_number("acme", "rocket", 10_000_000)
            .all()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.issue_by_number("acme", "rocket", 10)
            .all()
            .await
            .unwrap()
            .len(),
        1
    );
    // Writes refuse what no key can hold, before the request.
    for bad in [-1i64, 10_000_000] {
        let err = db
            .issue()
            .create(&Issue::new("acme", "rocket", bad, "x"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidKey {
                    attribute: "number",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
    }
}

/// A backfill renders a padded template from stored items exactly as the generated code
/// writes it, and leaves out a number no key can hold.
#[test]
fn the_runner_renders_padded_keys_like_the_generated_code() {
    let key = dyngen_runtime::migrate::DerivedKey {
        attribute: "sk".into(),
        template: "ISSUE#{number:07}".into(),
        numeric: false,
        inputs: [("number".to_string(), "integer".to_string())].into(),
    };
    for n in [0i64, 9, 10, 99, 100, 9_999_999] {
        let item = Issue::new("o", "r", n, "t").to_item();
        assert_eq!(
            dyngen_runtime::migrate::render(&key, &item).as_ref(),
            item.get("sk"),
            "{n}"
        );
    }
    for bad in [-1i64, 10_000_000] {
        let item = Issue::new("o", "r", bad, "t").to_item();
        assert_eq!(dyngen_runtime::migrate::render(&key, &item), None, "{bad}");
    }
}
