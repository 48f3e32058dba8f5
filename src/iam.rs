//! Least-privilege IAM derived from the schema: which DynamoDB actions, on which
//! resources, the generated code performs. Pure data; the Terraform and JSON emitters
//! print it.
//!
//! Facts this relies on: there is no `dynamodb:TransactWriteItems` IAM action (a
//! transaction is authorized by the per-item actions, plus `dynamodb:ConditionCheckItem`
//! for condition checks), and `Query` on an index is authorized on the index's ARN
//! (`table/NAME/index/INDEX`).

use std::collections::BTreeSet;

use crate::ast::EntityOp;
use crate::ir::{Entity, EntityKey, IndexRef, Part, Pattern, Schema, Template};
use crate::migrations::Step;

/// What a statement applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    Table,
    Index(String),
    /// The table's streams, whatever their label (`table/NAME/stream/*`): a stream that is
    /// disabled and enabled again gets a new label.
    Stream,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: String,
    /// Sorted, without the `dynamodb:` prefix.
    pub actions: Vec<&'static str>,
    pub resources: Vec<Resource>,
    /// Partition-key patterns every request of this statement matches: a
    /// `ForAllValues:StringLike` condition on `dynamodb:LeadingKeys`, optional (a Terraform
    /// variable) unless `enforced`.
    pub leading_keys: Option<Vec<String>>,
    /// The consumer restricts its partitions (`leading_keys:`): the condition is always on.
    pub enforced: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Identifier (`app`, `migrations`, `consumer_api`).
    pub name: String,
    pub description: String,
    pub statements: Vec<Statement>,
}

/// The IAM action of each entity operation of the generated repository. `put` is an
/// upsert through UpdateItem (to keep the creation time); `create` is a conditional PutItem.
pub fn entity_op_actions(op: EntityOp) -> &'static [&'static str] {
    match op {
        EntityOp::Get => &["GetItem"],
        EntityOp::Create => &["PutItem"],
        EntityOp::Put | EntityOp::Update => &["UpdateItem"],
        EntityOp::Delete => &["DeleteItem"],
        EntityOp::BatchGet => &["BatchGetItem"],
        EntityOp::BatchWrite => &["BatchWriteItem"],
        EntityOp::ConditionCheck => &["ConditionCheckItem"],
    }
}

/// The actions an operation on an entity with unique constraints adds: its guard items
/// are claimed with PutItem and released with DeleteItem, and a put, an update or a
/// delete first reads the item to know its guards.
pub fn guard_op_actions(op: EntityOp) -> &'static [&'static str] {
    match op {
        EntityOp::Create => &["PutItem"],
        EntityOp::Put | EntityOp::Update => &["DeleteItem", "GetItem", "PutItem"],
        EntityOp::Delete => &["DeleteItem", "GetItem"],
        _ => &[],
    }
}

/// The partition-key prefix of an entity's guard items (`#dyngen#unique#User#*`), when
/// the entity name leaves it a plain prefix.
fn guard_prefix(entity: &crate::ir::Entity) -> Option<String> {
    let p = dyngen_runtime::key::unique_guard_prefix(&entity.type_value, "");
    // The prefix up to the entity: every constraint of the entity.
    let p = p.strip_suffix('#').unwrap_or(&p);
    (!p.contains(['*', '?', '$'])).then(|| format!("{p}*"))
}

/// Every item action the generated `Db` exposes for any entity (repositories, batches,
/// transactions with their condition checks).
pub const ALL_ITEM_ACTIONS: &[&str] = &[
    "BatchGetItem",
    "BatchWriteItem",
    "ConditionCheckItem",
    "DeleteItem",
    "GetItem",
    "PutItem",
    "UpdateItem",
];

/// The resources a set of patterns queries: the table and/or the indexes, in order.
fn query_resources(schema: &Schema, patterns: impl Iterator<Item = usize>) -> Vec<Resource> {
    let set: BTreeSet<Resource> = patterns
        .map(|p| match schema.patterns[p].index {
            IndexRef::Primary => Resource::Table,
            IndexRef::Gsi(i) => Resource::Index(schema.table.indexes[i].name.clone()),
        })
        .collect();
    set.into_iter().collect()
}

/// The application's policy: everything the generated code can do on the table's data.
pub fn app_policy(schema: &Schema) -> Policy {
    let mut statements = vec![Statement {
        sid: "Items".into(),
        actions: ALL_ITEM_ACTIONS.to_vec(),
        resources: vec![Resource::Table],
        leading_keys: None,
        enforced: false,
    }];
    let queried = query_resources(schema, 0..schema.patterns.len());
    if !queried.is_empty() {
        statements.push(Statement {
            sid: "Queries".into(),
            actions: vec!["Query"],
            resources: queried,
            leading_keys: None,
            enforced: false,
        });
    }
    Policy {
        name: "app".into(),
        description: "Every item operation and access pattern of the generated repository.".into(),
        statements,
    }
}

/// The migration runner's policy: the table's lifecycle, index changes, backfill scans and
/// updates, and its ledger and lock items (ledger and checkpoint writes are transactions
/// that check the lock: `ConditionCheckItem`).
pub fn migrations_policy(steps: &[&Step]) -> Policy {
    let mut lifecycle = vec!["CreateTable", "DescribeTable", "UpdateTable"];
    for step in steps {
        lifecycle.extend(settings_actions(step));
    }
    lifecycle.sort();
    lifecycle.dedup();
    Policy {
        name: "migrations".into(),
        description: "The migration runner: create the table, add and remove indexes, backfill, and keep its ledger and lock.".into(),
        statements: vec![
            Statement { sid: "Table".into(), actions: lifecycle, resources: vec![Resource::Table], leading_keys: None, enforced: false },
            Statement { sid: "LedgerLockAndBackfill".into(), actions: vec!["ConditionCheckItem", "DeleteItem", "GetItem", "PutItem", "Query", "Scan", "UpdateItem"], resources: vec![Resource::Table], leading_keys: None, enforced: false },
        ],
    }
}

/// The policy of `dyngen migrate --plan`: it reads the table's description, its TTL and
/// point-in-time recovery settings and the migration ledger (a Query, or a GetItem in a
/// table with a partition key only), and writes nothing.
pub fn migrations_plan_policy() -> Policy {
    Policy {
        name: "migrations_plan".into(),
        description: "`dyngen migrate --plan`: read the table's description, settings and migration ledger; no write action.".into(),
        statements: vec![Statement {
            sid: "ReadTableAndLedger".into(),
            actions: vec![
                "DescribeContinuousBackups",
                "DescribeTable",
                "DescribeTimeToLive",
                "GetItem",
                "Query",
            ],
            resources: vec![Resource::Table],
            leading_keys: None,
            enforced: false,
        }],
    }
}

/// The actions a step needs beyond the table's lifecycle. Settings are read first, so a
/// table that already exists is reconciled, not changed blindly.
fn settings_actions(step: &Step) -> Vec<&'static str> {
    const TTL: [&str; 2] = ["DescribeTimeToLive", "UpdateTimeToLive"];
    const PITR: [&str; 2] = ["DescribeContinuousBackups", "UpdateContinuousBackups"];
    match step {
        Step::CreateTable(t) => {
            let mut v = Vec::new();
            if t.ttl_attribute.is_some() {
                v.extend(TTL);
            }
            if t.point_in_time_recovery {
                v.extend(PITR);
            }
            v
        }
        Step::SetTtl { .. } => TTL.to_vec(),
        Step::SetPointInTimeRecovery { .. } => PITR.to_vec(),
        _ => Vec::new(),
    }
}

/// The literal text a template starts with, when there is some.
fn constant_prefix(t: &crate::ir::Template) -> Option<String> {
    match t.parts.first() {
        Some(Part::Literal(l)) if !l.is_empty() && !l.contains(['*', '?', '$']) => {
            Some(if t.is_constant() {
                l.clone()
            } else {
                format!("{l}*")
            })
        }
        _ => None,
    }
}

/// One policy per consumer: the queries of its patterns and the entity operations it lists.
pub fn consumer_policies(schema: &Schema) -> Vec<Policy> {
    schema
        .consumers
        .iter()
        .map(|c| Policy {
            name: format!("consumer_{}", terraform_ident(&c.name)),
            description: c.doc.clone().unwrap_or_else(|| {
                format!(
                    "The `{}` consumer: its access patterns and entity operations.",
                    c.name
                )
            }),
            statements: consumer_statements(schema, c),
        })
        .collect()
}

/// A consumer's statements: its entity operations on the table, its queries on the table
/// and indexes, each with the partition-key patterns its requests use.
fn consumer_statements(schema: &Schema, c: &crate::ir::Consumer) -> Vec<Statement> {
    // Each request's partition key: restricted by the consumer's `leading_keys`, or its
    // constant prefix when it has one.
    let pattern_of = |t: &Template, e: &Entity| match &c.leading_keys {
        Some(keys) => leading_key_pattern(t, e, keys).ok(),
        None => constant_prefix(t),
    };
    let enforced = c.leading_keys.is_some();
    let mut statements = Vec::new();
    let mut actions: BTreeSet<&'static str> = BTreeSet::new();
    let mut guarded = Vec::new();
    for (e, ops) in &c.entity_ops {
        let entity = &schema.entities[*e];
        for op in ops {
            actions.extend(entity_op_actions(*op));
            if !entity.uniques.is_empty() && !guard_op_actions(*op).is_empty() {
                actions.extend(guard_op_actions(*op));
                guarded.push(guard_prefix(entity));
            }
        }
    }
    let requests = consumer_requests(&schema.entities, &schema.patterns, c);
    let prefixes_of = |queries: bool| {
        requests
            .iter()
            .filter(move |r| r.pattern.is_some() == queries)
            .map(|r| r.key.and_then(|k| pattern_of(&k.pk, r.entity)))
    };
    if !actions.is_empty() {
        let prefixes = prefixes_of(false).chain(guarded);
        statements.push(Statement {
            sid: "Items".into(),
            actions: actions.into_iter().collect(),
            resources: vec![Resource::Table],
            leading_keys: all_constant(prefixes),
            enforced,
        });
    }
    let queried = query_resources(schema, c.patterns.iter().copied());
    if !queried.is_empty() {
        let prefixes = prefixes_of(true);
        statements.push(Statement {
            sid: "Queries".into(),
            actions: vec!["Query"],
            resources: queried,
            leading_keys: all_constant(prefixes),
            enforced,
        });
    }
    statements
}

/// One request a consumer's code makes: an operation on an entity's items (by its primary
/// key) or a pattern's query of one of its entities (by the key on the pattern's index;
/// `None` when the entity has none there, which validation refuses).
pub struct Request<'s> {
    pub entity: &'s Entity,
    pub key: Option<&'s EntityKey>,
    pub pattern: Option<&'s Pattern>,
}

/// Every request of a consumer: its entity operations, then its patterns' queries. The
/// policy's partition-key conditions and their validation both read this one list.
pub fn consumer_requests<'s>(
    entities: &'s [Entity],
    patterns: &'s [Pattern],
    c: &crate::ir::Consumer,
) -> Vec<Request<'s>> {
    let ops = c.entity_ops.iter().map(|(e, _)| Request {
        entity: &entities[*e],
        key: Some(entities[*e].primary_key()),
        pattern: None,
    });
    let queries = c.patterns.iter().flat_map(|&p| {
        let pattern = &patterns[p];
        pattern.entities.iter().map(move |&e| Request {
            entity: &entities[e],
            key: entities[e].key_for(pattern.index),
            pattern: Some(pattern),
        })
    });
    ops.chain(queries).collect()
}

/// A partition-key template as a `dynamodb:LeadingKeys` pattern for a consumer whose
/// `keys` map attributes to IAM policy variables: literal text as it is, a mapped
/// placeholder as its variable (so the key must hold the principal's own value), any
/// other placeholder as `*`. `Err` says why the template cannot be restricted that way.
pub fn leading_key_pattern(
    t: &Template,
    e: &Entity,
    keys: &[(String, String)],
) -> Result<String, String> {
    let mut out = String::new();
    let mut restricted = false;
    for part in &t.parts {
        match part {
            Part::Literal(l) if l.contains(['*', '?', '$']) => {
                return Err(format!(
                    "its text `{l}` holds `*`, `?` or `$`, which IAM's StringLike reads as a wildcard or a variable"
                ));
            }
            Part::Literal(l) => out.push_str(l),
            Part::Placeholder(ph) => {
                let name = &e.attributes[ph.attr].name;
                match keys.iter().find(|(a, _)| a == name) {
                    Some(_) if !ph.format.is_plain() => {
                        return Err(format!(
                            "it writes `{name}` formatted (a year or padding), and the policy variable holds the plain value"
                        ));
                    }
                    Some((_, variable)) => {
                        out.push_str(variable);
                        restricted = true;
                    }
                    None if out.ends_with('*') => {}
                    None => out.push('*'),
                }
            }
        }
    }
    if !restricted {
        let names: Vec<String> = keys.iter().map(|(a, _)| format!("`{a}`")).collect();
        return Err(format!("it uses none of {}", names.join(", ")));
    }
    Ok(out)
}

/// The partition-key prefixes of a statement's requests, if every one has a constant prefix.
fn all_constant(prefixes: impl Iterator<Item = Option<String>>) -> Option<Vec<String>> {
    let set: BTreeSet<Option<String>> = prefixes.collect();
    if set.is_empty() || set.contains(&None) {
        return None;
    }
    Some(set.into_iter().flatten().collect())
}

/// The policy of a stream's reader (a Lambda function's event source mapping, or any
/// poller): the four DynamoDB Streams actions on the table's streams. Only for a table
/// with a stream.
pub fn stream_policy(schema: &Schema) -> Option<Policy> {
    schema.table.stream?;
    Some(Policy {
        name: "stream".into(),
        description:
            "A reader of the table's stream, such as a Lambda function's event source mapping."
                .into(),
        statements: vec![Statement {
            sid: "StreamRecords".into(),
            actions: vec![
                "DescribeStream",
                "GetRecords",
                "GetShardIterator",
                "ListStreams",
            ],
            resources: vec![Resource::Stream],
            leading_keys: None,
            enforced: false,
        }],
    })
}

/// All policies, in a fixed order: app, migrations, the stream's reader, then consumers
/// by name. `steps`: every step of every migration, so the runner may apply each one.
pub fn policies(schema: &Schema, steps: &[&Step]) -> Vec<Policy> {
    let mut v = vec![
        app_policy(schema),
        migrations_policy(steps),
        migrations_plan_policy(),
    ];
    v.extend(stream_policy(schema));
    v.extend(consumer_policies(schema));
    v
}

/// A Terraform identifier for a consumer name (letters, digits, `_`, `-`; not starting
/// with a digit).
pub fn terraform_ident(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        format!("c{s}")
    } else {
        s
    }
}
