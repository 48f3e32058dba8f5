//! Semantic checks and lowering: the spanned syntax tree becomes the IR, and every problem
//! found on the way becomes a diagnostic. Checks never stop at the first error; the IR is
//! returned only when there is none. Lints (warnings) run on the finished IR with the
//! spans kept aside in [`Spans`].

use std::collections::BTreeMap;

use crate::ast::{self, Sp};
use crate::diag::{Diagnostic, Source, Span};
use crate::ir::{self, IndexRef, Literal, Part, Placeholder, PlaceholderFormat, Type};
use crate::naming;

mod composite;
mod entities;
mod filters;
mod key_space;
mod keys;
mod leading;
mod links;
mod lint_levels;
mod patterns;
mod projections;
mod roles;
mod sort_key;
mod stored;
mod table;
mod unique;

use composite::*;
use entities::*;
use filters::*;
use key_space::*;
use keys::*;
use leading::*;
use links::*;
use lint_levels::*;
use patterns::*;
use projections::*;
use roles::*;
use sort_key::*;
use stored::*;
use table::*;
use unique::*;

use crate::ir::template_is_numeric;
pub use entities::type_word;

/// DynamoDB's default quota of global secondary indexes per table.
pub const MAX_GSIS: usize = 20;
/// DynamoDB's limit on attributes projected with INCLUDE across all indexes.
pub const MAX_PROJECTED_ATTRIBUTES: usize = 100;

pub use crate::spans::Spans;

struct Cx<'a> {
    src: &'a Source,
    diags: Vec<Diagnostic>,
    /// (entity, index) pairs whose templates were already reported broken, so later checks
    /// don't report the same mistake again as a missing key.
    broken_keys: std::collections::BTreeSet<(String, String)>,
}

impl Cx<'_> {
    fn span<T>(&self, s: &Sp<T>) -> Span {
        self.src.span_of(&s.referenced)
    }
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
    /// A lint found while checking (its level is applied with the others').
    fn warn(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
}

/// Checks a parsed schema and lowers it. Returns the IR (if there was no error) and every
/// diagnostic, warnings included, at the levels the schema sets for its lints.
pub fn check(
    file: &ast::SchemaFile,
    src: &Source,
) -> (Option<(ir::Schema, Spans)>, Vec<Diagnostic>) {
    let (lowered, mut diags) = check_all(file, src);
    apply_lint_levels(file, &mut diags);
    // A denied lint is an error like any other.
    let lowered = lowered.filter(|_| !diags.iter().any(Diagnostic::is_error));
    (lowered, diags)
}

fn check_all(
    file: &ast::SchemaFile,
    src: &Source,
) -> (Option<(ir::Schema, Spans)>, Vec<Diagnostic>) {
    let unprintable = crate::names::check_printable(file, src);
    if !unprintable.is_empty() {
        // Everything else would only repeat these names in more messages.
        return (None, unprintable);
    }
    let mut cx = Cx {
        src,
        diags: Vec::new(),
        broken_keys: Default::default(),
    };
    let table = lower_table(&mut cx, &file.table);
    check_table_roles(&mut cx, &file.table.value);
    check_stream_changes(&mut cx, file, &table);
    let mut spans = Spans::default();
    let entities = lower_entities(&mut cx, file, &table, &mut spans);
    let patterns = lower_patterns(&mut cx, file, &table, &entities, &mut spans);
    check_type_name_collisions(&mut cx, file, &entities, &patterns);
    let relationships = lower_relationships(&mut cx, file, &entities, &patterns);
    check_key_attribute_types(&mut cx, &table, &entities, &spans);
    check_unique_table_keys(&mut cx, file, &table, &entities);
    check_composite_types(&mut cx, file, &table, &entities);
    check_entity_key_templates(&mut cx, &table, &entities, &spans);
    check_projection_names(&mut cx, &file.table.value, &entities);
    check_pattern_consumers(&mut cx, file);
    check_lint_names(&mut cx, file);
    check_key_space(&mut cx, &table, &entities, &patterns, &spans);

    if cx.diags.iter().any(Diagnostic::is_error) {
        return (None, cx.diags);
    }
    record_declaration_spans(&cx, file, &table, &entities, &mut spans);
    let consumers = lower_consumers(&mut cx, file, &entities, &patterns);
    check_leading_keys(&mut cx, file, &entities, &patterns, &consumers);
    if cx.diags.iter().any(Diagnostic::is_error) {
        return (None, cx.diags);
    }
    let mut schema = ir::Schema {
        source_name: src.name.clone(),
        table,
        entities,
        patterns,
        relationships,
        consumers,
        serde: file.rust.as_ref().is_some_and(|r| r.value.serde),
        streams: file.rust.as_ref().is_some_and(|r| r.value.streams),
        other_change: String::new(),
    };
    crate::names::assign(&mut schema);
    cx.diags.extend(crate::names::check(&schema, &spans));
    if cx.diags.iter().any(Diagnostic::is_error) {
        return (None, cx.diags);
    }
    cx.diags.extend(crate::lints::lint(&schema, &spans));
    (Some((schema, spans)), cx.diags)
}

/// Where attributes, indexes and the table keys are declared, for diagnostics about the
/// finished IR (lints, breaking changes).
fn record_declaration_spans(
    cx: &Cx,
    file: &ast::SchemaFile,
    table: &ir::Table,
    entities: &[ir::Entity],
    spans: &mut Spans,
) {
    for ((name, ast_entity), entity) in file.entities.iter().zip(entities) {
        let entity_span = cx.span(name);
        let attrs = entity
            .attributes
            .iter()
            .map(|a| {
                ast_entity
                    .value
                    .attributes
                    .iter()
                    .find(|(n, _)| n.value == a.name)
                    .map_or(entity_span, |(n, _)| cx.span(n))
            })
            .collect();
        spans.attrs.push(attrs);
    }
    spans.indexes = table
        .indexes
        .iter()
        .map(|ix| {
            file.table
                .value
                .indexes
                .iter()
                .find(|(n, _)| n.value == ix.name)
                .map_or(Span { offset: 0, len: 0 }, |(n, _)| cx.span(n))
        })
        .collect();
    spans.relationships = file.relationships.iter().map(|(n, _)| cx.span(n)).collect();
    let pk_span = cx.span(&file.table.value.partition_key);
    spans.table_keys = (
        pk_span,
        file.table
            .value
            .sort_key
            .as_ref()
            .map_or(pk_span, |s| cx.span(s)),
    );
}
