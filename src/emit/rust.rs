//! The Rust emitter: entity structs, enums, keys and item conversions, rendered from
//! templates, then re-parsed with syn and formatted with prettyplease.
//!
//! Type mapping and expression building live here, as data handed to the templates; the
//! templates only arrange it.

use minijinja::value::Serde;
use serde::Serialize;

use super::EmitError;
use super::rust_ops::{PatternView, RepoView, pattern_method, relationship_methods};
use super::templates::{render, rust_str};
use crate::ir::{self, AttrRole, Literal, Part, PlaceholderFormat, Schema, Template, Type};
use crate::naming;
use crate::validate::template_is_numeric;

/// Where the module lands under the output directory.
pub const PATH: &str = "rust/dyngen.rs";

pub fn emit(
    schema: &Schema,
    migrations: &[crate::migrations::Migration],
) -> Result<String, EmitError> {
    let table = TableView::new(schema);
    // Each item of the file is a job that renders and formats it; the jobs run on every
    // core and their results are joined in order, so the output does not depend on timing.
    type Job<'a> = Box<dyn Fn() -> Result<String, EmitError> + Send + Sync + 'a>;
    let mut jobs: Vec<Job> = Vec::new();
    let table = &table;
    jobs.push(Box::new(move || {
        let support = render("support.rs.j2", minijinja::context! {})?;
        render(
            "file.rs.j2",
            minijinja::context! { table => Serde(table), support => support },
        )
    }));
    for entity in &schema.entities {
        jobs.push(Box::new(move || {
            let mut text = String::new();
            for attr in &entity.attributes {
                if let Type::Enum(en) = &attr.ty {
                    text.push_str(&render("enum.rs.j2", minijinja::context! { en => Serde(EnumView::new(entity, attr, en)) })?);
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
        let mut methods: Vec<String> = schema.patterns.iter().map(|p| pattern_method(schema, p)).collect();
        methods.extend(schema.relationships.iter().flat_map(|r| relationship_methods(schema, r)));
        let (key_types, gsis, capacity) = table_definition(schema);
        render("db.rs.j2", minijinja::context! { accessors => accessors, pattern_methods => methods, key_types => key_types, gsis => gsis, capacity => capacity })
    }));
    if !migrations.is_empty() {
        jobs.push(Box::new(move || super::migrations::rust_items(migrations)));
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
fn table_definition(schema: &Schema) -> (Vec<minijinja::Value>, Vec<minijinja::Value>, String) {
    let numeric = |attr: &str| crate::migrations::key_is_numeric(schema, attr);
    let mut names: Vec<&str> = schema.all_key_attributes();
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|n| seen.insert(*n));
    let key_types = names
        .iter()
        .map(|n| minijinja::context! { name => *n, numeric => numeric(n).to_string() })
        .collect();
    let gsis = schema
        .table
        .indexes
        .iter()
        .map(|ix| {
            let sk = match &ix.sort_key {
                Some(s) => format!("::core::option::Option::Some({})", rust_str(s)),
                None => "::core::option::Option::None".into(),
            };
            let include = match &ix.projection {
                ir::Projection::All => "::core::option::Option::None".to_string(),
                ir::Projection::KeysOnly => "::core::option::Option::Some(&[])".to_string(),
                ir::Projection::Include(list) => format!("::core::option::Option::Some(&[{}])", list.iter().map(|a| rust_str(a)).collect::<Vec<_>>().join(", ")),
            };
            minijinja::context! { name => ix.name.clone(), pk => ix.partition_key.clone(), sk => sk, include => include }
        })
        .collect();
    let capacity = match schema.table.billing {
        ir::Billing::OnDemand => "::core::option::Option::None".to_string(),
        ir::Billing::Provisioned { read, write } => {
            format!("::core::option::Option::Some(({read}, {write}))")
        }
    };
    (key_types, gsis, capacity)
}

/// The first lines of every generated file.
pub fn header(schema: &Schema, comment: &str) -> String {
    format!(
        "{comment} @generated by dyngen from {}. Do not edit.\n{comment} Regenerate with `dyngen generate`.",
        schema.source_name
    )
}

/// Parses with syn and prints with prettyplease; a parse failure is a dyngen bug, shown
/// with the numbered source so it can be found.
pub fn format_rust(text: &str, what: &str) -> Result<String, EmitError> {
    match syn::parse_file(text) {
        Ok(file) => Ok(space_out_items(&prettyplease::unparse(&file))),
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
            sk: schema.table.sort_key.clone(),
            type_attr: schema.table.entity_type_attribute.clone(),
        }
    }
}

#[derive(Serialize)]
struct EnumView {
    ident: String,
    doc: String,
    variants: Vec<VariantView>,
}

#[derive(Serialize)]
struct VariantView {
    ident: String,
    value: String,
}

impl EnumView {
    fn new(entity: &ir::Entity, attr: &ir::Attribute, en: &ir::EnumType) -> Self {
        EnumView {
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
}

#[derive(Serialize)]
pub struct FieldView {
    ident: String,
    rust_type: String,
    doc: Option<String>,
    put: String,
    read: String,
}

#[derive(Serialize)]
struct KeyFieldView {
    ident: String,
    rust_type: String,
    from_entity: String,
}

impl EntityView {
    fn new(schema: &Schema, entity: &ir::Entity) -> Self {
        let fields = entity.attributes.iter().map(field_view).collect();
        let primary = entity.primary_key();
        let key_inputs =
            distinct_placeholders(std::iter::once(&primary.pk).chain(primary.sk.as_ref()));
        let key_fields = key_inputs
            .iter()
            .map(|ph| KeyFieldView {
                ident: placeholder_ident(entity, ph),
                rust_type: placeholder_type(entity, ph),
                from_entity: placeholder_from_entity(entity, ph),
            })
            .collect();
        let from_key = |ph: &ir::Placeholder| format!("&self.{}", placeholder_ident(entity, ph));
        let sk = primary
            .sk
            .as_ref()
            .expect("the primary key always has a sort-key template");
        let key_writes = entity
            .keys
            .iter()
            .map(|k| key_write(schema, entity, k))
            .collect();
        EntityView {
            ident: entity.type_ident.clone(),
            name: entity.name.clone(),
            doc: entity.doc.clone(),
            fields,
            key_fields,
            key_writes,
            primary_pk_from_key: key_value_expr(&primary.pk, entity, &|ph| from_key(ph)),
            primary_sk_from_key: key_value_expr(sk, entity, &|ph| from_key(ph)),
            capacity: entity.attributes.len() + 1 + 2 * entity.keys.len(),
        }
    }
}

/// Placeholders in first-use order, each once.
fn distinct_placeholders<'a>(
    templates: impl Iterator<Item = &'a Template>,
) -> Vec<ir::Placeholder> {
    let mut out: Vec<ir::Placeholder> = Vec::new();
    for t in templates {
        for ph in t.placeholders() {
            if !out.contains(ph) {
                out.push(ph.clone());
            }
        }
    }
    out
}

fn placeholder_ident(entity: &ir::Entity, ph: &ir::Placeholder) -> String {
    entity.placeholder_ident(ph)
}

fn placeholder_type(entity: &ir::Entity, ph: &ir::Placeholder) -> String {
    match ph.format {
        PlaceholderFormat::Value => rust_type(&entity.attributes[ph.attr].ty),
        PlaceholderFormat::Year => "i32".to_string(),
    }
}

/// The key input taken from an entity value (primary-key attributes are never optional).
fn placeholder_from_entity(entity: &ir::Entity, ph: &ir::Placeholder) -> String {
    let field = &entity.attributes[ph.attr].field_ident;
    match ph.format {
        PlaceholderFormat::Value => format!("::core::clone::Clone::clone(&self.{field})"),
        PlaceholderFormat::Year => format!("support::HasYear::year_of(&self.{field})"),
    }
}

pub fn rust_type(ty: &Type) -> String {
    match ty {
        Type::String => "::std::string::String".into(),
        Type::Integer => "i64".into(),
        Type::Float => "f64".into(),
        Type::Bool => "bool".into(),
        Type::Timestamp => "support::Timestamp".into(),
        Type::Date => "support::Date".into(),
        Type::Enum(e) => e.type_ident.clone(),
        Type::List(t) => format!("::std::vec::Vec<{}>", rust_type(t)),
        Type::StringSet => "support::StringSet".into(),
        Type::NumberSet => "support::NumberSet".into(),
        Type::Map(t) => format!(
            "::std::collections::BTreeMap<::std::string::String, {}>",
            rust_type(t)
        ),
    }
}

fn field_type(attr: &ir::Attribute) -> String {
    let t = rust_type(&attr.ty);
    if attr.optional {
        format!("::core::option::Option<{t}>")
    } else {
        t
    }
}

pub fn field_view(attr: &ir::Attribute) -> FieldView {
    let name = rust_str(&attr.name);
    let ident = &attr.field_ident;
    let put = match (attr.role, attr.optional) {
        (AttrRole::Ttl, _) => format!("support::write_ttl(&mut item, {name}, &self.{ident})"),
        (_, true) => format!("support::write_opt(&mut item, {name}, &self.{ident})"),
        (_, false) => format!("support::write_attr(&mut item, {name}, &self.{ident})"),
    };
    let is_set = matches!(attr.ty, Type::StringSet | Type::NumberSet);
    let read = match (attr.role, attr.optional, &attr.default) {
        (AttrRole::Ttl, _, _) => format!("cx.ttl({name})?"),
        (_, true, _) => format!("cx.optional({name})?"),
        (_, false, Some(lit)) => {
            format!("cx.or_default({name}, || {})?", literal_expr(&attr.ty, lit))
        }
        // An empty set is stored as an absent attribute (DynamoDB has no empty sets).
        (AttrRole::Version, false, None) => format!("cx.or_default({name}, || 0)?"),
        (_, false, None) if is_set => {
            format!("cx.or_default({name}, ::core::default::Default::default)?")
        }
        (_, false, None) => format!("cx.required({name})?"),
    };
    FieldView {
        ident: ident.clone(),
        rust_type: field_type(attr),
        doc: attr.doc.clone(),
        put,
        read,
    }
}

/// A Rust expression for a schema constant of the given type.
pub fn literal_expr(ty: &Type, lit: &Literal) -> String {
    match (ty, lit) {
        (Type::Date, Literal::String(s)) => {
            let (y, m, d) = (
                &s[..4],
                s[5..7].trim_start_matches('0'),
                s[8..10].trim_start_matches('0'),
            );
            format!(
                "support::Date {{ year: {}, month: {m}, day: {d} }}",
                y.parse::<i32>().unwrap_or_default()
            )
        }
        (_, Literal::String(s)) => format!("::std::string::String::from({})", rust_str(s)),
        (_, Literal::Integer(i)) => format!("{i}i64"),
        (_, Literal::Float(f)) => format!("{f:?}f64"),
        (_, Literal::Bool(b)) => b.to_string(),
        (Type::Enum(e), Literal::Enum(i)) => format!("{}::{}", e.type_ident, e.variants[*i].ident),
        (_, Literal::Enum(_)) => unreachable!("the validator types enum literals"),
        (_, Literal::Empty) => "::core::default::Default::default()".into(),
    }
}

/// An `AttributeValue` expression for a template, with `value(ph)` giving a reference
/// expression for each placeholder. A template that is one integer placeholder is a number.
pub fn key_value_expr(
    t: &Template,
    entity: &ir::Entity,
    value: &dyn Fn(&ir::Placeholder) -> String,
) -> String {
    if template_is_numeric(t, &entity.attributes) {
        let ph = t
            .placeholders()
            .next()
            .expect("numeric templates have one placeholder");
        return format!(
            "::aws_sdk_dynamodb::types::AttributeValue::N(::std::string::ToString::to_string({}))",
            value(ph)
        );
    }
    format!("support::s_key({})", key_string_expr(&t.parts, value))
}

/// A block that builds the string for some template parts.
pub fn key_string_expr(parts: &[Part], value: &dyn Fn(&ir::Placeholder) -> String) -> String {
    // The common shapes get a one-line helper; others a block.
    match parts {
        [Part::Literal(l)] => return format!("::std::string::String::from({})", rust_str(l)),
        [Part::Literal(l), Part::Placeholder(ph)] if ph.format == PlaceholderFormat::Value => {
            return format!("support::key1({}, {})", rust_str(l), value(ph));
        }
        [Part::Placeholder(ph)] if ph.format == PlaceholderFormat::Value => {
            return format!("support::key1(\"\", {})", value(ph));
        }
        _ => {}
    }
    // Size the buffer once: the literals, plus each value's own length.
    let literal: usize = parts
        .iter()
        .map(|p| if let Part::Literal(l) = p { l.len() } else { 0 })
        .sum();
    let mut capacity = literal.to_string();
    for part in parts {
        match part {
            Part::Placeholder(ph) if ph.format == PlaceholderFormat::Year => {
                capacity.push_str(" + 4")
            }
            Part::Placeholder(ph) => {
                capacity.push_str(&format!(" + support::KeyPart::len_hint({})", value(ph)))
            }
            Part::Literal(_) => {}
        }
    }
    let mut code = format!("{{ let mut s = ::std::string::String::with_capacity({capacity});");
    for part in parts {
        match part {
            Part::Literal(l) if l.chars().count() == 1 => code.push_str(&format!(
                "s.push({:?});",
                l.chars().next().unwrap_or_default()
            )),
            Part::Literal(l) => code.push_str(&format!("s.push_str({});", rust_str(l))),
            Part::Placeholder(ph) if ph.format == PlaceholderFormat::Year => {
                code.push_str(&format!("support::push_year(&mut s, {});", value(ph)));
            }
            Part::Placeholder(ph) => code.push_str(&format!(
                "support::KeyPart::push_key({}, &mut s);",
                value(ph)
            )),
        }
    }
    code.push_str("s }");
    code
}

/// The statement that writes one index's key attributes onto an item. For a sparse index,
/// the attributes are written only when every optional input is present.
fn key_write(schema: &Schema, entity: &ir::Entity, key: &ir::EntityKey) -> String {
    let (pk_attr, sk_attr) = schema.key_attributes(key.index);
    let optional: Vec<usize> = {
        let mut v: Vec<usize> =
            distinct_placeholders(std::iter::once(&key.pk).chain(key.sk.as_ref()))
                .iter()
                .map(|ph| ph.attr)
                .filter(|&a| entity.attributes[a].optional)
                .collect();
        v.dedup();
        v
    };
    let value = |ph: &ir::Placeholder| {
        let attr = &entity.attributes[ph.attr];
        if attr.optional {
            format!("{}_v", naming::bare(&attr.field_ident))
        } else {
            format!("&self.{}", attr.field_ident)
        }
    };
    let mut body = format!(
        "item.insert({}.to_string(), {});",
        rust_str(pk_attr),
        key_value_expr(&key.pk, entity, &value)
    );
    if let (Some(sk_attr), Some(sk)) = (sk_attr, &key.sk) {
        body.push_str(&format!(
            "item.insert({}.to_string(), {});",
            rust_str(sk_attr),
            key_value_expr(sk, entity, &value)
        ));
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
