//! A plan before apply: what a run would do to a live table, and how that table differs
//! from what the migrations make it. Reads only: DescribeTable, DescribeTimeToLive,
//! DescribeContinuousBackups and the ledger (Query, or GetItem in a table with a
//! partition key only).
//!
//! The table is compared as three [`TableDef`]s reduced to the same named facets (key,
//! billing, each index, each setting): the live table, the table the applied migrations
//! leave, and the table every migration leaves (the schema's). A facet where the live
//! table differs from the schema's is a difference; it is pending when the live table is
//! as the applied migrations left it (a pending migration changes it), and drift
//! otherwise (changed outside the migrations, or a step stopped half-way).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    BillingMode, GlobalSecondaryIndexDescription, KeySchemaElement, KeyType,
    LocalSecondaryIndexDescription, Projection, ProjectionType, TableDescription,
};

use super::common::{Keys, MigrateError, sdk};
use super::ledger::applied;
use super::model::{Capacity, IndexDef, KeyAttr, Migration, ProjectionDef, StreamView, TableDef};
use super::runner::{pending, table_def};

/// One facet of the table where the live table is not what the schema's migrations make
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The facet: `key`, `billing`, `time to live`, `stream`, `point-in-time recovery`,
    /// `deletion protection`, ``index `gsi2` ``, ``local index `lsi1` ``.
    pub what: String,
    /// The live table's, in words (`absent` when it has none).
    pub live: String,
    /// What the schema's migrations make it.
    pub schema: String,
    /// `true`: the live table is as the applied migrations left it, and a pending one
    /// changes it. `false`: drift, changed outside the migrations (or a step stopped
    /// half-way); applying will not necessarily change it back.
    pub pending: bool,
}

/// What `dyngen migrate --plan` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub table: String,
    /// Whether the table exists.
    pub exists: bool,
    /// The migrations the ledger records (of this code), in order.
    pub applied: Vec<String>,
    /// Migrations the ledger records that this code does not have, all newer.
    pub newer_applied: Vec<String>,
    /// The migrations a run would apply, in order.
    pub pending: Vec<String>,
    /// Every facet where the live table differs from the schema's.
    pub differences: Vec<Difference>,
    /// What of the table is not ACTIVE now, in words.
    pub busy: Vec<String>,
    /// Facets that could not be read, with DynamoDB's reason (DynamoDB Local has no
    /// point-in-time recovery; a role may lack a Describe action).
    pub unknown: Vec<(String, String)>,
}

impl Plan {
    /// Nothing to apply and no drift.
    pub fn is_clean(&self) -> bool {
        self.pending.is_empty() && self.differences.is_empty()
    }
}

/// Reads the live table and its ledger, and plans a run of `migrations` against it.
/// Writes nothing.
pub async fn inspect(
    client: &Client,
    table: &str,
    migrations: &[Migration],
) -> Result<Plan, MigrateError> {
    let def = table_def(migrations)?;
    let keys = Keys {
        pk: def.partition_key.clone(),
        sk: def.sort_key.clone(),
    };
    let all_steps = migrations.iter().flat_map(|m| &m.steps);
    let schema = TableDef::after(all_steps).unwrap_or_else(|| def.clone());
    let mut plan = Plan {
        table: table.to_string(),
        exists: false,
        applied: Vec::new(),
        newer_applied: Vec::new(),
        pending: migrations.iter().map(|m| m.name.clone()).collect(),
        differences: Vec::new(),
        busy: Vec::new(),
        unknown: Vec::new(),
    };
    let Some(done) = applied(client, table, &keys).await? else {
        plan.differences.push(Difference {
            what: "table".into(),
            live: "absent".into(),
            schema: key_words(&schema),
            pending: true,
        });
        return Ok(plan);
    };
    plan.exists = true;
    let todo = pending(migrations, &done, false)?;
    plan.pending = todo.todo.iter().map(|m| m.name.clone()).collect();
    plan.newer_applied = todo.newer;
    plan.applied = (migrations.iter())
        .filter(|m| !plan.pending.contains(&m.name))
        .map(|m| m.name.clone())
        .collect();
    let applied_steps = (migrations.iter())
        .filter(|m| plan.applied.contains(&m.name))
        .flat_map(|m| &m.steps);
    let as_applied = TableDef::after(applied_steps);
    let live = read_live(client, table, &mut plan).await?;
    plan.differences = differences(&facets(&live.def, live.pitr), &schema, as_applied.as_ref());
    Ok(plan)
}

/// The live table as a [`TableDef`], with whether point-in-time recovery could be read.
struct Live {
    def: TableDef,
    pitr: Option<bool>,
}

async fn read_live(client: &Client, table: &str, plan: &mut Plan) -> Result<Live, MigrateError> {
    let out = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(sdk)?;
    let desc = out
        .table()
        .ok_or_else(|| MigrateError::Invalid(format!("DescribeTable returned no table {table}")))?;
    plan.busy = super::wait::not_active(desc);
    let mut def = live_table(desc);
    match live_ttl(client, table).await {
        Ok(ttl) => def.ttl_attribute = ttl,
        Err(reason) => plan.unknown.push((TTL.into(), reason)),
    }
    let pitr = match live_pitr(client, table).await {
        Ok(on) => Some(on),
        Err(reason) => {
            plan.unknown.push((PITR.into(), reason));
            None
        }
    };
    def.point_in_time_recovery = pitr.unwrap_or(false);
    Ok(Live { def, pitr })
}

const TTL: &str = "time to live";
const PITR: &str = "point-in-time recovery";

/// DynamoDB's words for a failed read: its error code, or the SDK's message.
fn reason<E>(e: &aws_sdk_dynamodb::error::SdkError<E>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match e.as_service_error().and_then(|s| s.code()) {
        Some(code) => code.to_string(),
        None => e.to_string(),
    }
}

async fn live_ttl(client: &Client, table: &str) -> Result<Option<String>, String> {
    use aws_sdk_dynamodb::types::TimeToLiveStatus;
    let out = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| reason(&e))?;
    let d = out.time_to_live_description();
    let on = matches!(
        d.and_then(|d| d.time_to_live_status()),
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    );
    Ok(on
        .then(|| d.and_then(|d| d.attribute_name()).map(str::to_string))
        .flatten())
}

async fn live_pitr(client: &Client, table: &str) -> Result<bool, String> {
    use aws_sdk_dynamodb::types::PointInTimeRecoveryStatus;
    let out = client
        .describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .map_err(|e| reason(&e))?;
    Ok(out
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled))
}

/// DescribeTable's answer as a table definition (TTL and point-in-time recovery are read
/// separately).
fn live_table(d: &TableDescription) -> TableDef {
    let types: BTreeMap<&str, String> = (d.attribute_definitions().iter())
        .map(|a| (a.attribute_name(), a.attribute_type().as_str().to_string()))
        .collect();
    let attr = |e: &KeySchemaElement| KeyAttr {
        name: e.attribute_name().to_string(),
        ty: types.get(e.attribute_name()).cloned().unwrap_or_default(),
    };
    let (pk, sk) = split_keys(d.key_schema(), &attr);
    let throughput = d.provisioned_throughput().map(|p| {
        (
            p.read_capacity_units().unwrap_or(0),
            p.write_capacity_units().unwrap_or(0),
        )
    });
    // DynamoDB Local reports no billing mode; an on-demand table has no capacity.
    let provisioned = match d.billing_mode_summary().and_then(|b| b.billing_mode()) {
        Some(mode) => mode == &BillingMode::Provisioned,
        None => throughput.is_some_and(|(r, _)| r > 0),
    };
    let index = |name: Option<&str>, keys: &[KeySchemaElement], p: Option<&Projection>| {
        let (partition, sort) = split_keys(keys, &attr);
        IndexDef {
            name: name.unwrap_or_default().to_string(),
            partition_key: partition.first().cloned().unwrap_or_else(no_key),
            sort_key: sort.last().cloned(),
            partition_keys: if partition.len() > 1 {
                partition
            } else {
                Vec::new()
            },
            sort_keys: if sort.len() > 1 { sort } else { Vec::new() },
            projection: projection(p),
        }
    };
    let gsi =
        |g: &GlobalSecondaryIndexDescription| index(g.index_name(), g.key_schema(), g.projection());
    let lsi =
        |l: &LocalSecondaryIndexDescription| index(l.index_name(), l.key_schema(), l.projection());
    let stream = (d.stream_specification())
        .filter(|s| s.stream_enabled())
        .and_then(|s| s.stream_view_type())
        .and_then(|v| stream_view(v.as_str()));
    TableDef {
        partition_key: pk.first().cloned().unwrap_or_else(no_key),
        sort_key: sk.first().cloned(),
        billing_mode: if provisioned {
            "provisioned"
        } else {
            "on_demand"
        }
        .into(),
        capacity: throughput.filter(|_| provisioned).map(|(r, w)| Capacity {
            read: u32::try_from(r).unwrap_or(u32::MAX),
            write: u32::try_from(w).unwrap_or(u32::MAX),
        }),
        ttl_attribute: None,
        stream,
        point_in_time_recovery: false,
        deletion_protection: d.deletion_protection_enabled().unwrap_or(false),
        indexes: d.global_secondary_indexes().iter().map(gsi).collect(),
        local_indexes: d.local_secondary_indexes().iter().map(lsi).collect(),
    }
}

fn no_key() -> KeyAttr {
    KeyAttr {
        name: String::new(),
        ty: String::new(),
    }
}

/// A key schema's partition (HASH) and sort (RANGE) attributes, each in order.
fn split_keys(
    keys: &[KeySchemaElement],
    attr: &impl Fn(&KeySchemaElement) -> KeyAttr,
) -> (Vec<KeyAttr>, Vec<KeyAttr>) {
    let of = |t: KeyType| {
        keys.iter()
            .filter(|k| k.key_type() == &t)
            .map(attr)
            .collect()
    };
    (of(KeyType::Hash), of(KeyType::Range))
}

fn projection(p: Option<&Projection>) -> ProjectionDef {
    match p.and_then(|p| p.projection_type()) {
        Some(ProjectionType::KeysOnly) => ProjectionDef::KeysOnly,
        Some(ProjectionType::Include) => ProjectionDef::Include(
            p.map(|p| p.non_key_attributes().to_vec())
                .unwrap_or_default(),
        ),
        _ => ProjectionDef::All,
    }
}

fn stream_view(dynamodb: &str) -> Option<StreamView> {
    [
        StreamView::NewAndOldImages,
        StreamView::NewImage,
        StreamView::OldImage,
        StreamView::KeysOnly,
    ]
    .into_iter()
    .find(|v| v.as_dynamodb() == dynamodb)
}

fn on_off(on: bool) -> String {
    if on { "on" } else { "off" }.into()
}

fn key_attr(k: &KeyAttr) -> String {
    format!("{} {}", k.name, k.ty)
}

fn key_words(t: &TableDef) -> String {
    let keys = std::iter::once(&t.partition_key).chain(&t.sort_key);
    keys.map(key_attr).collect::<Vec<_>>().join(", ")
}

fn index_words(ix: &IndexDef) -> String {
    let keys: Vec<String> = ix
        .key_elements()
        .into_iter()
        .map(|(k, _)| key_attr(k))
        .collect();
    let projects = match &ix.projection {
        ProjectionDef::All => "all attributes".to_string(),
        ProjectionDef::KeysOnly => "keys only".to_string(),
        ProjectionDef::Include(list) => {
            let sorted: BTreeSet<&String> = list.iter().collect();
            let names: Vec<&str> = sorted.into_iter().map(String::as_str).collect();
            format!("keys and {}", names.join(", "))
        }
    };
    format!("{}; projecting {projects}", keys.join(", "))
}

/// A table reduced to named facets in words; a facet it does not have is absent.
/// `pitr`: whether point-in-time recovery is known (`None`: left out).
fn facets(t: &TableDef, pitr: Option<bool>) -> BTreeMap<String, String> {
    let mut f = BTreeMap::from([
        ("key".to_string(), key_words(t)),
        ("billing".to_string(), billing_words(t)),
        (
            TTL.to_string(),
            t.ttl_attribute
                .as_ref()
                .map_or("off".into(), |a| format!("on `{a}`")),
        ),
        (
            "stream".to_string(),
            t.stream
                .map_or("off".into(), |v| v.as_dynamodb().to_string()),
        ),
        (
            "deletion protection".to_string(),
            on_off(t.deletion_protection),
        ),
    ]);
    if let Some(on) = pitr {
        f.insert(PITR.into(), on_off(on));
    }
    for ix in &t.indexes {
        f.insert(format!("index `{}`", ix.name), index_words(ix));
    }
    for ix in &t.local_indexes {
        f.insert(format!("local index `{}`", ix.name), index_words(ix));
    }
    f
}

fn billing_words(t: &TableDef) -> String {
    match (t.billing_mode.as_str(), t.capacity) {
        ("provisioned", Some(c)) => format!("provisioned ({} read, {} write)", c.read, c.write),
        ("provisioned", None) => "provisioned".into(),
        _ => "on demand".into(),
    }
}

/// Every facet where `live` differs from `schema`, pending where `as_applied` (the table
/// the applied migrations leave) agrees with `live`. A facet `live` does not know
/// (point-in-time recovery unread) is left out.
fn differences(
    live: &BTreeMap<String, String>,
    schema: &TableDef,
    as_applied: Option<&TableDef>,
) -> Vec<Difference> {
    let known_pitr = live
        .contains_key(PITR)
        .then_some(schema.point_in_time_recovery);
    let schema = facets(schema, known_pitr);
    let applied = as_applied.map(|t| facets(t, known_pitr.map(|_| t.point_in_time_recovery)));
    let names: BTreeSet<&String> = live.keys().chain(schema.keys()).collect();
    let absent = "absent".to_string();
    names
        .into_iter()
        .filter_map(|name| {
            let (l, s) = (live.get(name), schema.get(name));
            if l == s {
                return None;
            }
            let was = applied.as_ref().map(|a| a.get(name));
            Some(Difference {
                what: name.clone(),
                live: l.unwrap_or(&absent).clone(),
                schema: s.unwrap_or(&absent).clone(),
                pending: was == Some(l),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TableDef {
        TableDef::from_yaml(
            "partition_key: {name: pk, type: S}\nsort_key: {name: sk, type: S}\nbilling_mode: on_demand\n",
        )
        .unwrap()
    }

    fn index(name: &str) -> IndexDef {
        IndexDef {
            name: name.into(),
            partition_key: KeyAttr {
                name: format!("{name}pk"),
                ty: "S".into(),
            },
            sort_key: None,
            partition_keys: Vec::new(),
            sort_keys: Vec::new(),
            projection: ProjectionDef::Include(vec!["b".into(), "a".into()]),
        }
    }

    #[test]
    fn a_difference_is_pending_only_when_the_live_table_is_as_the_ledger_left_it() {
        let applied = table();
        let mut schema = table();
        schema.indexes.push(index("gsi2"));
        schema.ttl_attribute = Some("expires".into());
        let mut live = table();
        // Changed by hand: deletion protection on, an index nobody asked for.
        live.deletion_protection = true;
        live.indexes.push(index("manual"));
        let found = differences(&facets(&live, Some(false)), &schema, Some(&applied));
        let shown: Vec<(&str, &str, &str, bool)> = found
            .iter()
            .map(|d| {
                (
                    d.what.as_str(),
                    d.live.as_str(),
                    d.schema.as_str(),
                    d.pending,
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("deletion protection", "on", "off", false),
                (
                    "index `gsi2`",
                    "absent",
                    "gsi2pk S; projecting keys and a, b",
                    true
                ),
                (
                    "index `manual`",
                    "manualpk S; projecting keys and a, b",
                    "absent",
                    false
                ),
                ("time to live", "off", "on `expires`", true),
            ]
        );
        // Nothing differs: nothing reported, whatever the ledger says.
        assert!(differences(&facets(&schema, Some(false)), &schema, Some(&applied)).is_empty());
        // An unread setting is never reported.
        let mut pitr = schema.clone();
        pitr.point_in_time_recovery = true;
        assert!(differences(&facets(&schema, None), &pitr, Some(&applied)).is_empty());
        assert_eq!(
            differences(&facets(&schema, Some(false)), &pitr, Some(&applied)).len(),
            1
        );
    }
}
