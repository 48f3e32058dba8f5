//! Settings migrations and code migrations against DynamoDB Local. Settings migrations are
//! scaffolded here by the generator from schema changes, then applied by the runner to a
//! live table; code migrations are the `migrate_v3` fixture's.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::types::{BillingMode, StreamViewType, TimeToLiveStatus};
use dyngen::migrations::MigrationSource;
use dyngen_app_tests::{migrate_v1 as v1, migrate_v3 as v3};
use dyngen_runtime::migrate::{Change, CodeStep, MigrateError, Options};

fn options() -> Options {
    Options {
        poll: Duration::from_millis(100),
        ..Default::default()
    }
}

const BASE: &str = r#"
version: 1
table:
  name: settings
  partition_key: pk
  sort_key: sk
  indexes:
    gsi1: { partition_key: gsi1pk, sort_key: gsi1sk }
entities:
  Thing:
    attributes: { id: string }
    keys:
      primary: { pk: "thing#{id}", sk: "thing#" }
      gsi1: { pk: "things", sk: "{id}" }
"#;

/// The schema with extra table lines (inserted after `sort_key`).
fn schema(extra: &str) -> String {
    BASE.replace("  sort_key: sk\n", &format!("  sort_key: sk\n{extra}"))
}

use common::{runnable, scaffold};

/// What the live table's settings are.
#[derive(Debug, PartialEq)]
struct Live {
    ttl: Option<String>,
    provisioned: Option<(i64, i64)>,
    index_capacity: Vec<Option<(i64, i64)>>,
    stream: Option<StreamViewType>,
    deletion_protection: bool,
}

async fn live(client: &aws_sdk_dynamodb::Client, table: &str) -> Live {
    let ttl = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let ttl = ttl
        .time_to_live_description()
        .filter(|d| d.time_to_live_status() == Some(&TimeToLiveStatus::Enabled))
        .and_then(|d| d.attribute_name().map(str::to_string));
    let t = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let t = t.table().unwrap();
    let capacity = |p: Option<&aws_sdk_dynamodb::types::ProvisionedThroughputDescription>| {
        p.map(|p| {
            (
                p.read_capacity_units().unwrap_or(0),
                p.write_capacity_units().unwrap_or(0),
            )
        })
    };
    let provisioned = (t.billing_mode_summary().and_then(|b| b.billing_mode())
        == Some(&BillingMode::Provisioned))
    .then(|| capacity(t.provisioned_throughput()))
    .flatten();
    Live {
        ttl,
        provisioned,
        // Index capacity means something only on a provisioned table (Local keeps reporting
        // the old numbers after a switch to on-demand).
        index_capacity: t
            .global_secondary_indexes()
            .iter()
            .filter(|_| provisioned.is_some())
            .map(|g| capacity(g.provisioned_throughput()))
            .collect(),
        stream: t
            .stream_specification()
            .filter(|s| s.stream_enabled())
            .and_then(|s| s.stream_view_type().cloned()),
        deletion_protection: t.deletion_protection_enabled().unwrap_or(false),
    }
}

#[tokio::test]
async fn each_settings_change_becomes_a_migration_that_changes_the_live_table() {
    let client = common::client();
    let table = common::table("settings");
    let mut files = Vec::new();
    assert_eq!(scaffold(&schema(""), &mut files), ["0001_create_table"]);
    let run = |files: &[MigrationSource]| {
        let migrations = runnable(files);
        let client = client.clone();
        let table = table.clone();
        async move { dyngen_runtime::migrate::run(&client, &table, &migrations, &options()).await }
    };
    run(&files).await.unwrap();
    let plain = live(&client, &table).await;
    assert_eq!(plain.ttl, None);
    assert_eq!(plain.stream, None);
    assert!(!plain.deletion_protection);

    // Every setting on: one migration each.
    let on = "  ttl_attribute: expiresAt\n  billing_mode: provisioned\n  capacity: { read: 3, write: 2 }\n  stream: keys_only\n  deletion_protection: true\n";
    let new = scaffold(&schema(on), &mut files);
    assert_eq!(
        new,
        [
            "0002_set_ttl",
            "0003_set_billing",
            "0004_set_stream",
            "0005_set_deletion_protection"
        ]
    );
    let report = run(&files).await.unwrap();
    assert_eq!(report.applied, new);
    let settings_migrations = new;
    let expected = Live {
        ttl: Some("expiresAt".into()),
        provisioned: Some((3, 2)),
        index_capacity: vec![Some((3, 2))],
        stream: Some(StreamViewType::KeysOnly),
        deletion_protection: true,
    };
    assert_eq!(live(&client, &table).await, expected);

    // Idempotent: with the ledger forgotten, the same steps find nothing to change.
    forget_ledger(&client, &table).await;
    let again = run(&files).await.unwrap();
    assert_eq!(again.applied, settings_migrations);
    assert_eq!(live(&client, &table).await, expected);

    // Changed again: TTL moves, the stream's view type changes, the rest turns off.
    let changed = "  ttl_attribute: endsAt\n  stream: new_and_old_images\n";
    let new = scaffold(&schema(changed), &mut files);
    assert_eq!(
        new,
        [
            "0006_set_ttl",
            "0007_set_billing",
            "0008_set_stream",
            "0009_set_deletion_protection"
        ]
    );
    run(&files).await.unwrap();
    assert_eq!(
        live(&client, &table).await,
        Live {
            ttl: Some("endsAt".into()),
            provisioned: None,
            index_capacity: vec![],
            stream: Some(StreamViewType::NewAndOldImages),
            deletion_protection: false,
        }
    );
    // And the schema is now what the migrations say: nothing more to scaffold.
    assert!(scaffold(&schema(changed), &mut files).is_empty());
}

/// Deletes the runner's ledger items, as if the migrations had never been recorded.
async fn forget_ledger(client: &aws_sdk_dynamodb::Client, table: &str) {
    let out = client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(
            ":p",
            aws_sdk_dynamodb::types::AttributeValue::S("#dyngen#migrations".into()),
        )
        .send()
        .await
        .unwrap();
    for item in out.items() {
        let name = item["sk"].as_s().unwrap();
        if name != "0001_create_table" {
            client
                .delete_item()
                .table_name(table)
                .key("pk", item["pk"].clone())
                .key("sk", item["sk"].clone())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn the_first_migration_reconciles_every_setting_of_a_table_that_exists() {
    let client = common::client();
    let table = common::table("recon");
    let mut files = Vec::new();
    let all = "  ttl_attribute: expiresAt\n  billing_mode: provisioned\n  capacity: { read: 4, write: 4 }\n  stream: new_image\n  deletion_protection: true\n";
    scaffold(&schema(all), &mut files);
    // The table exists already, plain (created by hand, or a crash after CreateTable).
    let plain_files = {
        let mut f = Vec::new();
        scaffold(&schema(""), &mut f);
        runnable(&f)
    };
    let def = match &plain_files[0].steps[0] {
        dyngen_runtime::migrate::Step::CreateTable(t) => t.clone(),
        other => panic!("{other:?}"),
    };
    dyngen_runtime::migrate::create_table(&client, &table, &def, &options())
        .await
        .unwrap();
    let report = dyngen_runtime::migrate::run(&client, &table, &runnable(&files), &options())
        .await
        .unwrap();
    assert!(!report.created_table);
    assert_eq!(
        live(&client, &table).await,
        Live {
            ttl: Some("expiresAt".into()),
            provisioned: Some((4, 4)),
            index_capacity: vec![Some((4, 4))],
            stream: Some(StreamViewType::NewImage),
            deletion_protection: true,
        }
    );
}

/// DynamoDB Local has no continuous backups (UnknownOperationException): the step is
/// tried, the error is DynamoDB's own, and the migration stays unrecorded.
#[tokio::test]
async fn point_in_time_recovery_is_attempted_and_a_refusal_is_reported() {
    let client = common::client();
    let table = common::table("pitr");
    let mut files = Vec::new();
    scaffold(&schema(""), &mut files);
    let new = scaffold(&schema("  point_in_time_recovery: true\n"), &mut files);
    assert_eq!(new, ["0002_set_point_in_time_recovery"]);
    let migrations = runnable(&files);
    let err = dyngen_runtime::migrate::run(&client, &table, &migrations, &options())
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::Sdk(_)), "{err:?}");
    assert!(err.to_string().contains("UnknownOperation"), "{err}");
    let pending = dyngen_runtime::migrate::plan(&client, &table, &migrations)
        .await
        .unwrap();
    assert_eq!(pending, ["0002_set_point_in_time_recovery"]);
}

fn person(i: usize) -> v1::Person {
    v1::Person {
        id: format!("p{i:05}"),
        team: format!("t{}", i % 7),
        name: format!("Ada{i} Lovelace"),
        born: None,
    }
}

/// The fixture's code step: first name split off, and a mark appended to the name that
/// would show twice if an item were transformed twice.
fn split_names(calls: Arc<AtomicU64>) -> CodeStep {
    CodeStep::each(move |mut p: v3::Person| {
        calls.fetch_add(1, Ordering::Relaxed);
        async move {
            p.first_name = p.name.split(' ').next().map(str::to_string);
            p.name.push_str(" [split]");
            Ok(Change::Put(p))
        }
    })
}

#[tokio::test]
async fn a_code_migration_killed_mid_run_resumes_and_changes_each_item_once() {
    const N: usize = 5_000;
    let table = common::table("code");
    let client = common::client();
    let old = v1::Db::new(client.clone()).with_table_name(&table);
    old.migrate(&options()).await.unwrap();
    let mut batch = old.batch_write();
    for i in 0..N {
        batch = batch.put(&person(i));
    }
    batch.send().await.unwrap();
    let db = v3::Db::new(client.clone()).with_table_name(&table);

    // Without the step registered, the run refuses before changing anything.
    let err = db.migrate(&options()).await.unwrap_err();
    assert!(err.to_string().contains("split_names"), "{err}");

    let calls = Arc::new(AtomicU64::new(0));
    let changed = Arc::new(AtomicU64::new(0));
    let seen = changed.clone();
    let crashing = Options {
        owner: "crashes".into(),
        lease: Duration::from_secs(2),
        segments: 4,
        page_size: Some(50),
        progress: Some(Arc::new(move |p| {
            seen.fetch_max(p.changed, Ordering::SeqCst);
        })),
        ..options()
    }
    .code_step("split_names", split_names(calls.clone()));
    let mut run = Box::pin(db.migrate(&crashing));
    loop {
        tokio::select! {
            r = &mut run => panic!("the runner finished before it was stopped: {r:?}"),
            _ = tokio::time::sleep(Duration::from_millis(5)) => {
                if changed.load(Ordering::SeqCst) >= 500 { break; }
            }
        }
    }
    drop(run);
    let at_crash = calls.load(Ordering::SeqCst);
    assert!(at_crash < N as u64, "{at_crash} calls before the crash");

    let resumed = Options {
        owner: "resumes".into(),
        segments: 1, // ignored: the open pass keeps its four segments
        ..options()
    }
    .code_step("split_names", split_names(calls.clone()));
    let report = db.migrate(&resumed).await.unwrap();
    assert_eq!(report.applied.last().unwrap(), "0005_split_names");

    let people = db.people_of_team("t3").all().await.unwrap();
    let mut all = Vec::new();
    for t in 0..7 {
        all.extend(db.people_of_team(&format!("t{t}")).all().await.unwrap());
    }
    assert!(!people.is_empty());
    assert_eq!(all.len(), N);
    for p in &all {
        let i: usize = p.id[1..].parse().unwrap();
        assert_eq!(p.name, format!("Ada{i} Lovelace [split]"), "{}", p.id);
        assert_eq!(p.first_name.as_deref(), Some(format!("Ada{i}").as_str()));
    }
    // The resumed run did not start over: far fewer calls than two full passes.
    let total = calls.load(Ordering::SeqCst);
    assert!(total < 2 * N as u64 - 400, "{total} calls for {N} items");
    // The settings steps of v3 reached the table too.
    let t = live(&client, &table).await;
    assert_eq!(t.stream, Some(StreamViewType::NewAndOldImages));
    assert!(t.deletion_protection);
}
