//! The plan before apply (`migrate::inspect`, what `dyngen migrate --plan` prints) against
//! DynamoDB Local, through a proxy that records every request: it calls only actions its
//! generated IAM policy allows, that policy allows no write, and the table is unchanged.

mod common;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;

use std::collections::BTreeSet;
use std::path::PathBuf;

use dyngen_app_tests::{migrate_v1 as v1, migrate_v2 as v2};
use dyngen_runtime::migrate::{Options, inspect};
use fault_proxy::{FaultProxy, Faults};

/// The actions of the plan's policy, as generated for the fixture the test migrates.
fn plan_policy() -> BTreeSet<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/valid/migrate_v2/expected/iam/migrations_plan.json");
    (common::policy_pairs(&path).into_iter())
        .map(|(action, index)| {
            assert_eq!(index, None, "the plan reads the table, not an index");
            action
        })
        .collect()
}

/// An action that only reads: a Describe, Get, Query, Scan or List.
fn reads_only(action: &str) -> bool {
    ["Describe", "Get", "BatchGet", "Query", "Scan", "List"]
        .iter()
        .any(|p| action.starts_with(p))
}

#[tokio::test]
async fn the_plan_reads_only_what_its_policy_allows_and_the_policy_allows_no_write() {
    let policy = plan_policy();
    let writes: Vec<&String> = policy.iter().filter(|a| !reads_only(a)).collect();
    assert!(
        writes.is_empty(),
        "write actions in the plan's policy: {writes:?}"
    );

    let proxy = FaultProxy::start(common::local().endpoint(), Faults::default(), 1).await;
    let through_proxy = common::local().client_with(|b| b.endpoint_url(&proxy.url));
    let table = common::table("plan");
    let migrations = v2::migrations().unwrap();

    // No table yet: every migration pending, and the table reported absent.
    let fresh = inspect(&through_proxy, &table, &migrations).await.unwrap();
    assert!(!fresh.exists);
    assert_eq!(fresh.pending, ["0001_create_table", "0002_add_index_gsi2"]);
    assert!(!fresh.is_clean());

    // v1 applied: the index is pending; nothing drifted.
    let old = v1::Db::new(common::client()).with_table_name(&table);
    old.migrate(&Options::default()).await.unwrap();
    let before = common::client()
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let plan = inspect(&through_proxy, &table, &migrations).await.unwrap();
    assert_eq!(plan.applied, ["0001_create_table"]);
    assert_eq!(plan.pending, ["0002_add_index_gsi2"]);
    let shown: Vec<(&str, &str, bool)> = (plan.differences.iter())
        .map(|d| (d.what.as_str(), d.live.as_str(), d.pending))
        .collect();
    assert_eq!(shown, [("index `gsi2`", "absent", true)]);

    let called: BTreeSet<String> = proxy
        .stats
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.1.clone())
        .collect();
    let beyond: Vec<&String> = called.difference(&policy).collect();
    assert!(
        beyond.is_empty(),
        "the plan called {beyond:?}, which its policy does not allow"
    );
    assert!(
        called.contains("DescribeTable") && called.contains("Query"),
        "{called:?}"
    );
    // Nothing changed: the same table, the ledger still at v1.
    let after = common::client()
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    assert_eq!(
        before
            .table()
            .map(|t| (t.global_secondary_indexes().len(), t.item_count())),
        after
            .table()
            .map(|t| (t.global_secondary_indexes().len(), t.item_count()))
    );
    let again = dyngen_runtime::migrate::plan(&common::client(), &table, &migrations)
        .await
        .unwrap();
    assert_eq!(again, ["0002_add_index_gsi2"]);
}
