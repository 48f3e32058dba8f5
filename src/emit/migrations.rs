//! The migrations emitter: new migration files (YAML, for people to review), and the Rust
//! that embeds every migration for the runner.

use serde_json::Value;

use super::EmitError;
use super::templates::{render, rust_str};
use crate::ir::Schema;
use crate::migrations::{self, Migration, Planned, Step};

/// The text of a new migration file.
pub fn file_text(schema: &Schema, name: &str, planned: &Planned) -> Result<String, EmitError> {
    let steps = serde_json::to_value(&planned.steps).map_err(|e| EmitError {
        what: name.into(),
        detail: e.to_string(),
    })?;
    let mut yaml = String::new();
    block_yaml(&steps, 0, &mut yaml);
    render(
        "migration.yaml.j2",
        minijinja::context! { name => name, source => schema.source_name.clone(), summary => planned.summary.clone(), steps => yaml.trim_end() },
    )
}

/// Block-style YAML for a JSON value: mappings as `key: value` lines, sequences as `- `
/// items, scalars JSON-encoded (JSON strings are valid YAML).
fn block_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                let key =
                    if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.is_empty() {
                        k.clone()
                    } else {
                        Value::String(k.clone()).to_string()
                    };
                if is_scalar(val) || is_empty(val) {
                    out.push_str(&format!("{pad}{key}: {}\n", scalar(val)));
                } else {
                    out.push_str(&format!("{pad}{key}:\n"));
                    block_yaml(val, indent + 2, out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_scalar(item) || is_empty(item) {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                } else {
                    let mut inner = String::new();
                    block_yaml(item, indent + 2, &mut inner);
                    // The first line of the item goes after the dash.
                    out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                }
            }
        }
        scalar_value => out.push_str(&format!("{pad}{}\n", scalar(scalar_value))),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

fn is_empty(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty()) || matches!(v, Value::Array(a) if a.is_empty())
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

/// Rust expressions building the runner's values.
pub fn rust_migration(m: &Migration) -> String {
    let steps: Vec<String> = m.parsed.steps.iter().map(rust_step).collect();
    format!(
        "migrate::Migration {{ name: {}.into(), checksum: {}.into(), steps: ::std::vec![{}] }}",
        rust_str(&m.parsed.migration),
        rust_str(&m.checksum),
        steps.join(", ")
    )
}

fn rust_key(k: &migrations::KeyAttr) -> String {
    format!(
        "migrate::KeyAttr {{ name: {}.into(), numeric: {} }}",
        rust_str(&k.name),
        k.numeric()
    )
}

fn rust_index(ix: &migrations::IndexDef) -> String {
    let sk = match &ix.sort_key {
        Some(k) => format!("::core::option::Option::Some({})", rust_key(k)),
        None => "::core::option::Option::None".into(),
    };
    let projection = match &ix.projection {
        migrations::ProjectionDef::All => "migrate::Projection::All".to_string(),
        migrations::ProjectionDef::KeysOnly => "migrate::Projection::KeysOnly".to_string(),
        migrations::ProjectionDef::Include(l) => format!(
            "migrate::Projection::Include(::std::vec![{}])",
            l.iter()
                .map(|a| format!("{}.into()", rust_str(a)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "migrate::IndexDef {{ name: {}.into(), partition_key: {}, sort_key: {sk}, projection: {projection} }}",
        rust_str(&ix.name),
        rust_key(&ix.partition_key)
    )
}

fn rust_input_type(t: &str) -> &'static str {
    match t {
        "integer" => "migrate::InputType::Integer",
        "bool" => "migrate::InputType::Bool",
        "date" => "migrate::InputType::Date",
        "timestamp" => "migrate::InputType::Timestamp",
        "enum" => "migrate::InputType::Enum",
        _ => "migrate::InputType::String",
    }
}

fn rust_table_def(t: &migrations::TableDef) -> String {
    let capacity = match t.capacity {
        Some(c) => format!("::core::option::Option::Some(({}, {}))", c.read, c.write),
        None => "::core::option::Option::None".into(),
    };
    let ttl = match &t.ttl_attribute {
        Some(a) => format!("::core::option::Option::Some({}.into())", rust_str(a)),
        None => "::core::option::Option::None".into(),
    };
    let indexes: Vec<String> = t.indexes.iter().map(rust_index).collect();
    format!(
        "migrate::TableDef {{ partition_key: {}, sort_key: {}, provisioned: {capacity}, ttl_attribute: {ttl}, indexes: ::std::vec![{}] }}",
        rust_key(&t.partition_key),
        rust_key(&t.sort_key),
        indexes.join(", ")
    )
}

fn rust_step(s: &Step) -> String {
    match s {
        Step::CreateTable(t) => format!("migrate::Step::CreateTable({})", rust_table_def(t)),
        Step::CreateIndex(ix) => format!("migrate::Step::CreateIndex({})", rust_index(ix)),
        Step::DeleteIndex { name } => {
            format!("migrate::Step::DeleteIndex({}.into())", rust_str(name))
        }
        Step::Backfill(b) => {
            let entities: Vec<String> = b
                .entities
                .iter()
                .map(|e| {
                    let keys: Vec<String> = e
                        .set
                        .iter()
                        .map(|k| {
                            let inputs: Vec<String> = k.inputs.iter().map(|(n, t)| format!("({}.into(), {})", rust_str(n), rust_input_type(t))).collect();
                            format!(
                                "migrate::DerivedKey {{ attribute: {}.into(), template: {}.into(), inputs: ::std::vec![{}], numeric: {} }}",
                                rust_str(&k.attribute),
                                rust_str(&k.template),
                                inputs.join(", "),
                                k.numeric
                            )
                        })
                        .collect();
                    format!("migrate::BackfillEntity {{ entity: {}.into(), keys: ::std::vec![{}] }}", rust_str(&e.entity), keys.join(", "))
                })
                .collect();
            format!(
                "migrate::Step::Backfill(migrate::Backfill {{ index: {}.into(), type_attribute: {}.into(), entities: ::std::vec![{}] }})",
                rust_str(&b.index),
                rust_str(&b.type_attribute),
                entities.join(", ")
            )
        }
    }
}

/// The `migrate` module and the list of migrations, for the Rust file.
/// The `migrate` module, the list of migrations, and `Db::create_table` for the table as
/// the schema declares it now.
pub fn rust_items(schema: &Schema, all: &[Migration]) -> Result<String, EmitError> {
    let runner = include_str!("../../templates/migrate_runner.rs.j2");
    let list: Vec<String> = all.iter().map(rust_migration).collect();
    let table_def = rust_table_def(&migrations::table_def(schema));
    render(
        "migrations.rs.j2",
        minijinja::context! { runner => runner, migrations => list, table_def => table_def },
    )
}
