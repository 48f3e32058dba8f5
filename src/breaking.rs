//! `dyngen breaking`: what a schema change breaks for data already stored or for callers.
//!
//! Rules compare two IRs, pairing entities, attributes, indexes and patterns by name
//! (never by position). Each finding carries the location in the old schema, in the new
//! one, or both.

use crate::diag::{Diagnostic, Source, Span};
use crate::ir::{self, IndexRef, Schema, Type};
use crate::validate::{Spans, type_word};

/// One schema, compiled, with its source.
pub struct Side<'a> {
    pub source: &'a Source,
    pub schema: &'a Schema,
    pub spans: &'a Spans,
}

/// A breaking change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Rule id, e.g. `KEY_TEMPLATE_CHANGED`.
    pub rule: &'static str,
    /// What it breaks: `STORAGE` (items already stored), `KEY` (where items are found),
    /// `API` (the generated code's callers).
    pub category: &'static str,
    pub message: String,
    pub old: Option<Span>,
    pub new: Option<Span>,
    pub help: String,
}

pub fn compare(old: &Side, new: &Side) -> Vec<Finding> {
    let mut out = Vec::new();
    table(old, new, &mut out);
    indexes(old, new, &mut out);
    entities(old, new, &mut out);
    patterns(old, new, &mut out);
    out.sort_by(|a, b| {
        (a.new.map(|s| s.offset), a.old.map(|s| s.offset), a.rule).cmp(&(
            b.new.map(|s| s.offset),
            b.old.map(|s| s.offset),
            b.rule,
        ))
    });
    out
}

fn finding(
    rule: &'static str,
    category: &'static str,
    message: String,
    old: Option<Span>,
    new: Option<Span>,
    help: &str,
) -> Finding {
    Finding {
        rule,
        category,
        message,
        old,
        new,
        help: help.to_string(),
    }
}

fn table(old: &Side, new: &Side, out: &mut Vec<Finding>) {
    let (o, n) = (&old.schema.table, &new.schema.table);
    if o.partition_key != n.partition_key || o.sort_key != n.sort_key {
        out.push(finding(
            "TABLE_KEY_CHANGED",
            "KEY",
            format!(
                "the table's key changed from ({}, {}) to ({}, {})",
                o.partition_key,
                o.sort_key.as_deref().unwrap_or("no sort key"),
                n.partition_key,
                n.sort_key.as_deref().unwrap_or("no sort key")
            ),
            Some(old.spans.table_keys.0),
            Some(new.spans.table_keys.0),
            "a table's key cannot change: this needs a new table and a copy of the data",
        ));
    }
    if o.entity_type_attribute != n.entity_type_attribute {
        out.push(finding(
            "ENTITY_TYPE_ATTRIBUTE_CHANGED",
            "STORAGE",
            format!(
                "the entity-type attribute changed from `{}` to `{}`",
                o.entity_type_attribute, n.entity_type_attribute
            ),
            None,
            None,
            "stored items carry the old attribute; reads would skip them all",
        ));
    }
}

fn indexes(old: &Side, new: &Side, out: &mut Vec<Finding>) {
    for (oi, o) in old.schema.table.indexes.iter().enumerate() {
        match new
            .schema
            .table
            .indexes
            .iter()
            .position(|n| n.name == o.name)
        {
            None => out.push(finding(
                "INDEX_REMOVED",
                "KEY",
                format!("index `{}` was removed", o.name),
                Some(old.spans.indexes[oi]),
                None,
                "queries on it stop working; its migration deletes it",
            )),
            Some(ni) => {
                let n = &new.schema.table.indexes[ni];
                if o.partition_key != n.partition_key
                    || o.sort_key != n.sort_key
                    || o.composite != n.composite
                    || o.projection != n.projection
                {
                    out.push(finding(
                        "INDEX_CHANGED",
                        "KEY",
                        format!("index `{}` changed its keys or projection", o.name),
                        Some(old.spans.indexes[oi]),
                        Some(new.spans.indexes[ni]),
                        "DynamoDB cannot change an index in place: it is deleted and built again",
                    ));
                }
            }
        }
    }
}

fn index_name(s: &Schema, ix: IndexRef) -> String {
    s.index_name(ix).to_string()
}

/// The keys of an entity as (index name, pk text, sk text), for comparing across schemas.
fn key_texts(s: &Schema, e: &ir::Entity) -> Vec<(String, String, Option<String>)> {
    e.keys
        .iter()
        .map(|k| {
            (
                index_name(s, k.index),
                k.pk.source.clone(),
                k.sk.as_ref().map(|t| t.source.clone()),
            )
        })
        .collect()
}

fn entities(old: &Side, new: &Side, out: &mut Vec<Finding>) {
    for (oi, o) in old.schema.entities.iter().enumerate() {
        let Some(ni) = new.schema.entities.iter().position(|n| n.name == o.name) else {
            // Same keys under a new name: a rename, which leaves stored items with the old type.
            let renamed = new.schema.entities.iter().position(|n| {
                !old.schema.entities.iter().any(|x| x.name == n.name)
                    && key_texts(new.schema, n) == key_texts(old.schema, o)
            });
            match renamed {
                Some(ni) => out.push(finding("ENTITY_RENAMED", "STORAGE", format!("entity `{}` was renamed to `{}`", o.name, new.schema.entities[ni].name), Some(old.spans.entity[oi]), Some(new.spans.entity[ni]), "stored items say they are the old entity and are skipped by reads; migrate their entity-type attribute first")),
                None => out.push(finding("ENTITY_REMOVED", "API", format!("entity `{}` was removed", o.name), Some(old.spans.entity[oi]), None, "its items stay in the table, and callers of its repository break")),
            }
            continue;
        };
        let n = &new.schema.entities[ni];
        attributes(old, new, oi, ni, out);
        added_attributes(old, new, oi, ni, out);
        added_uniques(old, new, oi, ni, out);
        for ok in &o.keys {
            let iname = index_name(old.schema, ok.index);
            let nk = n
                .keys
                .iter()
                .find(|k| index_name(new.schema, k.index) == iname);
            let old_text = (
                ok.pk.source.clone(),
                ok.sk.as_ref().map(|t| t.source.clone()),
            );
            let key_pos = o.keys.iter().position(|k| k == ok).unwrap_or(0);
            match nk {
                None => out.push(finding(
                    "ENTITY_LEFT_INDEX",
                    "KEY",
                    format!("`{}` no longer has keys on `{iname}`", o.name),
                    Some(old.spans.keys[oi][key_pos].0),
                    Some(new.spans.entity[ni]),
                    "its items keep their old index attributes, so the index still returns them",
                )),
                Some(nk) => {
                    let new_text = (
                        nk.pk.source.clone(),
                        nk.sk.as_ref().map(|t| t.source.clone()),
                    );
                    if old_text != new_text {
                        let npos = n.keys.iter().position(|k| k == nk).unwrap_or(0);
                        out.push(finding(
                            "KEY_TEMPLATE_CHANGED",
                            "KEY",
                            format!("`{}` keys on `{iname}` changed from ({}, {}) to ({}, {})", o.name, old_text.0, old_text.1.as_deref().unwrap_or("-"), new_text.0, new_text.1.as_deref().unwrap_or("-")),
                            Some(old.spans.keys[oi][key_pos].0),
                            Some(new.spans.keys[ni][npos].0),
                            "stored items keep the old keys: gets and queries built from the new templates miss them until they are rewritten",
                        ));
                    }
                }
            }
        }
    }
}

/// A new unique constraint: items already stored may share a value (its migration stops
/// at the first pair), and writes that succeeded before may now be refused.
fn added_uniques(old: &Side, new: &Side, oi: usize, ni: usize, out: &mut Vec<Finding>) {
    let (o, n) = (&old.schema.entities[oi], &new.schema.entities[ni]);
    for u in n
        .uniques
        .iter()
        .filter(|u| !o.uniques.iter().any(|x| x.name == u.name))
    {
        out.push(finding(
            "UNIQUE_ADDED",
            "STORAGE",
            format!("`{}` values must now be unique in `{}`", n.name, u.name),
            None,
            Some(new.spans.entity[ni]),
            "its add_unique migration stops at the first two items that share a value (fix them and run it again), and creates or updates that repeat a value now fail with UniqueViolation",
        ));
    }
}

fn attributes(old: &Side, new: &Side, oi: usize, ni: usize, out: &mut Vec<Finding>) {
    let (o, n) = (&old.schema.entities[oi], &new.schema.entities[ni]);
    for (ai, a) in o.attributes.iter().enumerate() {
        let old_span = Some(old.spans.attrs[oi][ai]);
        let Some(nai) = n.attributes.iter().position(|b| b.name == a.name) else {
            out.push(finding(
                "ATTRIBUTE_REMOVED",
                "API",
                format!("`{}.{}` was removed", o.name, a.name),
                old_span,
                Some(new.spans.entity[ni]),
                "callers using the field break; stored values stay in the items",
            ));
            continue;
        };
        let b = &n.attributes[nai];
        let new_span = Some(new.spans.attrs[ni][nai]);
        if std::mem::discriminant(&a.ty) != std::mem::discriminant(&b.ty)
            || matches!((&a.ty, &b.ty), (Type::List(x), Type::List(y)) | (Type::Map(x), Type::Map(y)) if x != y)
        {
            out.push(finding(
                "ATTRIBUTE_RETYPED",
                "STORAGE",
                format!(
                    "`{}.{}` changed from {} to {}",
                    o.name,
                    a.name,
                    type_word(&a.ty),
                    type_word(&b.ty)
                ),
                old_span,
                new_span,
                "stored values have the old type: reading them fails with an invalid-item error",
            ));
        } else if let (Type::Enum(x), Type::Enum(y)) = (&a.ty, &b.ty) {
            for v in x
                .variants
                .iter()
                .filter(|v| !y.variants.iter().any(|w| w.value == v.value))
            {
                out.push(finding(
                    "ENUM_VALUE_REMOVED",
                    "STORAGE",
                    format!("`{}.{}` no longer allows `{}`", o.name, a.name, v.value),
                    old_span,
                    new_span,
                    "stored items with that value fail to read",
                ));
            }
        }
        if a.optional && !b.optional && b.default.is_none() {
            out.push(finding(
                "ATTRIBUTE_REQUIRED",
                "STORAGE",
                format!("`{}.{}` became required without a default", o.name, a.name),
                old_span,
                new_span,
                "stored items without it fail to read; give it a default",
            ));
        }
        if a.stored_as != b.stored_as && a.ty == Type::Timestamp && b.ty == Type::Timestamp {
            out.push(finding(
                "TIMESTAMP_FORM_CHANGED",
                "STORAGE",
                format!("`{}.{}` is now written as {}", o.name, a.name, stored_word(b.stored_as)),
                old_span,
                new_span,
                "stored values keep the old form: they still read, but filters compare a number with text and skip them; rewrite the stored values",
            ));
        }
    }
}

fn stored_word(form: crate::ast::StoredAs) -> &'static str {
    match form {
        crate::ast::StoredAs::Rfc3339 => "RFC 3339 text",
        crate::ast::StoredAs::EpochSeconds => "epoch seconds",
        crate::ast::StoredAs::EpochMillis => "epoch milliseconds",
    }
}

/// Attributes the new schema reads that stored items do not have: required ones without a
/// default fail every existing item's read (a version reads as 0, a TTL is optional).
fn added_attributes(old: &Side, new: &Side, oi: usize, ni: usize, out: &mut Vec<Finding>) {
    let (o, n) = (&old.schema.entities[oi], &new.schema.entities[ni]);
    for (bi, b) in n.attributes.iter().enumerate() {
        let added = !o.attributes.iter().any(|a| a.name == b.name);
        let unreadable = !b.optional
            && b.default.is_none()
            && !matches!(b.role, ir::AttrRole::Version | ir::AttrRole::Ttl);
        if added && unreadable {
            out.push(finding(
                "ATTRIBUTE_ADDED_REQUIRED",
                "STORAGE",
                format!(
                    "`{}.{}` was added as required, without a default",
                    n.name, b.name
                ),
                Some(old.spans.entity[oi]),
                Some(new.spans.attrs[ni][bi]),
                "stored items do not have it, so reading any of them fails; make it optional, give it a `default`, or backfill it before deploying the code that reads it",
            ));
        }
    }
}

fn patterns(old: &Side, new: &Side, out: &mut Vec<Finding>) {
    for (pi, p) in old.schema.patterns.iter().enumerate() {
        let old_span = old.spans.pattern.get(pi).copied();
        let Some(qi) = new.schema.patterns.iter().position(|q| q.name == p.name) else {
            out.push(finding(
                "PATTERN_REMOVED",
                "API",
                format!("access pattern `{}` was removed", p.name),
                old_span,
                None,
                "callers of its method break",
            ));
            continue;
        };
        let q = &new.schema.patterns[qi];
        // The method's parameters: key inputs, filter values, and the sort bound's shape.
        let params = |x: &ir::Pattern| -> Vec<String> {
            let mut v: Vec<String> = x.inputs.iter().map(|i| i.param_ident.clone()).collect();
            v.extend(x.filters.iter().filter_map(|f| f.param_ident.clone()));
            v.push(format!("{:?}", x.sort));
            v
        };
        if params(p) != params(q) {
            out.push(finding(
                "PATTERN_SIGNATURE_CHANGED",
                "API",
                format!("access pattern `{}` takes other parameters", p.name),
                old_span,
                new.spans.pattern.get(qi).copied(),
                "callers of its method must change",
            ));
        }
    }
}

/// Renders findings: each one against the schema it points into, the other location named.
pub fn render(old: &Side, new: &Side, findings: &[Finding], format: crate::diag::Format) -> String {
    let mut out = String::new();
    for f in findings {
        let (source, primary, other) = match (f.new, f.old) {
            (Some(n), o) => (new.source, n, o.map(|o| (old.source, o))),
            (None, Some(o)) => (old.source, o, None),
            (None, None) => (new.source, Span::default(), None),
        };
        let mut help = f.help.clone();
        if let Some((src, span)) = other {
            let (line, col) = src.line_col(span.offset);
            help.push_str(&format!("\nbefore: {}:{line}:{col}", src.name));
        }
        let d = Diagnostic::error(
            "dyngen::breaking",
            format!("[{} {}] {}", f.category, f.rule, f.message),
        )
        .label(primary, if f.new.is_some() { "now" } else { "was" })
        .help(help);
        out.push_str(&crate::diag::render_all(
            source,
            std::slice::from_ref(&d),
            format,
            false,
        ));
    }
    out
}
