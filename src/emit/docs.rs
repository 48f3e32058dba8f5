//! `ACCESS_PATTERNS.md`: a review document of patterns, keys, a Mermaid diagram and the
//! IAM policies.

use super::EmitError;
use super::templates::render;
use crate::iam::{Policy, Resource};
use crate::ir::{self, IndexRef, RelationshipKind, Schema, SortCondition};

pub const PATH: &str = "ACCESS_PATTERNS.md";

/// An entity's key as the review document names it: the index, and what is particular
/// about the key there (a local index, a sparse key, attribute keys stored as themselves).
fn index_label(schema: &Schema, e: &ir::Entity, k: &ir::EntityKey) -> String {
    let mut notes = Vec::new();
    if matches!(k.index, IndexRef::Gsi(i) if schema.table.indexes[i].local) {
        notes.push("local");
    }
    if k.sparse {
        notes.push("sparse");
    }
    let (pk, sk) = schema.key_attributes(k.index);
    let attribute_key = e.attribute_key(pk, &k.pk)
        || sk
            .zip(k.sk.as_ref())
            .is_some_and(|(a, t)| e.attribute_key(a, t));
    if schema.is_composite(k.index) {
        notes.push("multi-attribute key");
    } else if k.index != IndexRef::Primary && attribute_key {
        notes.push("attribute keys");
    }
    match notes.is_empty() {
        true => schema.index_name(k.index).to_string(),
        false => format!("{} ({})", schema.index_name(k.index), notes.join(", ")),
    }
}

/// A collection's literal sort-key condition as DynamoDB reads it, the bounds quoted
/// (built piece by piece: neither the attribute name nor a bound is ever searched for
/// placeholders).
fn literal_condition(sk: &str, op: ir::LiteralOp, values: &[String]) -> String {
    let v = |i: usize| values.get(i).map(|v| format!("{v:?}")).unwrap_or_default();
    match op {
        ir::LiteralOp::BeginsWith => format!("begins_with({sk}, {})", v(0)),
        ir::LiteralOp::Between => format!("{sk} BETWEEN {} AND {}", v(0), v(1)),
        ir::LiteralOp::Lt => format!("{sk} < {}", v(0)),
        ir::LiteralOp::Lte => format!("{sk} <= {}", v(0)),
        ir::LiteralOp::Gt => format!("{sk} > {}", v(0)),
        ir::LiteralOp::Gte => format!("{sk} >= {}", v(0)),
    }
}

/// The condition on a multi-attribute key: one comparison per attribute.
fn composite_condition(e: &ir::Entity, key: &ir::EntityKey, p: &ir::Pattern) -> String {
    let name = |ph: &ir::Placeholder| e.attributes[ph.attr].name.clone();
    let given = |ph: &ir::Placeholder| {
        p.inputs.iter().any(|i| &i.placeholder == ph) || p.fixed.iter().any(|(f, _)| f == ph)
    };
    let sort = key.sk.iter().flat_map(|t| t.placeholders());
    let mut parts: Vec<String> = (key.pk.placeholders().chain(sort.take_while(|ph| given(ph))))
        .map(|ph| format!("{} = {{{}}}", name(ph), name(ph)))
        .collect();
    if let SortCondition::Compare { op, range } = &p.sort {
        let n = name(range);
        parts.push(format!("{n} {}", compare_text(*op, &format!("{{{n}}}"))));
    }
    parts.join(" AND ")
}

/// A comparison with `bound` (the sort key up to the compared value), as sent.
fn compare_text(op: ir::CompareOp, bound: &str) -> String {
    match op {
        ir::CompareOp::Between => format!("BETWEEN {bound} (from) AND {bound} (to)"),
        ir::CompareOp::Lt => format!("< {bound}"),
        ir::CompareOp::Lte => format!("<= {bound}"),
        ir::CompareOp::Gt => format!("> {bound}"),
        ir::CompareOp::Gte => format!(">= {bound}"),
    }
}

fn condition(schema: &Schema, p: &ir::Pattern) -> String {
    let e = &schema.entities[p.entities[0]];
    let key = e.key_for(p.index).expect("checked by the validator");
    if schema.is_composite(p.index) {
        return composite_condition(e, key, p);
    }
    let (pk, sk) = schema.key_attributes(p.index);
    let text = |t: &ir::Template| -> String {
        t.parts
            .iter()
            .map(|part| match part {
                ir::Part::Literal(l) => l.clone(),
                ir::Part::Placeholder(ph) => {
                    let fixed = p
                        .fixed
                        .iter()
                        .find(|(f, _)| f == ph)
                        .map(|(_, lit)| match lit {
                            ir::Literal::String(s) => s.clone(),
                            ir::Literal::Integer(i) => i.to_string(),
                            ir::Literal::Bool(b) => b.to_string(),
                            other => format!("{other:?}"),
                        });
                    // Named as in the key templates (and the entity table below).
                    fixed.unwrap_or_else(|| format!("{{{}}}", placeholder_text(e, ph)))
                }
            })
            .collect()
    };
    let mut c = format!("{pk} = {}", text(&key.pk));
    if let (Some(sk), Some(t)) = (sk, &key.sk) {
        let prefix = |upto_missing: bool| -> String {
            let given = |ph: &ir::Placeholder| {
                p.inputs.iter().any(|i| &i.placeholder == ph)
                    || p.fixed.iter().any(|(f, _)| f == ph)
            };
            let parts: Vec<ir::Part> = t
                .parts
                .iter()
                .take_while(|part| {
                    !upto_missing || !matches!(part, ir::Part::Placeholder(ph) if !given(ph))
                })
                .cloned()
                .collect();
            text(&ir::Template {
                source: String::new(),
                parts,
            })
        };
        match &p.sort {
            SortCondition::None => {}
            SortCondition::Equals => c.push_str(&format!(" AND {sk} = {}", text(t))),
            SortCondition::BeginsWith => {
                c.push_str(&format!(" AND begins_with({sk}, {})", prefix(true)))
            }
            SortCondition::Literal { op, values } => {
                c.push_str(&format!(" AND {}", literal_condition(sk, *op, values)))
            }
            SortCondition::Compare { op, range } => {
                // The bound is the sort key up to the compared value, as sent.
                let upto = t
                    .parts
                    .iter()
                    .position(|part| matches!(part, ir::Part::Placeholder(ph) if ph == range))
                    .map_or(t.parts.len(), |i| i + 1);
                let bound = text(&ir::Template {
                    source: String::new(),
                    parts: t.parts[..upto].to_vec(),
                });
                c.push_str(&format!(" AND {sk} {}", compare_text(*op, &bound)));
            }
        }
    }
    c
}

/// A placeholder as key templates write it: the attribute's schema name, and its format.
fn placeholder_text(e: &ir::Entity, ph: &ir::Placeholder) -> String {
    format!("{}{}", e.attributes[ph.attr].name, ph.format.suffix())
}

/// A Mermaid node id: letters and digits only, prefixed to keep entity and index ids apart.
fn node(prefix: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{clean}")
}

/// A Mermaid label: quotes become entities so they cannot end the label.
fn label(text: &str) -> String {
    format!(
        "\"{}\"",
        text.replace('"', "#quot;").replace(['\n', '\r'], " ")
    )
}

fn mermaid(schema: &Schema) -> Vec<String> {
    let mut lines = Vec::new();
    for e in &schema.entities {
        lines.push(format!("{}[{}]", node("e", &e.name), label(&e.name)));
    }
    lines.push(format!(
        "{}[({})]",
        node("i", "primary"),
        label(&format!("table {}", schema.table.name))
    ));
    for ix in &schema.table.indexes {
        lines.push(format!("{}[({})]", node("i", &ix.name), label(&ix.name)));
    }
    for r in &schema.relationships {
        let (from, to) = (&schema.entities[r.from].name, &schema.entities[r.to].name);
        match r.kind {
            RelationshipKind::OneToMany => lines.push(format!(
                "{} -- {} --> {}",
                node("e", from),
                label(&format!("{} 1:n", r.name)),
                node("e", to)
            )),
            RelationshipKind::ManyToMany => {
                let via: Vec<&str> = r
                    .through
                    .iter()
                    .map(|t| schema.entities[*t].name.as_str())
                    .collect();
                lines.push(format!(
                    "{} -- {} --- {}",
                    node("e", from),
                    label(&format!("{} n:m via {}", r.name, via.join(", "))),
                    node("e", to)
                ));
            }
        }
    }
    for p in &schema.patterns {
        lines.push(format!("{}([{}])", node("p", &p.name), label(&p.name)));
        lines.push(format!(
            "{} -.-> {}",
            node("i", schema.index_name(p.index)),
            node("p", &p.name)
        ));
        for &e in &p.entities {
            lines.push(format!(
                "{} -.- {}",
                node("p", &p.name),
                node("e", &schema.entities[e].name)
            ));
        }
    }
    lines
}

fn policy_summary(p: &Policy) -> String {
    let parts: Vec<String> = p
        .statements
        .iter()
        .map(|s| {
            let res: Vec<String> = s
                .resources
                .iter()
                .map(|r| match r {
                    Resource::Table => "the table".to_string(),
                    Resource::Index(i) => format!("index {i}"),
                    Resource::Stream => "the table's streams".to_string(),
                })
                .collect();
            let mut t = format!("{} on {}", s.actions.join(", "), res.join(", "));
            match (&s.leading_keys, s.enforced) {
                (Some(lk), true) => {
                    t.push_str(&format!(" (only partition keys {})", lk.join(", ")))
                }
                (Some(lk), false) => t.push_str(&format!(
                    " (can be limited to partition keys {})",
                    lk.join(", ")
                )),
                (None, _) => {}
            }
            t
        })
        .collect();
    format!("{} — {}", p.description, parts.join("; "))
}

/// The guard items' key shape of a unique constraint, as stored.
fn unique_guard_key(e: &ir::Entity, u: &ir::Unique) -> String {
    let mut key = dyngen_runtime::key::unique_guard_prefix(&e.type_value, &u.name);
    let values: Vec<String> = u
        .attrs
        .iter()
        .map(|&a| format!("{{{}}}", e.attributes[a].name))
        .collect();
    key.push_str(&values.join("#"));
    key
}

pub fn emit(schema: &Schema, policies: &[Policy]) -> Result<String, EmitError> {
    let patterns: Vec<minijinja::Value> = schema
        .patterns
        .iter()
        .map(|p| {
            let resource = match p.index {
                IndexRef::Primary => format!("table/{}", schema.table.name),
                IndexRef::Gsi(i) => format!("table/{}/index/{}", schema.table.name, schema.table.indexes[i].name),
            };
            let entities: Vec<String> = p.entities.iter().map(|e| format!("`{}`", schema.entities[*e].name)).collect();
            minijinja::context! {
                name => p.name.clone(),
                index => schema.index_name(p.index).to_string(),
                condition => condition(schema, p),
                entities => entities.join(", "),
                resource => resource,
                consumers => if p.consumers.is_empty() { "—".to_string() } else { p.consumers.join(", ") },
            }
        })
        .collect();
    let keys: Vec<minijinja::Value> = schema
        .entities
        .iter()
        .flat_map(|e| {
            e.keys.iter().map(move |k| {
                minijinja::context! {
                    entity => e.name.clone(),
                    index => index_label(schema, e, k),
                    pk => k.pk.source.clone(),
                    sk => k.sk.as_ref().map_or("—".to_string(), |t| t.source.clone()),
                }
            })
        })
        .collect();
    let uniques: Vec<minijinja::Value> = schema
        .entities
        .iter()
        .flat_map(|e| {
            e.uniques.iter().map(move |u| {
                let attrs: Vec<&str> = u
                    .attrs
                    .iter()
                    .map(|&a| e.attributes[a].name.as_str())
                    .collect();
                minijinja::context! {
                    entity => e.name.clone(),
                    attributes => attrs.join(", "),
                    guard => unique_guard_key(e, u),
                }
            })
        })
        .collect();
    let policies: Vec<minijinja::Value> = policies
        .iter()
        .map(|p| minijinja::context! { name => p.name.clone(), summary => policy_summary(p) })
        .collect();
    render(
        "access_patterns.md.j2",
        minijinja::context! { source => schema.source_name.clone(), table => schema.table.name.clone(), patterns => patterns, keys => keys, uniques => uniques, mermaid => mermaid(schema), policies => policies },
    )
}
