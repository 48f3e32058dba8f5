//! The migrations emitter: new migration files (YAML, for people to review), and the Rust
//! that embeds every migration for the runner.

use serde_json::Value;

use super::EmitError;
use super::templates::render;
use crate::ir::Schema;
use crate::migrations::{self, Migration, Planned};

/// The text of a new migration file.
pub fn file_text(schema: &Schema, name: &str, planned: &Planned) -> Result<String, EmitError> {
    let steps = serde_json::to_value(&planned.steps).map_err(|e| EmitError {
        what: name.into(),
        detail: e.to_string(),
    })?;
    let mut yaml = String::new();
    block_yaml(&steps, 0, &mut yaml);
    let mut text = render(
        "migration.yaml.j2",
        minijinja::context! { name => name, source => schema.source_name.clone(), summary => planned.summary.clone(), steps => yaml.trim_end() },
    )?;
    // A text file ends with a line break (the template engine drops the last one).
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
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

/// The migration files as data for the generated module, and the table's definition of
/// today (for `Db::create_table`), as YAML the runtime reads with the same model.
pub fn rust_items(schema: &Schema, all: &[Migration]) -> Result<String, EmitError> {
    let files: Vec<_> = all
        .iter()
        .map(|m| minijinja::context! { file => m.file.clone(), text => m.text.clone() })
        .collect();
    let def = serde_json::to_value(migrations::table_def(schema)).map_err(|e| EmitError {
        what: "the table definition".into(),
        detail: e.to_string(),
    })?;
    let mut table_def = String::new();
    block_yaml(&def, 0, &mut table_def);
    render(
        "migrations.rs.j2",
        minijinja::context! { migrations => files, table_def => table_def },
    )
}
