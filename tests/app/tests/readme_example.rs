//! The README's usage example, compiled (and run against DynamoDB Local) so it stays true.

mod common;

use dyngen_app_tests::example as db;

use db::{Db, Error, User, UserKey};

async fn example(
    client: dyngen_runtime::aws_sdk_dynamodb::Client,
    new_user: User,
) -> Result<(), Error> {
    let db = Db::new(client).with_table_name(common::table("readme"));
    db.create_table().await?;
    let alice = db.user().create(&new_user).await?;

    let page = db.users_of_company("acme").limit(50).send().await?;
    for user in &page.items {
        println!("{}", user.email);
    }
    if let Some(cursor) = page.cursor {
        let _next = db.users_of_company("acme").cursor(cursor).send().await?;
    }

    let key = UserKey {
        company_name: "acme".into(),
        email: "alice@example.com".into(),
    };
    let acme = db::CompanyKey {
        name: "acme".into(),
    };
    // (The README's company exists already; here the test creates it.)
    let ts = dyngen_runtime::Timestamp::UNIX_EPOCH;
    db.company()
        .create(&db::Company {
            name: "acme".into(),
            industry: None,
            plan: db::CompanyPlan::ALL[0],
            created_at: ts,
            updated_at: ts,
            version: 0,
        })
        .await?;
    db.transaction()
        .update(db.company().update(&acme).set_industry("tools".into()))
        .send()
        .await?;

    db.user()
        .update(&key)
        .set_newsletter_subscribed(true)
        .add_login_count(1)
        .send()
        .await?;

    match db.user().put(&alice).await {
        Err(Error::VersionConflict { .. }) => {}
        other => {
            other?;
            panic!("alice's version 1 is stale after the update");
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_readme_example_runs() {
    let ts = dyngen_runtime::Timestamp::UNIX_EPOCH;
    let alice = User {
        email: "alice@example.com".into(),
        company_name: "acme".into(),
        name: "Alice".into(),
        dob: None,
        newsletter_subscribed: false,
        role: db::UserRole::Admin,
        tags: Default::default(),
        login_count: 0,
        created_at: ts,
        updated_at: ts,
        version: 0,
    };
    example(common::client(), alice).await.unwrap();
}
