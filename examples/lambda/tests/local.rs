//! The two functions against DynamoDB Local: cold starts migrate once, `api` serves both
//! access patterns from requests in the JSON Lambda delivers, and `stream` counts users
//! from the records the table's stream really produced.

use std::collections::BTreeSet;

use dyngen_example_lambda::{App, Company, CompanyKey, Request, User, cold_start};
use dyngen_runtime::local::{DynamoDbLocal, unique_table_name};
use serde_json::json;

fn local() -> &'static DynamoDbLocal {
    DynamoDbLocal::shared().unwrap_or_else(|e| panic!("DynamoDB Local is required: {e}"))
}

fn request(v: serde_json::Value) -> Request {
    serde_json::from_value(v).unwrap()
}

async fn user_count(app: &App, company: &str) -> i64 {
    let key = CompanyKey {
        name: company.into(),
    };
    app.db
        .company()
        .get(&key)
        .await
        .unwrap()
        .unwrap()
        .user_count
}

#[tokio::test]
async fn cold_starts_migrate_once_and_the_functions_serve_and_count() {
    let table = unique_table_name("lambda");
    let app = cold_start(local().client(), Some(&table)).await.unwrap();
    // A second instance's cold start finds the migrations applied.
    let again = cold_start(local().client(), Some(&table)).await.unwrap();
    let report = again.db.migrate(&Default::default()).await.unwrap();
    assert!(report.applied.is_empty(), "{report:?}");

    // What another service writes.
    for name in ["acme", "globex"] {
        app.db.company().create(&Company::new(name)).await.unwrap();
    }
    for (email, company) in [
        ("cy@acme.test", "acme"),
        ("ann@acme.test", "acme"),
        ("bo@acme.test", "acme"),
        ("di@globex.test", "globex"),
        ("ed@ghost.test", "ghost"),
    ] {
        let user = User::new(email, company, email.split('@').next().unwrap_or(email));
        app.db.user().create(&user).await.unwrap();
    }

    // `api`: a company's users, two per page, in email order.
    let first = app
        .serve(request(
            json!({ "pattern": "usersOfCompany", "company": "acme", "limit": 2 }),
        ))
        .await
        .unwrap();
    let cursor = first.cursor.clone().expect("a second page");
    let second = app
        .serve(request(
            json!({ "pattern": "usersOfCompany", "company": "acme", "limit": 2, "cursor": cursor }),
        ))
        .await
        .unwrap();
    let emails: Vec<&str> = first
        .users
        .iter()
        .chain(&second.users)
        .map(|u| u.email.as_str())
        .collect();
    assert_eq!(emails, ["ann@acme.test", "bo@acme.test", "cy@acme.test"]);
    assert_eq!(second.cursor, None);
    // Users go out with the schema's field names.
    let body = serde_json::to_value(&first).unwrap();
    assert_eq!(body["users"][0]["companyName"], "acme");
    assert!(body["users"][0]["createdAt"].is_string(), "{body}");
    let found = app
        .serve(request(
            json!({ "pattern": "userByEmail", "email": "di@globex.test" }),
        ))
        .await
        .unwrap();
    assert_eq!(found.users.len(), 1);
    assert_eq!(found.users[0].company_name, "globex");
    let none = app
        .serve(request(
            json!({ "pattern": "userByEmail", "email": "nobody@x.test" }),
        ))
        .await
        .unwrap();
    assert!(none.users.is_empty());
    assert!(serde_json::from_value::<Request>(json!({ "pattern": "dropTable" })).is_err());

    // `stream`: the records so far, as Lambda would deliver them.
    let event = local().stream_event(&table).await.unwrap();
    let handled: BTreeSet<String> = event.records.iter().map(|r| r.event_id.clone()).collect();
    let report = app.on_stream(&event).await.unwrap();
    assert_eq!(
        (report.counted, report.without_company),
        (4, 1),
        "{report:?}"
    );
    assert_eq!(user_count(&app, "acme").await, 3);
    assert_eq!(user_count(&app, "globex").await, 1);

    // A deletion, delivered in the next batch (only the records not handled yet).
    app.db
        .user()
        .delete(&User::new("bo@acme.test", "acme", "bo").key())
        .await
        .unwrap();
    let mut next = local().stream_event(&table).await.unwrap();
    next.records.retain(|r| !handled.contains(&r.event_id));
    let report = app.on_stream(&next).await.unwrap();
    assert_eq!(
        (report.counted, report.without_company),
        (1, 0),
        "{report:?}"
    );
    // The count updates of the first batch came back as company changes, and were ignored.
    assert!(report.ignored >= 4, "{report:?}");
    assert_eq!(user_count(&app, "acme").await, 2);
}
