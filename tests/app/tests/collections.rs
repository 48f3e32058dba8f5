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
