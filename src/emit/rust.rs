//! The Rust emitter: entity structs, enums, keys and item conversions, rendered from
//! templates, then re-parsed with syn and formatted with prettyplease.
//!
//! Type mapping and expression building live here, as data handed to the templates; the
//! templates only arrange it.

use minijinja::value::Serde;
use serde::Serialize;

use super::EmitError;
use super::rust_exprs::{FieldView, field_view, key_value_expr, placeholder_type};
use super::rust_ops::{RepoView, relationship_methods};
use super::rust_query::{PatternView, pattern_method};
use super::templates::render;
use super::templates::rust_str;
use crate::ir::{self, PlaceholderFormat, Schema, Type};
use crate::naming;

/// Where the module lands under the output directory.
pub const PATH: &str = "rust/dyngen.rs";

pub fn emit(
    schema: &Schema,
    migrations: &[crate::migrations::Migration],
    options: &super::Options,
) -> Result<String, EmitError> {
    let table = TableView::new(schema);
    // Each item of the file is a job that renders and formats it; the jobs run on every
    // core and their results are joined in order, so the output does not depend on timing.
    type Job<'a> = Box<dyn Fn() -> Result<String, EmitError> + Send + Sync + 'a>;
    let mut jobs: Vec<Job> = Vec::new();
    let table = &table;
    jobs.push(Box::new(move || {
        render(
            "file.rs.j2",
            minijinja::context! { table => Serde(table), runtime_path => options.runtime_path.clone() },
        )
    }));
    for entity in &schema.entities {
        jobs.push(Box::new(move || {
            let mut text = String::new();
            for attr in &entity.attributes {
                if let Type::Enum(en) = &attr.ty {
                    text.push_str(&render("enum.rs.j2", minijinja::context! { en => Serde(EnumView::new(entity, attr, en, schema.serde)) })?);
                }
            }
            text.push_str(&render("entity.rs.j2", minijinja::context! { e => Serde(EntityView::new(schema, entity)), table => Serde(table) })?);
            text.push_str(&render("repo.rs.j2", minijinja::context! { e => Serde(RepoView::new(schema, entity)) })?);
            Ok(text)
        }));
    }
    for p in &schema.patterns {
        jobs.push(Box::new(move || render("pattern.rs.j2", minijinja::context! { p => Serde(PatternView::new(schema, p)), table => Serde(table) })));
    }
    jobs.push(Box::new(move || {
        let accessors: Vec<_> = schema.entities.iter().map(|e| minijinja::context! { ident => e.type_ident.clone(), method => e.snake_ident.clone() }).collect();
        let methods: Vec<_> = schema.patterns.iter().map(|p| pattern_method(schema, p)).collect();
        let links: Vec<_> = schema.relationships.iter().filter_map(|r| relationship_methods(schema, r)).collect();
        render("db.rs.j2", minijinja::context! { accessors => accessors, pattern_methods => Serde(methods), links => Serde(links) })
    }));
    jobs.push(Box::new(move || {
        super::migrations::rust_items(schema, migrations)
    }));
    if schema.streams {
        jobs.push(Box::new(move || {
            let entities: Vec<_> = schema.entities.iter().map(|e| minijinja::context! { ident => e.type_ident.clone(), name => e.type_value.clone() }).collect();
            render("stream.rs.j2", minijinja::context! { entities => entities, other => schema.other_change.clone() })
        }));
    }
    let parts = in_parallel(&jobs, |text| format_rust(&text, PATH))?;
    Ok(format!("{}\n{}", header(schema, "//"), parts.join("\n")))
}

/// Runs `job` then `finish` for every job, on as many threads as there are cores, and
/// returns the results in job order.
fn in_parallel<'a>(
    jobs: &[Box<dyn Fn() -> Result<String, EmitError> + Send + Sync + 'a>],
    finish: impl Fn(String) -> Result<String, EmitError> + Sync,
) -> Result<Vec<String>, EmitError> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let results: Vec<Mutex<Option<Result<String, EmitError>>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        .max(1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let result = job().and_then(&finish);
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every job ran")
        })
        .collect()
}

/// Key attribute types, index definitions and capacity for `Db::create_table`.
/// The first lines of every generated file.
pub fn header(schema: &Schema, comment: &str) -> String {
    format!(
        "{comment} @generated by dyngen from {}. Do not edit.\n{comment} Regenerate with `dyngen generate`.",
        schema.source_name
    )
}

/// A crate uses part of its schema's module (a binary, often little of it), so every item
/// allows being unused: the module compiles without a warning whatever the crate calls.
/// Attributes on each item, because an `include!`d file cannot carry inner attributes.
fn allow_unused(file: &mut syn::File) {
    use syn::parse::Parser;
    let allow = || {
        syn::Attribute::parse_outer
            .parse_str("#[allow(dead_code, unused_imports)]")
            .expect("a fixed attribute parses")
    };
    for item in &mut file.items {
        let item_attrs = match item {
            syn::Item::Const(i) => &mut i.attrs,
            syn::Item::Enum(i) => &mut i.attrs,
            syn::Item::Fn(i) => &mut i.attrs,
            syn::Item::Impl(i) => &mut i.attrs,
            syn::Item::Mod(i) => &mut i.attrs,
            syn::Item::Static(i) => &mut i.attrs,
            syn::Item::Struct(i) => &mut i.attrs,
            syn::Item::Trait(i) => &mut i.attrs,
            syn::Item::Type(i) => &mut i.attrs,
            syn::Item::Use(i) => &mut i.attrs,
            _ => continue,
        };
        item_attrs.extend(allow());
    }
}

/// Parses with syn and prints with prettyplease; a parse failure is a dyngen bug, shown
/// with the numbered source so it can be found.
pub fn format_rust(text: &str, what: &str) -> Result<String, EmitError> {
    match syn::parse_file(text) {
        Ok(mut file) => {
            allow_unused(&mut file);
            Ok(space_out_items(&prettyplease::unparse(&file)))
        }
        Err(e) => {
            let line = e.span().start().line;
            let numbered: String = text
                .lines()
                .enumerate()
                .skip(line.saturating_sub(6))
                .take(11)
                .map(|(i, l)| format!("{:>5} | {l}\n", i + 1))
                .collect();
            Err(EmitError {
                what: what.to_string(),
                detail: format!("generated Rust does not parse: {e} (line {line})\n{numbered}"),
            })
        }
    }
}

/// prettyplease drops blank lines; put one after every block that closes an item, so the
/// committed file reads like hand-formatted Rust in a review.
fn space_out_items(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 20);
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        let Some(next) = lines.get(i + 1) else {
            continue;
        };
        let indent = line.len() - line.trim_start().len();
        let next_indent = next.len() - next.trim_start().len();
        let closes_block = line.trim() == "}" || line.trim() == "};";
        let next_is_item = next_indent == indent
            && !next.trim_start().starts_with(['}', ')', ']', '.'])
            && !next.trim_start().starts_with("else");
        if closes_block && next_is_item && indent <= 8 {
            out.push('\n');
        }
    }
    out
}

#[derive(Serialize)]
struct TableView {
    name: String,
    pk: String,
    sk: String,
    type_attr: String,
}

impl TableView {
    fn new(schema: &Schema) -> Self {
        TableView {
            name: schema.table.name.clone(),
            pk: schema.table.partition_key.clone(),
            // Empty for a table with a partition key only (as in the runtime's design).
            sk: schema.table.sort_key.clone().unwrap_or_default(),
            type_attr: schema.table.entity_type_attribute.clone(),
        }
    }
}

#[derive(Serialize)]
struct EnumView {
    ident: String,
    doc: String,
    variants: Vec<VariantView>,
    serde: bool,
}

#[derive(Serialize)]
struct VariantView {
    ident: String,
    value: String,
}

impl EnumView {
    fn new(entity: &ir::Entity, attr: &ir::Attribute, en: &ir::EnumType, serde: bool) -> Self {
        EnumView {
            serde,
            ident: en.type_ident.clone(),
            doc: format!("Values of `{}.{}`.", entity.name, attr.name),
            variants: en
                .variants
                .iter()
                .map(|v| VariantView {
                    ident: v.ident.clone(),
                    value: v.value.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct EntityView {
    ident: String,
    name: String,
    doc: Option<String>,
    fields: Vec<FieldView>,
    key_fields: Vec<KeyFieldView>,
    key_writes: Vec<String>,
    primary_pk_from_key: String,
    primary_sk_from_key: String,
    capacity: usize,
    serde: bool,
}

#[derive(Serialize)]
struct KeyFieldView {
    ident: String,
    /// The name serde gives the field: the schema's (`dob:year` for a year).
    name: String,
    rust_type: String,
    from_entity: String,
}

impl EntityView {
    fn new(schema: &Schema, entity: &ir::Entity) -> Self {
        let fields = entity.attributes.iter().map(field_view).collect();
        let primary = entity.primary_key();
        let key_inputs = primary.distinct_placeholders();
        let key_fields = key_inputs
            .iter()
            .map(|ph| KeyFieldView {
                ident: entity.placeholder_ident(ph),
                name: format!("{}{}", entity.attributes[ph.attr].name, ph.format.suffix()),
                rust_type: placeholder_type(entity, ph),
                from_entity: placeholder_from_entity(entity, ph),
            })
            .collect();
        let from_key = |ph: &ir::Placeholder| format!("&self.{}", entity.placeholder_ident(ph));
        let key_writes = entity
            .keys
            .iter()
            .map(|k| key_write(schema, entity, k))
            .collect();
        EntityView {
            serde: schema.serde,
            ident: entity.type_ident.clone(),
            name: entity.type_value.clone(),
            doc: entity.doc.clone(),
            fields,
            key_fields,
            key_writes,
            primary_pk_from_key: key_value_expr(&primary.pk, entity, &|ph| from_key(ph)),
            // Empty for a table with a partition key only.
            primary_sk_from_key: (primary.sk.as_ref())
                .map(|sk| key_value_expr(sk, entity, &|ph| from_key(ph)))
                .unwrap_or_default(),
            capacity: entity.attributes.len() + 1 + 2 * entity.keys.len(),
        }
    }
}

/// The key input taken from an entity value (primary-key attributes are never optional).
fn placeholder_from_entity(entity: &ir::Entity, ph: &ir::Placeholder) -> String {
    let field = &entity.attributes[ph.attr].field_ident;
    match ph.format {
        PlaceholderFormat::Value | PlaceholderFormat::Raw | PlaceholderFormat::Padded(_) => {
            format!("::core::clone::Clone::clone(&self.{field})")
        }
        PlaceholderFormat::Year => format!("rt::value::HasYear::year_of(&self.{field})"),
    }
}

/// The statement that writes one index's key attributes onto an item. For a sparse index,
/// the attributes are written only when every optional input is present.
fn key_write(schema: &Schema, entity: &ir::Entity, key: &ir::EntityKey) -> String {
    // The key attributes this key writes (a local index's partition key and attribute
    // keys are written otherwise), each with its template.
    let written = schema.written_keys(entity, key);
    // Optional inputs of the written templates: bound once, the keys written only when all
    // are present (a sparse index).
    let mut optional: Vec<usize> = written
        .iter()
        .flat_map(|(_, t)| t.placeholders())
        .map(|ph| ph.attr)
        .filter(|&a| entity.attributes[a].optional)
        .collect();
    optional.sort_unstable();
    optional.dedup();
    let value = |ph: &ir::Placeholder| {
        let attr = &entity.attributes[ph.attr];
        if attr.optional {
            format!("{}_v", naming::bare(&attr.field_ident))
        } else {
            format!("&self.{}", attr.field_ident)
        }
    };
    let body: String = written
        .iter()
        .map(|(attr, t)| {
            format!(
                "item.insert({}.to_string(), {});",
                rust_str(attr),
                key_value_expr(t, entity, &value)
            )
        })
        .collect();
    if body.is_empty() {
        return String::new();
    }
    if optional.is_empty() {
        return format!("{{ {body} }}");
    }
    let bindings: Vec<String> = optional
        .iter()
        .map(|&a| {
            format!(
                "::core::option::Option::Some({}_v)",
                naming::bare(&entity.attributes[a].field_ident)
            )
        })
        .collect();
    let sources: Vec<String> = optional
        .iter()
        .map(|&a| format!("&self.{}", entity.attributes[a].field_ident))
        .collect();
    format!(
        "if let ({},) = ({},) {{ {body} }}",
        bindings.join(", "),
        sources.join(", ")
    )
}
