//! Migration files to the runner's values, for `dyngen migrate`.

use crate::migrations::{self, Migration, ProjectionDef, Step};
use crate::runner;

fn key(k: &migrations::KeyAttr) -> runner::KeyAttr {
    runner::KeyAttr {
        name: k.name.clone(),
        numeric: k.numeric(),
    }
}

fn index(ix: &migrations::IndexDef) -> runner::IndexDef {
    runner::IndexDef {
        name: ix.name.clone(),
        partition_key: key(&ix.partition_key),
        sort_key: ix.sort_key.as_ref().map(key),
        projection: match &ix.projection {
            ProjectionDef::All => runner::Projection::All,
            ProjectionDef::KeysOnly => runner::Projection::KeysOnly,
            ProjectionDef::Include(l) => runner::Projection::Include(l.clone()),
        },
    }
}

fn input_type(t: &str) -> runner::InputType {
    match t {
        "integer" => runner::InputType::Integer,
        "bool" => runner::InputType::Bool,
        "date" => runner::InputType::Date,
        "timestamp" => runner::InputType::Timestamp,
        "enum" => runner::InputType::Enum,
        _ => runner::InputType::String,
    }
}

fn step(s: &Step) -> runner::Step {
    match s {
        Step::CreateTable(t) => runner::Step::CreateTable(runner::TableDef {
            partition_key: key(&t.partition_key),
            sort_key: key(&t.sort_key),
            provisioned: t.capacity.map(|c| (i64::from(c.read), i64::from(c.write))),
            ttl_attribute: t.ttl_attribute.clone(),
            indexes: t.indexes.iter().map(index).collect(),
        }),
        Step::CreateIndex(ix) => runner::Step::CreateIndex(index(ix)),
        Step::DeleteIndex { name } => runner::Step::DeleteIndex(name.clone()),
        Step::Backfill(b) => runner::Step::Backfill(runner::Backfill {
            index: b.index.clone(),
            type_attribute: b.type_attribute.clone(),
            entities: b
                .entities
                .iter()
                .map(|e| runner::BackfillEntity {
                    entity: e.entity.clone(),
                    keys: e
                        .set
                        .iter()
                        .map(|k| runner::DerivedKey {
                            attribute: k.attribute.clone(),
                            template: k.template.clone(),
                            inputs: k
                                .inputs
                                .iter()
                                .map(|(n, t)| (n.clone(), input_type(t)))
                                .collect(),
                            numeric: k.numeric,
                        })
                        .collect(),
                })
                .collect(),
        }),
    }
}

pub fn convert(migrations: &[Migration]) -> Vec<runner::Migration> {
    migrations
        .iter()
        .map(|m| runner::Migration {
            name: m.parsed.migration.clone(),
            checksum: m.checksum.clone(),
            steps: m.parsed.steps.iter().map(step).collect(),
        })
        .collect()
}
