//! `dyngen migrate --plan` against DynamoDB Local: snapshots of what it prints for a
//! table that does not exist, one with an index pending, one up to date, one whose
//! settings were changed by hand, and one whose indexes were; in the human, JSON and
//! GitHub formats; exit 0 only when nothing is pending and nothing differs.
#![cfg(feature = "migrate")]

mod common;

use common::{assert_golden, root, text};
use dyngen_runtime::aws_sdk_dynamodb::types::{
    AttributeDefinition, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
    GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use dyngen_runtime::local::DynamoDbLocal;

fn local() -> &'static DynamoDbLocal {
    DynamoDbLocal::shared().unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `dyngen migrate` with the migration files of a fixture; the table's name in the
/// output is replaced by `<table>`.
fn migrate(table: &str, fixture: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = root().join(format!("tests/fixtures/valid/{fixture}/expected"));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_dyngen"))
        .args(["migrate", "--out", out.to_str().unwrap(), "--table", table])
        .args(["--endpoint", local().endpoint(), "--region", "us-east-1"])
        .args(extra)
        .env("AWS_ACCESS_KEY_ID", "dyngenlocal")
        .env("AWS_SECRET_ACCESS_KEY", "dyngenlocal")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let shown = |b: &[u8]| text(b).replace(table, "<table>");
    (o.status.code(), shown(&o.stdout), shown(&o.stderr))
}

fn applied(table: &str, fixture: &str) {
    let (code, _, stderr) = migrate(table, fixture, &[]);
    assert_eq!(code, Some(0), "{stderr}");
}

/// Plans v2 against the table, checks the exit code and the snapshot of each format.
fn snapshot(table: &str, name: &str, exit: i32, formats: &[&str]) {
    for format in formats {
        let (code, stdout, stderr) = migrate(table, "migrate_v2", &["--plan", "--format", format]);
        assert_eq!(code, Some(exit), "{name} ({format}): {stdout}{stderr}");
        let ext = if *format == "json" { "json" } else { "txt" };
        let path = root().join(format!("tests/fixtures/migrate_plan/{name}.{format}.{ext}"));
        assert_golden(&path, &stdout);
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

fn wait_active(table: &str) {
    let options = dyngen_runtime::migrate::Options {
        poll: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    block_on(dyngen_runtime::migrate::wait_active(
        &local().client(),
        table,
        &options,
    ))
    .unwrap();
}

#[test]
fn a_table_that_does_not_exist_yet() {
    let table = dyngen_runtime::local::unique_table_name("plan-fresh");
    snapshot(&table, "fresh", 1, &["human", "json"]);
}

#[test]
fn one_index_pending_then_up_to_date() {
    let table = dyngen_runtime::local::unique_table_name("plan-index");
    applied(&table, "migrate_v1");
    snapshot(&table, "one_index_pending", 1, &["human", "json", "github"]);
    applied(&table, "migrate_v2");
    snapshot(&table, "up_to_date", 0, &["human", "json"]);
}

#[test]
fn settings_changed_by_hand_are_drift() {
    let table = dyngen_runtime::local::unique_table_name("plan-settings");
    applied(&table, "migrate_v2");
    let client = local().client();
    let ttl = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name("expires")
        .build()
        .unwrap();
    block_on(
        client
            .update_time_to_live()
            .table_name(&table)
            .time_to_live_specification(ttl)
            .send(),
    )
    .unwrap();
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::KeysOnly)
        .build()
        .unwrap();
    block_on(
        client
            .update_table()
            .table_name(&table)
            .stream_specification(stream)
            .send(),
    )
    .unwrap();
    wait_active(&table);
    snapshot(&table, "settings_drift", 1, &["human", "github"]);
}

#[test]
fn indexes_changed_by_hand_are_drift() {
    let table = dyngen_runtime::local::unique_table_name("plan-indexes");
    applied(&table, "migrate_v2");
    let client = local().client();
    let delete = DeleteGlobalSecondaryIndexAction::builder()
        .index_name("gsi1")
        .build()
        .unwrap();
    let update = GlobalSecondaryIndexUpdate::builder().delete(delete).build();
    block_on(
        client
            .update_table()
            .table_name(&table)
            .global_secondary_index_updates(update)
            .send(),
    )
    .unwrap();
    wait_active(&table);
    let key = |name: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(t)
            .build()
            .unwrap()
    };
    let create = CreateGlobalSecondaryIndexAction::builder()
        .index_name("by_name")
        .key_schema(key("name", KeyType::Hash))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()
        .unwrap();
    let def = AttributeDefinition::builder()
        .attribute_name("name")
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap();
    let update = GlobalSecondaryIndexUpdate::builder().create(create).build();
    block_on(
        client
            .update_table()
            .table_name(&table)
            .attribute_definitions(def)
            .global_secondary_index_updates(update)
            .send(),
    )
    .unwrap();
    wait_active(&table);
    snapshot(&table, "changed_by_hand", 1, &["human"]);
}

#[test]
fn a_table_that_cannot_be_read_is_exit_2_not_up_to_date() {
    let table = dyngen_runtime::local::unique_table_name("plan-refused");
    // An edited migration (the ledger's checksum differs) makes the plan impossible.
    applied(&table, "migrate_v1");
    let client = local().client();
    let ledger = block_on(
        client
            .update_item()
            .table_name(&table)
            .key(
                "pk",
                dyngen_runtime::aws_sdk_dynamodb::types::AttributeValue::S(
                    "#dyngen#migrations".into(),
                ),
            )
            .key(
                "sk",
                dyngen_runtime::aws_sdk_dynamodb::types::AttributeValue::S(
                    "0001_create_table".into(),
                ),
            )
            .update_expression("SET checksum = :c")
            .expression_attribute_values(
                ":c",
                dyngen_runtime::aws_sdk_dynamodb::types::AttributeValue::S("0".into()),
            )
            .send(),
    );
    ledger.unwrap();
    let (code, stdout, stderr) = migrate(&table, "migrate_v2", &["--plan"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("was edited after it was applied"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
}
