//! Semantic checks and lowering: the spanned syntax tree becomes the IR, and every problem
//! found on the way becomes a diagnostic. Checks never stop at the first error; the IR is
//! returned only when there is none. Lints (warnings) run on the finished IR with the
//! spans kept aside in [`Spans`].

use std::collections::BTreeMap;

use crate::ast::{self, Sp};
use crate::diag::{Diagnostic, Source, Span};
use crate::ir::{self, IndexRef, Literal, Part, Placeholder, PlaceholderFormat, Type};
use crate::naming;

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
}

/// Checks a parsed schema and lowers it. Returns the IR (if there was no error) and every
/// diagnostic, warnings included.
pub fn check(
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
    let mut spans = Spans::default();
    let entities = lower_entities(&mut cx, file, &table, &mut spans);
    let patterns = lower_patterns(&mut cx, file, &table, &entities, &mut spans);
    check_type_name_collisions(&mut cx, file, &entities, &patterns);
    let relationships = lower_relationships(&mut cx, file, &entities, &patterns);
    check_key_attribute_types(&mut cx, &table, &entities, &spans);

    if cx.diags.iter().any(Diagnostic::is_error) {
        return (None, cx.diags);
    }
    record_declaration_spans(&cx, file, &table, &entities, &mut spans);
    let consumers = lower_consumers(&mut cx, file, &entities, &patterns);
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
    spans.table_keys = (
        cx.span(&file.table.value.partition_key),
        cx.span(&file.table.value.sort_key),
    );
}

// ---------------------------------------------------------------------------------------
// Table and indexes

fn valid_dynamo_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn lower_table(cx: &mut Cx, t: &Sp<ast::Table>) -> ir::Table {
    let t_val = &t.value;
    if !valid_dynamo_name(&t_val.name.value) {
        let d = Diagnostic::error(
            "dyngen::invalid_table_name",
            format!("`{}` is not a valid DynamoDB table name", t_val.name.value),
        )
        .label(cx.span(&t_val.name), "table name")
        .help("table names are 3 to 255 characters from A-Z, a-z, 0-9, `_`, `-` and `.`");
        cx.error(d);
    }
    for key in [&t_val.partition_key, &t_val.sort_key] {
        check_attribute_name(cx, key, "key attribute");
    }
    if t_val.partition_key.value == t_val.sort_key.value {
        let d = Diagnostic::error(
            "dyngen::duplicate_key_attribute",
            "the partition key and the sort key are the same attribute",
        )
        .label(cx.span(&t_val.sort_key), "same as the partition key")
        .help("use two attributes, e.g. `pk` and `sk`");
        cx.error(d);
    }
    let billing = match (
        t_val.billing_mode.as_ref().map(|b| b.value),
        &t_val.capacity,
    ) {
        (Some(ast::BillingMode::Provisioned), Some(c)) => ir::Billing::Provisioned {
            read: c.value.read,
            write: c.value.write,
        },
        (Some(ast::BillingMode::Provisioned), None) => {
            let d = Diagnostic::error("dyngen::missing_capacity", "a provisioned table needs its read and write capacity")
                .label(cx.span(t_val.billing_mode.as_ref().expect("matched Some")), "provisioned here")
                .help("add `capacity: {read: 5, write: 5}` to the table, or use `billing_mode: on_demand`");
            cx.error(d);
            ir::Billing::OnDemand
        }
        (_, Some(c)) => {
            let d = Diagnostic::error(
                "dyngen::unexpected_capacity",
                "capacity is only used with `billing_mode: provisioned`",
            )
            .label(cx.span(c), "capacity given here")
            .help("remove `capacity`, or set `billing_mode: provisioned`");
            cx.error(d);
            ir::Billing::OnDemand
        }
        _ => ir::Billing::OnDemand,
    };
    let entity_type_attribute = t_val.entity_type_attribute.as_ref().map_or_else(
        || "_type".to_string(),
        |a| {
            check_attribute_name(cx, a, "entity-type attribute");
            a.value.clone()
        },
    );
    let ttl_attribute = t_val.ttl_attribute.as_ref().map(|a| {
        check_attribute_name(cx, a, "TTL attribute");
        a.value.clone()
    });

    let mut indexes = Vec::new();
    let mut projected = 0usize;
    for (name, ix) in t_val.indexes.iter() {
        if indexes.len() == MAX_GSIS {
            let d = Diagnostic::error("dyngen::too_many_indexes", format!("a table has at most {MAX_GSIS} global secondary indexes"))
                .label(cx.span(name), format!("index number {}", indexes.len() + 1))
                .help("DynamoDB's default quota is 20 GSIs per table; overload existing indexes (gsi1pk/gsi1sk) across entities");
            cx.error(d);
        }
        if name.value == "primary" {
            let d = Diagnostic::error(
                "dyngen::reserved_index_name",
                "`primary` names the table's own key and cannot be an index name",
            )
            .label(cx.span(name), "reserved")
            .help("rename the index, e.g. `gsi1`");
            cx.error(d);
        } else if !valid_dynamo_name(&name.value) {
            let d = Diagnostic::error(
                "dyngen::invalid_index_name",
                format!("`{}` is not a valid DynamoDB index name", name.value),
            )
            .label(cx.span(name), "index name")
            .help("index names are 3 to 255 characters from A-Z, a-z, 0-9, `_`, `-` and `.`");
            cx.error(d);
        }
        check_attribute_name(cx, &ix.value.partition_key, "key attribute");
        if let Some(sk) = &ix.value.sort_key {
            check_attribute_name(cx, sk, "key attribute");
        }
        let projection = match ix.value.projection.as_ref().map(|p| &p.value) {
            None | Some(ast::Projection::All) => ir::Projection::All,
            Some(ast::Projection::KeysOnly) => ir::Projection::KeysOnly,
            Some(ast::Projection::Include(list)) => {
                projected += list.len();
                if list.is_empty() {
                    let p = ix.value.projection.as_ref().expect("matched Some");
                    let d = Diagnostic::error(
                        "dyngen::empty_projection",
                        "an `include` projection needs at least one attribute",
                    )
                    .label(cx.span(p), "empty list")
                    .help("list the attributes to project, or use `keys_only`");
                    cx.error(d);
                }
                // Reads dispatch on the entity type, so every index carries it.
                let mut names: Vec<String> = list.iter().map(|a| a.value.clone()).collect();
                let type_attr = t_val
                    .entity_type_attribute
                    .as_ref()
                    .map_or("_type", |a| a.value.as_str());
                if !names.iter().any(|n| n == type_attr) {
                    names.push(type_attr.to_string());
                    projected += 1;
                }
                ir::Projection::Include(names)
            }
        };
        indexes.push(ir::Index {
            name: name.value.clone(),
            partition_key: ix.value.partition_key.value.clone(),
            sort_key: ix.value.sort_key.as_ref().map(|s| s.value.clone()),
            projection,
        });
    }
    if projected > MAX_PROJECTED_ATTRIBUTES {
        let d = Diagnostic::error("dyngen::too_many_projected_attributes", format!("{projected} attributes are projected with `include`; DynamoDB allows {MAX_PROJECTED_ATTRIBUTES} per table"))
            .label(cx.span(t), "in this table")
            .help("project fewer attributes, or use `all`");
        cx.error(d);
    }
    ir::Table {
        name: t_val.name.value.clone(),
        partition_key: t_val.partition_key.value.clone(),
        sort_key: t_val.sort_key.value.clone(),
        entity_type_attribute,
        billing,
        ttl_attribute,
        indexes,
    }
}

fn check_attribute_name(cx: &mut Cx, name: &Sp<String>, what: &str) {
    if name.value.is_empty() || name.value.len() > 255 {
        let d = Diagnostic::error(
            "dyngen::invalid_attribute_name",
            format!("a {what} name must be 1 to 255 bytes long"),
        )
        .label(cx.span(name), "this name")
        .help("DynamoDB limits key attribute names to 255 bytes");
        cx.error(d);
    }
}

fn index_ref(table: &ir::Table, name: &str) -> Option<IndexRef> {
    if name == "primary" {
        return Some(IndexRef::Primary);
    }
    table
        .indexes
        .iter()
        .position(|i| i.name == name)
        .map(IndexRef::Gsi)
}

fn index_names(table: &ir::Table) -> String {
    std::iter::once("primary")
        .chain(table.indexes.iter().map(|i| i.name.as_str()))
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------
// Entities

fn lower_entities(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    table: &ir::Table,
    spans: &mut Spans,
) -> Vec<ir::Entity> {
    let mut out = Vec::new();
    for (name, entity) in file.entities.iter() {
        let type_ident = naming::type_ident(&name.value).unwrap_or_else(|| {
            let d = Diagnostic::error(
                "dyngen::unusable_name",
                format!(
                    "`{}` has no character a Rust type name could use",
                    name.value
                ),
            )
            .label(cx.span(name), "entity name")
            .help("give the entity a name with letters, e.g. `User`");
            cx.error(d);
            "Invalid".to_string()
        });
        let snake_ident = naming::snake_ident(&name.value).unwrap_or_else(|| "invalid".to_string());
        let attributes = lower_attributes(cx, name, &entity.value, table, &type_ident);
        let mut key_spans = Vec::new();
        let keys = lower_keys(cx, name, &entity.value, table, &attributes, &mut key_spans);
        let find = |role: ir::AttrRole| attributes.iter().position(|a| a.role == role);
        out.push(ir::Entity {
            name: name.value.clone(),
            type_ident,
            snake_ident,
            doc: entity.value.doc.clone(),
            created_at: find(ir::AttrRole::CreatedAt),
            updated_at: find(ir::AttrRole::UpdatedAt),
            version: find(ir::AttrRole::Version),
            ttl: find(ir::AttrRole::Ttl),
            attributes,
            keys,
            setters: Vec::new(),
        });
        spans.entity.push(cx.span(name));
        spans.keys.push(key_spans);
    }
    if file.entities.is_empty() {
        let d = Diagnostic::error("dyngen::no_entities", "the schema declares no entities")
            .label(cx.span(&file.version), "in this schema")
            .help("add an `entities:` section with at least one entity");
        cx.error(d);
    }
    out
}

fn lower_attributes(
    cx: &mut Cx,
    entity_name: &Sp<String>,
    entity: &ast::Entity,
    table: &ir::Table,
    entity_type: &str,
) -> Vec<ir::Attribute> {
    let mut attrs: Vec<ir::Attribute> = Vec::new();
    // Field ident (without r#) → span of the attribute that took it.
    let mut taken: BTreeMap<String, (String, Span)> = BTreeMap::new();
    let reserved = reserved_attribute_names(table);

    let mut claim = |cx: &mut Cx, name: &str, span: Span| -> Option<String> {
        if let Some(why) = reserved.get(name) {
            let d = Diagnostic::error(
                "dyngen::reserved_attribute",
                format!("`{name}` is the table's {why} and cannot be an entity attribute"),
            )
            .label(span, "declared here")
            .help("dyngen writes this attribute itself; rename the entity attribute");
            cx.error(d);
            return None;
        }
        let Some(ident) = naming::snake_ident(name) else {
            let d = Diagnostic::error(
                "dyngen::unusable_name",
                format!("`{name}` has no character a Rust field name could use"),
            )
            .label(span, "attribute name")
            .help("give the attribute a name with letters or digits");
            cx.error(d);
            return None;
        };
        if let Some((other, other_span)) = taken.get(naming::bare(&ident)) {
            let msg = if other == name {
                format!("attribute `{name}` is declared twice")
            } else {
                format!(
                    "attributes `{other}` and `{name}` both become the Rust field `{}`",
                    naming::bare(&ident)
                )
            };
            let d = Diagnostic::error("dyngen::name_collision", msg)
                .label(span, "this one")
                .label(*other_span, "collides with this one")
                .help("rename one of them; names are compared after conversion to snake_case");
            cx.error(d);
            return None;
        }
        taken.insert(naming::bare(&ident).to_string(), (name.to_string(), span));
        Some(ident)
    };

    for (name, attr) in entity.attributes.iter() {
        let span = cx.span(name);
        let Some(field_ident) = claim(cx, &name.value, span) else {
            continue;
        };
        let (ty, optional, default, doc) = lower_attribute_type(cx, entity_type, name, attr);
        attrs.push(ir::Attribute {
            name: name.value.clone(),
            field_ident,
            ty,
            optional,
            default,
            doc,
            role: ir::AttrRole::Data,
        });
    }

    let mut managed = |cx: &mut Cx,
                       name: &Sp<String>,
                       ty: Type,
                       optional: bool,
                       role: ir::AttrRole,
                       doc: &str| {
        check_attribute_name(cx, name, "attribute");
        let span = cx.span(name);
        if let Some(field_ident) = claim(cx, &name.value, span) {
            attrs.push(ir::Attribute {
                name: name.value.clone(),
                field_ident,
                ty,
                optional,
                default: None,
                doc: Some(doc.to_string()),
                role,
            });
        }
    };
    if let Some(ts) = &entity.timestamps {
        if let Some(c) = &ts.value.created {
            managed(
                cx,
                c,
                Type::Timestamp,
                false,
                ir::AttrRole::CreatedAt,
                "When the item was created; set by dyngen, never overwritten.",
            );
        }
        if let Some(u) = &ts.value.updated {
            managed(
                cx,
                u,
                Type::Timestamp,
                false,
                ir::AttrRole::UpdatedAt,
                "When the item was last written; set by dyngen on every write.",
            );
        }
    }
    if let Some(v) = &entity.version {
        managed(
            cx,
            v,
            Type::Integer,
            false,
            ir::AttrRole::Version,
            "Optimistic-locking version; incremented by dyngen on every write.",
        );
    }
    if let Some(ttl) = entity.ttl.as_ref().filter(|t| t.value) {
        match &table.ttl_attribute {
            Some(ttl_name) => {
                let named = Sp::new(ttl_name.clone(), ttl.referenced, ttl.defined);
                // The TTL attribute is reserved for the table; the entity's field is the one exception.
                attrs.push(ir::Attribute {
                    name: named.value.clone(),
                    field_ident: naming::snake_ident(ttl_name)
                        .unwrap_or_else(|| "expires_at".into()),
                    ty: Type::Timestamp,
                    optional: true,
                    default: None,
                    doc: Some(
                        "When DynamoDB may delete the item (stored as epoch seconds).".into(),
                    ),
                    role: ir::AttrRole::Ttl,
                });
            }
            None => {
                let d = Diagnostic::error(
                    "dyngen::missing_ttl_attribute",
                    format!(
                        "entity `{}` asks for a TTL but the table has no `ttl_attribute`",
                        entity_name.value
                    ),
                )
                .label(cx.span(ttl), "ttl requested here")
                .help("add `ttl_attribute: expiresAt` (or another name) to the table");
                cx.error(d);
            }
        }
    }
    attrs
}

fn reserved_attribute_names(table: &ir::Table) -> BTreeMap<String, &'static str> {
    let mut m = BTreeMap::new();
    m.insert(table.partition_key.clone(), "partition key");
    m.insert(table.sort_key.clone(), "sort key");
    for ix in &table.indexes {
        m.insert(ix.partition_key.clone(), "index key attribute");
        if let Some(sk) = &ix.sort_key {
            m.insert(sk.clone(), "index key attribute");
        }
    }
    m.insert(table.entity_type_attribute.clone(), "entity-type attribute");
    if let Some(ttl) = &table.ttl_attribute {
        m.insert(ttl.clone(), "TTL attribute (use `ttl: true` on the entity)");
    }
    m
}

fn lower_attribute_type(
    cx: &mut Cx,
    entity_type: &str,
    name: &Sp<String>,
    attr: &Sp<ast::Attribute>,
) -> (Type, bool, Option<Literal>, Option<String>) {
    let spec = match &attr.value {
        ast::Attribute::Short(t) => {
            let ty = simple_type(cx, *t, None, None, entity_type, name, cx.span(attr));
            return (ty, false, None, None);
        }
        ast::Attribute::Full(spec) => spec,
    };
    let ty_span = cx.span(&spec.ty);
    if spec.values.is_some() && spec.ty.value != ast::AttrType::Enum {
        let d = Diagnostic::error(
            "dyngen::unexpected_values",
            "`values` only applies to `type: enum`",
        )
        .label(ty_span, "this type")
        .help("remove `values`, or make the attribute an enum");
        cx.error(d);
    }
    if spec.items.is_some() && !matches!(spec.ty.value, ast::AttrType::List | ast::AttrType::Map) {
        let d = Diagnostic::error(
            "dyngen::unexpected_items",
            "`items` only applies to `list` and `map`",
        )
        .label(ty_span, "this type")
        .help("remove `items`");
        cx.error(d);
    }
    let ty = simple_type(
        cx,
        spec.ty.value,
        spec.values.as_deref(),
        spec.items.as_ref(),
        entity_type,
        name,
        ty_span,
    );
    let default = spec.default.as_ref().and_then(|d| {
        let lit = literal(cx, &ty, d);
        if lit.is_some() && spec.optional {
            let diag = Diagnostic::error("dyngen::default_on_optional", "an optional attribute cannot have a default")
                .label(cx.span(d), "default given here")
                .help("either drop `optional: true` (absent values then read as the default) or drop the default");
            cx.error(diag);
        }
        lit
    });
    (ty, spec.optional, default, spec.doc.clone())
}

fn simple_type(
    cx: &mut Cx,
    t: ast::AttrType,
    values: Option<&[Sp<String>]>,
    items: Option<&Sp<ast::AttrType>>,
    entity_type: &str,
    name: &Sp<String>,
    span: Span,
) -> Type {
    use ast::AttrType as A;
    match t {
        A::String => Type::String,
        A::Integer => Type::Integer,
        A::Float => Type::Float,
        A::Bool => Type::Bool,
        A::Timestamp => Type::Timestamp,
        A::Date => Type::Date,
        A::StringSet => Type::StringSet,
        A::NumberSet => Type::NumberSet,
        A::Enum => Type::Enum(lower_enum(cx, values, entity_type, name, span)),
        A::List | A::Map => {
            let elem = match items {
                None => Type::String,
                Some(i) => match i.value {
                    A::String => Type::String,
                    A::Integer => Type::Integer,
                    A::Float => Type::Float,
                    A::Bool => Type::Bool,
                    A::Timestamp => Type::Timestamp,
                    A::Date => Type::Date,
                    _ => {
                        let d = Diagnostic::error(
                            "dyngen::unsupported_item_type",
                            "list and map elements must be scalar",
                        )
                        .label(cx.span(i), "not a scalar type")
                        .help("use string, integer, float, bool, timestamp or date");
                        cx.error(d);
                        Type::String
                    }
                },
            };
            if t == A::List {
                Type::List(Box::new(elem))
            } else {
                Type::Map(Box::new(elem))
            }
        }
    }
}

fn lower_enum(
    cx: &mut Cx,
    values: Option<&[Sp<String>]>,
    entity_type: &str,
    name: &Sp<String>,
    span: Span,
) -> ir::EnumType {
    let type_ident = format!(
        "{entity_type}{}",
        naming::type_ident(&name.value).unwrap_or_default()
    );
    let values = values.unwrap_or_default();
    if values.is_empty() {
        let d = Diagnostic::error(
            "dyngen::empty_enum",
            format!("enum attribute `{}` lists no values", name.value),
        )
        .label(span, "enum declared here")
        .help("add `values: [first, second]`");
        cx.error(d);
    }
    let mut variants: Vec<ir::EnumVariant> = Vec::new();
    let mut seen: BTreeMap<String, Span> = BTreeMap::new();
    for v in values {
        let Some(ident) = naming::variant_ident(&v.value) else {
            let d = Diagnostic::error(
                "dyngen::unusable_name",
                format!(
                    "enum value `{}` has no character a Rust variant could use",
                    v.value
                ),
            )
            .label(cx.span(v), "this value")
            .help("use letters or digits in enum values");
            cx.error(d);
            continue;
        };
        if let Some(prev) = seen.get(&ident) {
            let d = Diagnostic::error(
                "dyngen::name_collision",
                format!(
                    "enum value `{}` becomes the variant `{ident}` twice",
                    v.value
                ),
            )
            .label(cx.span(v), "this value")
            .label(*prev, "collides with this one")
            .help("enum values must differ after conversion to UpperCamelCase");
            cx.error(d);
            continue;
        }
        seen.insert(ident.clone(), cx.span(v));
        variants.push(ir::EnumVariant {
            value: v.value.clone(),
            ident,
        });
    }
    ir::EnumType {
        type_ident,
        variants,
    }
}

/// Checks a constant from the schema against a type.
fn literal(cx: &mut Cx, ty: &Type, v: &Sp<serde_json::Value>) -> Option<Literal> {
    use serde_json::Value as J;
    let lit = match (ty, &v.value) {
        (Type::String | Type::Date | Type::Timestamp, J::String(s)) => {
            if matches!(ty, Type::Date) && !is_iso_date(s) {
                None
            } else if matches!(ty, Type::Timestamp) {
                // Timestamps have no literal form in the schema: defaults would be frozen times.
                None
            } else {
                Some(Literal::String(s.clone()))
            }
        }
        (Type::Integer, J::Number(n)) => n.as_i64().map(Literal::Integer),
        (Type::Float, J::Number(n)) => n.as_f64().map(Literal::Float),
        (Type::Bool, J::Bool(b)) => Some(Literal::Bool(*b)),
        (Type::Enum(e), J::String(s)) => e
            .variants
            .iter()
            .position(|x| &x.value == s)
            .map(Literal::Enum),
        (Type::List(_) | Type::Map(_) | Type::StringSet | Type::NumberSet, J::Array(a))
            if a.is_empty() && !matches!(ty, Type::Map(_)) =>
        {
            Some(Literal::Empty)
        }
        (Type::Map(_), J::Object(o)) if o.is_empty() => Some(Literal::Empty),
        _ => None,
    };
    if lit.is_none() {
        let expected = match ty {
            Type::Enum(e) => format!(
                "one of {}",
                e.variants
                    .iter()
                    .map(|v| format!("`{}`", v.value))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Type::Date => "a date such as \"2024-01-31\"".into(),
            Type::Timestamp => "nothing: timestamps have no constant form".into(),
            Type::List(_) | Type::StringSet | Type::NumberSet => "an empty list `[]`".into(),
            Type::Map(_) => "an empty map `{}`".into(),
            other => format!("a {}", type_word(other)),
        };
        let d = Diagnostic::error(
            "dyngen::literal_type_mismatch",
            format!(
                "this value does not fit the attribute's type ({})",
                type_word(ty)
            ),
        )
        .label(cx.span(v), "this value")
        .help(format!("expected {expected}"));
        cx.error(d);
    }
    lit
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u32>().unwrap_or(0))
}

pub fn type_word(ty: &Type) -> &'static str {
    match ty {
        Type::String => "string",
        Type::Integer => "integer",
        Type::Float => "float",
        Type::Bool => "bool",
        Type::Timestamp => "timestamp",
        Type::Date => "date",
        Type::Enum(_) => "enum",
        Type::List(_) => "list",
        Type::StringSet => "string_set",
        Type::NumberSet => "number_set",
        Type::Map(_) => "map",
    }
}

// ---------------------------------------------------------------------------------------
// Key templates

fn lower_keys(
    cx: &mut Cx,
    entity_name: &Sp<String>,
    entity: &ast::Entity,
    table: &ir::Table,
    attrs: &[ir::Attribute],
    key_spans: &mut Vec<(Span, Option<Span>)>,
) -> Vec<ir::EntityKey> {
    let mut keys: Vec<ir::EntityKey> = Vec::new();
    for (index_name, k) in entity.keys.iter() {
        let Some(index) = index_ref(table, &index_name.value) else {
            let d = Diagnostic::error(
                "dyngen::unknown_index",
                format!(
                    "entity `{}` has keys for `{}`, which the table does not declare",
                    entity_name.value, index_name.value
                ),
            )
            .label(cx.span(index_name), "unknown index")
            .help(format!("known indexes: {}", index_names(table)));
            cx.error(d);
            continue;
        };
        let index_has_sk = match index {
            IndexRef::Primary => true,
            IndexRef::Gsi(i) => table.indexes[i].sort_key.is_some(),
        };
        match (&k.value.sk, index_has_sk) {
            (None, true) => {
                let d = Diagnostic::error(
                    "dyngen::missing_sort_template",
                    format!(
                        "index `{}` has a sort key, so the entity needs an `sk` template for it",
                        index_name.value
                    ),
                )
                .label(cx.span(k), "no `sk` here")
                .help("add `sk: \"...\"`; a constant such as `company#` is fine");
                cx.error(d);
            }
            (Some(sk), false) => {
                let d = Diagnostic::error(
                    "dyngen::unexpected_sort_template",
                    format!("index `{}` has no sort key", index_name.value),
                )
                .label(cx.span(sk), "this template has nowhere to go")
                .help("remove `sk`, or give the index a `sort_key`");
                cx.error(d);
            }
            _ => {}
        }
        let pk = parse_template(cx, &k.value.pk, attrs);
        let sk = k
            .value
            .sk
            .as_ref()
            .filter(|_| index_has_sk)
            .and_then(|s| parse_template(cx, s, attrs));
        let (Some(pk), true) = (pk, k.value.sk.is_none() || !index_has_sk || sk.is_some()) else {
            cx.broken_keys
                .insert((entity_name.value.clone(), index_name.value.clone()));
            continue;
        };
        let uses_optional = pk
            .placeholders()
            .chain(sk.iter().flat_map(|s| s.placeholders()))
            .any(|p| attrs[p.attr].optional);
        if index == IndexRef::Primary && uses_optional {
            let d = Diagnostic::error("dyngen::optional_in_primary_key", "the primary key cannot use an optional attribute")
                .label(cx.span(k), "primary key templates")
                .help("every item needs its primary key; make the attribute required, or move this key to a GSI (a sparse index)");
            cx.error(d);
        }
        keys.push(ir::EntityKey {
            index,
            pk,
            sk,
            sparse: uses_optional,
        });
        key_spans.push((
            cx.span(&k.value.pk),
            k.value.sk.as_ref().map(|s| cx.span(s)),
        ));
    }
    let declared_primary = entity.keys.iter().any(|(n, _)| n.value == "primary");
    if !declared_primary {
        let d = Diagnostic::error(
            "dyngen::missing_primary_key",
            format!(
                "entity `{}` has no `primary` key templates",
                entity_name.value
            ),
        )
        .label(cx.span(entity_name), "entity declared here")
        .help("add `keys: {primary: {pk: \"...\", sk: \"...\"}}`");
        cx.error(d);
    } else if keys.iter().any(|k| k.index == IndexRef::Primary)
        && keys[0].index != IndexRef::Primary
    {
        // Keep the primary key first; emitters rely on it.
        let i = keys
            .iter()
            .position(|k| k.index == IndexRef::Primary)
            .expect("checked above");
        let primary = keys.remove(i);
        keys.insert(0, primary);
        let s = key_spans.remove(i);
        key_spans.insert(0, s);
    }
    keys
}

/// Parses `lit{attr}lit{attr:year}` into parts.
fn parse_template(cx: &mut Cx, t: &Sp<String>, attrs: &[ir::Attribute]) -> Option<ir::Template> {
    let base = cx.span(t);
    // The span of a quoted scalar starts at the quote; offsets inside are best effort.
    let quoted = cx
        .src
        .text
        .get(base.offset..)
        .is_some_and(|r| r.starts_with(['"', '\'']));
    let inner = |start: usize, len: usize| Span {
        offset: base.offset + start + usize::from(quoted),
        len,
    };
    let text = &t.value;
    if text.is_empty() {
        let d = Diagnostic::error("dyngen::empty_template", "a key template cannot be empty")
            .label(base, "empty")
            .help("DynamoDB rejects empty key values; use a constant such as `user#`");
        cx.error(d);
        return None;
    }
    if text.starts_with("#dyngen") {
        let d = Diagnostic::error("dyngen::reserved_key_prefix", "key templates cannot start with `#dyngen`")
            .label(base, "reserved prefix")
            .help("the migration runner keeps its ledger and lock under `#dyngen#...` keys; choose another prefix");
        cx.error(d);
        return None;
    }
    let mut parts = Vec::new();
    let mut ok = true;
    let mut rest = text.as_str();
    let mut pos = 0usize;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            Some(i) if rest.as_bytes()[i] == b'}' => {
                let d = Diagnostic::error(
                    "dyngen::template_syntax",
                    "`}` without a matching `{` in key template",
                )
                .label(inner(pos + i, 1), "unmatched")
                .help("placeholders are written `{attribute}`");
                cx.error(d);
                return None;
            }
            Some(i) => {
                if i > 0 {
                    parts.push(Part::Literal(rest[..i].to_string()));
                }
                let Some(close) = rest[i..].find('}') else {
                    let d = Diagnostic::error(
                        "dyngen::template_syntax",
                        "`{` without a matching `}` in key template",
                    )
                    .label(inner(pos + i, 1), "unclosed")
                    .help("placeholders are written `{attribute}`");
                    cx.error(d);
                    return None;
                };
                let body = &rest[i + 1..i + close];
                let span = inner(pos + i, close + 1);
                if i == 0
                    && let Some(Part::Placeholder(_)) = parts.last()
                {
                    {
                        let d = Diagnostic::error(
                            "dyngen::adjacent_placeholders",
                            "two placeholders with nothing between them cannot be told apart",
                        )
                        .label(span, "follows another placeholder directly")
                        .help("put a delimiter between them, e.g. `{a}#{b}`");
                        cx.error(d);
                        ok = false;
                    }
                }
                match resolve_placeholder(cx, body, span, attrs) {
                    Some(p) => parts.push(Part::Placeholder(p)),
                    None => ok = false,
                }
                pos += i + close + 1;
                rest = &rest[i + close + 1..];
            }
            None => {
                parts.push(Part::Literal(rest.to_string()));
                break;
            }
        }
    }
    ok.then(|| ir::Template {
        source: text.clone(),
        parts,
    })
}

fn resolve_placeholder(
    cx: &mut Cx,
    body: &str,
    span: Span,
    attrs: &[ir::Attribute],
) -> Option<Placeholder> {
    let (name, format) = match body.split_once(':') {
        Some((n, f)) => (n, Some(f)),
        None => (body, None),
    };
    let Some(attr) = attrs.iter().position(|a| a.name == name) else {
        let mut d = Diagnostic::error(
            "dyngen::unknown_placeholder",
            format!("placeholder `{{{body}}}` names no attribute of this entity"),
        )
        .label(span, "unknown attribute");
        d = match closest(name, attrs.iter().map(|a| a.name.as_str())) {
            Some(c) => d.help(format!("did you mean `{{{c}}}`?")),
            None => d.help("declare the attribute under `attributes:`, or fix the placeholder"),
        };
        cx.error(d);
        return None;
    };
    let ty = &attrs[attr].ty;
    if !ty.is_key_compatible() {
        let d = Diagnostic::error(
            "dyngen::non_key_type",
            format!(
                "attribute `{name}` is a {}, which cannot be part of a key",
                type_word(ty)
            ),
        )
        .label(span, "used in a key template")
        .help("keys can use string, integer, bool, date, timestamp and enum attributes");
        cx.error(d);
        return None;
    }
    let format = match format {
        None => PlaceholderFormat::Value,
        Some("year") if matches!(ty, Type::Date | Type::Timestamp) => PlaceholderFormat::Year,
        Some(f) => {
            let d = Diagnostic::error(
                "dyngen::unknown_placeholder_format",
                format!("`{f}` is not a format dyngen knows for a {}", type_word(ty)),
            )
            .label(span, "this placeholder")
            .help("the only format is `:year`, on date and timestamp attributes");
            cx.error(d);
            return None;
        }
    };
    Some(Placeholder { attr, format })
}

/// The candidate within edit distance 2, for "did you mean".
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A key attribute holds one DynamoDB type for every entity: `N` where a template is a
/// single integer placeholder, `S` otherwise.
pub fn template_is_numeric(t: &ir::Template, attrs: &[ir::Attribute]) -> bool {
    matches!(t.parts.as_slice(), [Part::Placeholder(p)] if p.format == PlaceholderFormat::Value && attrs[p.attr].ty == Type::Integer)
}

fn check_key_attribute_types(
    cx: &mut Cx,
    table: &ir::Table,
    entities: &[ir::Entity],
    spans: &Spans,
) {
    // key attribute → (numeric?, entity name, span)
    let mut seen: BTreeMap<String, (bool, String, Span)> = BTreeMap::new();
    for (e, entity) in entities.iter().enumerate() {
        for (i, key) in entity.keys.iter().enumerate() {
            let (pk_attr, sk_attr) = match key.index {
                IndexRef::Primary => (table.partition_key.clone(), Some(table.sort_key.clone())),
                IndexRef::Gsi(g) => (
                    table.indexes[g].partition_key.clone(),
                    table.indexes[g].sort_key.clone(),
                ),
            };
            let templates = std::iter::once((pk_attr, Some(&key.pk)))
                .chain(sk_attr.map(|s| (s, key.sk.as_ref())));
            for (attr, tpl) in templates {
                let Some(tpl) = tpl else { continue };
                let numeric = template_is_numeric(tpl, &entity.attributes);
                let (pk_span, sk_span) = spans.keys[e][i];
                let span = if std::ptr::eq(tpl, &key.pk) {
                    pk_span
                } else {
                    sk_span.unwrap_or(pk_span)
                };
                match seen.get(&attr) {
                    Some((other, other_entity, other_span)) if *other != numeric => {
                        let d = Diagnostic::error("dyngen::key_type_conflict", format!("key attribute `{attr}` would be a {} for `{}` but a {} for `{other_entity}`", if numeric { "number" } else { "string" }, entity.name, if *other { "number" } else { "string" }))
                            .label(span, "here")
                            .label(*other_span, "and here")
                            .help("DynamoDB defines one type per key attribute; a template that is a single integer placeholder is a number, anything else a string");
                        cx.error(d);
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(attr, (numeric, entity.name.clone(), span));
                    }
                }
            }
        }
    }
}

fn check_type_name_collisions(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    entities: &[ir::Entity],
    patterns: &[ir::Pattern],
) {
    let mut taken: BTreeMap<String, (String, Span)> = BTreeMap::new();
    for ((name, _), p) in file
        .access_patterns
        .iter()
        .filter(|(n, _)| patterns.iter().any(|p| p.name == n.value))
        .zip(patterns)
    {
        // Collections and projections get a `<Pattern>Item` type.
        taken.insert(
            format!("{}Item", p.type_ident),
            (format!("pattern {} (Item type)", p.name), cx.span(name)),
        );
    }
    for ((name, ast_entity), entity) in file.entities.iter().zip(entities) {
        let mut names = vec![(entity.type_ident.clone(), name.value.clone(), cx.span(name))];
        // When the entity's own name collides, its derived names would only repeat that.
        if !taken.contains_key(&entity.type_ident) {
            for suffix in ["Key", "Update"] {
                names.push((
                    format!("{}{suffix}", entity.type_ident),
                    format!("{} ({suffix} type)", name.value),
                    cx.span(name),
                ));
            }
        }
        for (attr_name, _) in ast_entity.value.attributes.iter() {
            if let Some(a) = entity.attributes.iter().find(|a| a.name == attr_name.value)
                && let Type::Enum(e) = &a.ty
            {
                names.push((
                    e.type_ident.clone(),
                    format!("{}.{}", name.value, a.name),
                    cx.span(attr_name),
                ));
            }
        }
        for (ident, what, span) in names {
            if let Some((other, other_span)) = taken.get(&ident) {
                let d = Diagnostic::error("dyngen::name_collision", format!("`{what}` and `{other}` both become the Rust type `{ident}`"))
                    .label(span, "this one")
                    .label(*other_span, "collides with this one")
                    .help("rename one of them; enum types are named entity + attribute, key and update types entity + `Key` / `Update`, pattern result types pattern + `Item`");
                cx.error(d);
            } else {
                taken.insert(ident, (what, span));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Access patterns

fn lower_patterns(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    table: &ir::Table,
    entities: &[ir::Entity],
    spans: &mut Spans,
) -> Vec<ir::Pattern> {
    let mut out = Vec::new();
    for (name, p) in file.access_patterns.iter() {
        if let Some(pattern) = lower_pattern(cx, name, &p.value, table, entities) {
            spans.pattern.push(cx.span(name));
            spans
                .pattern_sort
                .push(p.value.sort.as_ref().map_or(cx.span(name), |s| cx.span(s)));
            out.push(pattern);
        }
    }
    out
}

fn entity_index(entities: &[ir::Entity], name: &str) -> Option<usize> {
    entities.iter().position(|e| e.name == name)
}

fn lower_pattern(
    cx: &mut Cx,
    name: &Sp<String>,
    p: &ast::AccessPattern,
    table: &ir::Table,
    entities: &[ir::Entity],
) -> Option<ir::Pattern> {
    let name_span = cx.span(name);
    let method_ident = naming::snake_ident(&name.value);
    let type_ident = naming::type_ident(&name.value);
    let (Some(method_ident), Some(type_ident)) = (method_ident, type_ident) else {
        let d = Diagnostic::error(
            "dyngen::unusable_name",
            format!(
                "`{}` has no character a Rust method name could use",
                name.value
            ),
        )
        .label(name_span, "pattern name")
        .help("use letters in pattern names, e.g. `usersOfCompany`");
        cx.error(d);
        return None;
    };
    let entity_refs: Vec<&Sp<String>> = match (&p.entity, &p.entities) {
        (Some(e), None) => vec![e],
        (None, Some(list)) if !list.is_empty() => list.iter().collect(),
        (Some(_), Some(_)) => {
            let d = Diagnostic::error(
                "dyngen::entity_and_entities",
                "a pattern gives either `entity` or `entities`, not both",
            )
            .label(name_span, "this pattern")
            .help("use `entity` for one entity, `entities` for an item collection");
            cx.error(d);
            return None;
        }
        _ => {
            let d = Diagnostic::error(
                "dyngen::missing_entity",
                format!(
                    "pattern `{}` does not say which entity it returns",
                    name.value
                ),
            )
            .label(name_span, "this pattern")
            .help("add `entity: User` (or `entities: [A, B]` for an item collection)");
            cx.error(d);
            return None;
        }
    };
    let mut ents = Vec::new();
    for e in &entity_refs {
        match entity_index(entities, &e.value) {
            Some(i) if !ents.contains(&i) => ents.push(i),
            Some(_) => {
                let d = Diagnostic::error(
                    "dyngen::duplicate_entity",
                    format!("entity `{}` is listed twice", e.value),
                )
                .label(cx.span(e), "again")
                .help("list each entity once");
                cx.error(d);
            }
            None => {
                let mut d = Diagnostic::error(
                    "dyngen::unknown_entity",
                    format!(
                        "pattern `{}` returns `{}`, which is not an entity",
                        name.value, e.value
                    ),
                )
                .label(cx.span(e), "unknown entity");
                d = match closest(&e.value, entities.iter().map(|e| e.name.as_str())) {
                    Some(c) => d.help(format!("did you mean `{c}`?")),
                    None => d.help("declare it under `entities:`"),
                };
                cx.error(d);
            }
        }
    }
    if ents.len() != entity_refs.len() {
        return None;
    }
    let index = match &p.index {
        None => IndexRef::Primary,
        Some(ix) => match index_ref(table, &ix.value) {
            Some(i) => i,
            None => {
                let d = Diagnostic::error(
                    "dyngen::unknown_index",
                    format!(
                        "pattern `{}` queries `{}`, which the table does not declare",
                        name.value, ix.value
                    ),
                )
                .label(cx.span(ix), "unknown index")
                .help(format!("known indexes: {}", index_names(table)));
                cx.error(d);
                return None;
            }
        },
    };
    let index_span = p.index.as_ref().map_or(name_span, |i| cx.span(i));
    for &e in &ents {
        if entities[e].key_for(index).is_none() {
            if cx.broken_keys.contains(&(
                entities[e].name.clone(),
                table.index_name(index).to_string(),
            )) {
                return None;
            }
            let d = Diagnostic::error(
                "dyngen::entity_not_in_index",
                format!(
                    "entity `{}` has no key templates for index `{}`",
                    entities[e].name,
                    p.index.as_ref().map_or("primary", |i| i.value.as_str())
                ),
            )
            .label(index_span, "queried here")
            .help(format!(
                "add keys for this index to `{}`, or query another index",
                entities[e].name
            ));
            cx.error(d);
            return None;
        }
    }
    let first = &entities[ents[0]];
    let key = first.key_for(index).expect("checked above");

    // Inputs and fixed values: placeholders of the first entity's templates on this index.
    let in_templates = |ph: &Placeholder| {
        key.pk
            .placeholders()
            .chain(key.sk.iter().flat_map(|s| s.placeholders()))
            .any(|x| x == ph)
    };
    let mut inputs: Vec<ir::Input> = Vec::new();
    let mut given: Vec<Placeholder> = Vec::new();
    let mut params: BTreeMap<String, Span> = BTreeMap::new();
    for input in &p.inputs {
        let span = cx.span(input);
        let Some(ph) = pattern_placeholder(cx, &input.value, span, first, &in_templates) else {
            continue;
        };
        if given.contains(&ph) {
            let d = Diagnostic::error(
                "dyngen::duplicate_input",
                format!("input `{}` is given twice", input.value),
            )
            .label(span, "again")
            .help("list each input once");
            cx.error(d);
            continue;
        }
        let param = first.placeholder_ident(&ph);
        params.insert(naming::bare(&param).to_string(), span);
        given.push(ph.clone());
        inputs.push(ir::Input {
            placeholder: ph,
            param_ident: param,
        });
    }
    let mut fixed = Vec::new();
    for (k, v) in p.fixed.iter() {
        let span = cx.span(k);
        let Some(ph) = pattern_placeholder(cx, &k.value, span, first, &in_templates) else {
            continue;
        };
        if given.contains(&ph) {
            let d = Diagnostic::error(
                "dyngen::duplicate_input",
                format!("`{}` is both an input and fixed", k.value),
            )
            .label(span, "fixed here")
            .help("either the caller gives it or the pattern fixes it");
            cx.error(d);
            continue;
        }
        let ty = if ph.format == PlaceholderFormat::Year {
            Type::Integer
        } else {
            first.attributes[ph.attr].ty.clone()
        };
        if let Some(lit) = literal(cx, &ty, v) {
            given.push(ph.clone());
            fixed.push((ph, lit));
        }
    }

    // The partition key must be fully determined.
    let missing: Vec<String> = key
        .pk
        .placeholders()
        .filter(|ph| !given.contains(ph))
        .map(|ph| placeholder_name(first, ph))
        .collect();
    if !missing.is_empty() {
        let d = Diagnostic::error(
            "dyngen::partition_key_not_determined",
            format!(
                "pattern `{}` does not determine the partition key `{}`",
                name.value, key.pk.source
            ),
        )
        .label(name_span, format!("missing: {}", missing.join(", ")))
        .help(format!(
            "add {} to `inputs` (a Query needs the whole partition key; dyngen never scans)",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        cx.error(d);
    }
    for &e in &ents[1..] {
        let other = entities[e].key_for(index).expect("checked above");
        if !same_shape(
            &key.pk,
            &first.attributes,
            &other.pk,
            &entities[e].attributes,
        ) {
            let d = Diagnostic::error("dyngen::collection_partition_mismatch", format!("`{}` and `{}` do not share a partition on this index: `{}` vs `{}`", first.name, entities[e].name, key.pk.source, other.pk.source))
                .label(name_span, "item collection")
                .help("an item collection needs partition key templates with the same literals and placeholder types");
            cx.error(d);
        }
    }

    let sort = sort_condition(cx, name, p, &ents, key, first, &given, index_span);
    if let ir::SortCondition::Compare { range, op } = &sort {
        let base = first.placeholder_ident(range);
        let names: Vec<String> = if *op == ir::CompareOp::Between {
            vec![
                format!("{}_from", naming::bare(&base)),
                format!("{}_to", naming::bare(&base)),
            ]
        } else {
            vec![naming::bare(&base).to_string()]
        };
        for n in names {
            params.insert(n, name_span);
        }
    }

    let limit = p.limit.as_ref().and_then(|l| {
        if l.value == 0 {
            let d = Diagnostic::error("dyngen::zero_limit", "a limit of 0 reads nothing")
                .label(cx.span(l), "zero")
                .help("remove `limit` or give a positive page size");
            cx.error(d);
            None
        } else {
            Some(l.value)
        }
    });
    if let Some(list) = &p.projection
        && list.is_empty()
    {
        let d = Diagnostic::error(
            "dyngen::empty_projection",
            "a projection must name at least one attribute",
        )
        .label(name_span, "this pattern")
        .help("list the attributes to read, or remove `projection` to read whole items");
        cx.error(d);
    }
    let projection = p.projection.as_ref().map(|list| {
        list.iter()
            .filter(|a| {
                let known = ents
                    .iter()
                    .any(|&e| entities[e].attributes.iter().any(|x| x.name == a.value));
                if !known {
                    let d = Diagnostic::error(
                        "dyngen::unknown_attribute",
                        format!(
                            "projection names `{}`, which the pattern's entities do not have",
                            a.value
                        ),
                    )
                    .label(cx.span(a), "unknown attribute")
                    .help("list attributes of the returned entities");
                    cx.error(d);
                }
                known
            })
            .map(|a| a.value.clone())
            .collect()
    });
    check_index_projection(
        cx,
        name_span,
        p,
        table,
        index,
        &ents,
        entities,
        projection.as_ref(),
    );
    let mut filters = Vec::new();
    for f in &p.filter {
        if let Some(filter) = lower_filter(cx, f, first, &mut params) {
            filters.push(filter);
        }
    }
    let mut consumers: Vec<String> = p.consumers.iter().map(|c| c.value.clone()).collect();
    for c in &p.consumers {
        if naming::snake_ident(&c.value).is_none()
            || !c
                .value
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        {
            let d = Diagnostic::error(
                "dyngen::invalid_consumer",
                format!(
                    "consumer name `{}` must use only letters, digits, `_` and `-`",
                    c.value
                ),
            )
            .label(cx.span(c), "this consumer")
            .help("consumer names become Terraform and IAM identifiers");
            cx.error(d);
        }
    }
    consumers.sort();
    consumers.dedup();
    Some(ir::Pattern {
        name: name.value.clone(),
        method_ident,
        type_ident,
        doc: p.doc.clone(),
        entities: ents,
        index,
        inputs,
        fixed,
        sort,
        descending: p
            .order
            .as_ref()
            .is_some_and(|o| o.value == ast::Order::Desc),
        limit,
        projection,
        filters,
        consumers,
        range_params: Vec::new(),
    })
}

/// A pattern on an index that projects only some attributes must say which it reads, and
/// may read only those the index has.
#[allow(clippy::too_many_arguments)]
fn check_index_projection(
    cx: &mut Cx,
    name_span: Span,
    p: &ast::AccessPattern,
    table: &ir::Table,
    index: IndexRef,
    ents: &[usize],
    entities: &[ir::Entity],
    projection: Option<&Vec<String>>,
) {
    let IndexRef::Gsi(g) = index else { return };
    let ix = &table.indexes[g];
    let available: Option<&[String]> = match &ix.projection {
        ir::Projection::All => return,
        ir::Projection::KeysOnly => Some(&[]),
        ir::Projection::Include(list) => Some(list),
    };
    let available = available.unwrap_or_default();
    match projection {
        None => {
            let missing: Vec<&str> = ents
                .iter()
                .flat_map(|&e| entities[e].attributes.iter())
                .map(|a| a.name.as_str())
                .filter(|a| !available.iter().any(|x| x == a))
                .collect();
            if !missing.is_empty() {
                let d = Diagnostic::error("dyngen::index_projection_too_narrow", format!("index `{}` does not project {}, so whole items cannot be read from it", ix.name, missing.iter().take(4).map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")))
                    .label(name_span, "reads whole items")
                    .help(format!("add `projection: [...]` to the pattern listing attributes the index has{}, or project `all` on the index", if available.is_empty() { String::new() } else { format!(" ({})", available.join(", ")) }));
                cx.error(d);
            }
        }
        Some(list) => {
            for a in list.iter().filter(|a| !available.iter().any(|x| x == *a)) {
                let span = p
                    .projection
                    .as_ref()
                    .and_then(|l| l.iter().find(|x| &x.value == a))
                    .map_or(name_span, |x| cx.span(x));
                let d = Diagnostic::error("dyngen::attribute_not_projected", format!("index `{}` does not project `{a}`", ix.name))
                    .label(span, "not in the index")
                    .help(format!("add `{a}` to the index's `include` list, or drop it from the pattern's projection"));
                cx.error(d);
            }
        }
    }
    if ents.len() > 1 && projection.is_some() {
        let d = Diagnostic::error(
            "dyngen::collection_projection",
            "an item collection reads whole items; it takes no projection",
        )
        .label(name_span, "item collection")
        .help("remove `projection`");
        cx.error(d);
    }
}

fn placeholder_name(entity: &ir::Entity, ph: &Placeholder) -> String {
    let base = &entity.attributes[ph.attr].name;
    match ph.format {
        PlaceholderFormat::Value => base.clone(),
        PlaceholderFormat::Year => format!("{base}:year"),
    }
}

fn pattern_placeholder(
    cx: &mut Cx,
    text: &str,
    span: Span,
    entity: &ir::Entity,
    in_templates: &dyn Fn(&Placeholder) -> bool,
) -> Option<Placeholder> {
    let (name, format) = match text.split_once(':') {
        Some((n, "year")) => (n, PlaceholderFormat::Year),
        Some((_, f)) => {
            let d = Diagnostic::error(
                "dyngen::unknown_placeholder_format",
                format!("`{f}` is not a placeholder format"),
            )
            .label(span, "this input")
            .help("the only format is `:year`");
            cx.error(d);
            return None;
        }
        None => (text, PlaceholderFormat::Value),
    };
    let Some(attr) = entity.attributes.iter().position(|a| a.name == name) else {
        let mut d = Diagnostic::error(
            "dyngen::unknown_input",
            format!("input `{text}` names no attribute of `{}`", entity.name),
        )
        .label(span, "unknown attribute");
        d = match closest(name, entity.attributes.iter().map(|a| a.name.as_str())) {
            Some(c) => d.help(format!("did you mean `{c}`?")),
            None => d.help(
                "inputs name placeholders of the entity's key templates on the queried index",
            ),
        };
        cx.error(d);
        return None;
    };
    let ph = Placeholder { attr, format };
    if !in_templates(&ph) {
        let d = Diagnostic::error(
            "dyngen::input_not_in_key",
            format!(
                "`{text}` is not a placeholder of `{}`'s key templates on this index",
                entity.name
            ),
        )
        .label(span, "not part of the key")
        .help("to narrow results by a non-key attribute, use `filter:`");
        cx.error(d);
        return None;
    }
    Some(ph)
}

fn same_shape(
    a: &ir::Template,
    a_attrs: &[ir::Attribute],
    b: &ir::Template,
    b_attrs: &[ir::Attribute],
) -> bool {
    a.parts.len() == b.parts.len()
        && a.parts.iter().zip(&b.parts).all(|(x, y)| match (x, y) {
            (Part::Literal(l), Part::Literal(r)) => l == r,
            (Part::Placeholder(p), Part::Placeholder(q)) => {
                p.format == q.format && a_attrs[p.attr].ty == b_attrs[q.attr].ty
            }
            _ => false,
        })
}

#[allow(clippy::too_many_arguments)]
fn sort_condition(
    cx: &mut Cx,
    name: &Sp<String>,
    p: &ast::AccessPattern,
    ents: &[usize],
    key: &ir::EntityKey,
    first: &ir::Entity,
    given: &[Placeholder],
    index_span: Span,
) -> ir::SortCondition {
    let op_span = p.sort.as_ref().map_or(cx.span(name), |s| cx.span(s));
    let Some(sk) = &key.sk else {
        if let Some(op) = &p.sort {
            let d = Diagnostic::error(
                "dyngen::sort_without_sort_key",
                "this index has no sort key to put a condition on",
            )
            .label(cx.span(op), "sort condition")
            .help("remove `sort`");
            cx.error(d);
        }
        return ir::SortCondition::None;
    };
    if ents.len() > 1 {
        if p.sort.is_some() {
            let d = Diagnostic::error(
                "dyngen::collection_sort",
                "an item collection reads the whole partition; it takes no sort condition",
            )
            .label(op_span, "sort condition")
            .help("remove `sort`, or query one entity");
            cx.error(d);
        }
        return ir::SortCondition::None;
    }
    let phs: Vec<&Placeholder> = sk.placeholders().collect();
    let leading = phs.iter().take_while(|ph| given.contains(ph)).count();
    if let Some(late) = phs[leading..].iter().find(|ph| given.contains(ph)) {
        let d = Diagnostic::error("dyngen::sort_input_gap", format!("sort-key input `{}` comes after `{}`, which is not given", placeholder_name(first, late), placeholder_name(first, phs[leading])))
            .label(index_span, format!("sort key template `{}`", sk.source))
            .help("a key condition can only fix a prefix of the sort key: give the earlier placeholders too");
        cx.error(d);
    }
    let numeric = template_is_numeric(sk, &first.attributes);
    use ast::SortOp as S;
    let requested = p.sort.as_ref().map(|s| s.value);
    match requested {
        None if leading == phs.len() => ir::SortCondition::Equals,
        None if leading == 0 && sk.literal_prefix().is_empty() => ir::SortCondition::None,
        None => ir::SortCondition::BeginsWith,
        Some(S::Equals) => {
            if leading < phs.len() {
                let d = Diagnostic::error(
                    "dyngen::sort_not_determined",
                    format!(
                        "`equals` needs every sort-key placeholder; `{}` is not given",
                        placeholder_name(first, phs[leading])
                    ),
                )
                .label(op_span, "equals")
                .help("add the missing placeholders to `inputs`, or use `begins_with`");
                cx.error(d);
            }
            ir::SortCondition::Equals
        }
        Some(S::BeginsWith) => {
            if numeric {
                let d = Diagnostic::error(
                    "dyngen::begins_with_on_number",
                    format!(
                        "the sort key `{}` is a number; begins_with works only on strings",
                        sk.source
                    ),
                )
                .label(op_span, "begins_with")
                .help("use `between`, `lt`, `lte`, `gt` or `gte` on a number sort key");
                cx.error(d);
            }
            ir::SortCondition::BeginsWith
        }
        Some(op) => {
            let op = match op {
                S::Between => ir::CompareOp::Between,
                S::Lt => ir::CompareOp::Lt,
                S::Lte => ir::CompareOp::Lte,
                S::Gt => ir::CompareOp::Gt,
                S::Gte => ir::CompareOp::Gte,
                S::Equals | S::BeginsWith => unreachable!("handled above"),
            };
            match phs.get(leading) {
                Some(range) => ir::SortCondition::Compare {
                    op,
                    range: (*range).clone(),
                },
                None => {
                    let d = Diagnostic::error("dyngen::nothing_to_compare", "every sort-key placeholder is already given, so there is nothing left to compare")
                        .label(op_span, "comparison")
                        .help("drop the last sort-key input (the caller then bounds it), or use `equals`");
                    cx.error(d);
                    ir::SortCondition::Equals
                }
            }
        }
    }
}

fn lower_filter(
    cx: &mut Cx,
    f: &Sp<ast::Filter>,
    entity: &ir::Entity,
    params: &mut BTreeMap<String, Span>,
) -> Option<ir::Filter> {
    let attr_name = &f.value.attribute;
    let Some(attr) = entity
        .attributes
        .iter()
        .position(|a| a.name == attr_name.value)
    else {
        let mut d = Diagnostic::error(
            "dyngen::unknown_attribute",
            format!(
                "filter on `{}`, which `{}` does not have",
                attr_name.value, entity.name
            ),
        )
        .label(cx.span(attr_name), "unknown attribute");
        d = match closest(
            &attr_name.value,
            entity.attributes.iter().map(|a| a.name.as_str()),
        ) {
            Some(c) => d.help(format!("did you mean `{c}`?")),
            None => d.help("filter on one of the entity's attributes"),
        };
        cx.error(d);
        return None;
    };
    let ty = &entity.attributes[attr].ty;
    use ast::FilterOp as F;
    let op = match f.value.op.value {
        F::Eq => ir::FilterOp::Eq,
        F::Ne => ir::FilterOp::Ne,
        F::Lt => ir::FilterOp::Lt,
        F::Lte => ir::FilterOp::Lte,
        F::Gt => ir::FilterOp::Gt,
        F::Gte => ir::FilterOp::Gte,
        F::BeginsWith => ir::FilterOp::BeginsWith,
        F::Contains => ir::FilterOp::Contains,
        F::Exists => ir::FilterOp::Exists,
        F::NotExists => ir::FilterOp::NotExists,
    };
    let fits = match op {
        ir::FilterOp::Eq | ir::FilterOp::Ne | ir::FilterOp::Exists | ir::FilterOp::NotExists => {
            true
        }
        ir::FilterOp::Lt | ir::FilterOp::Lte | ir::FilterOp::Gt | ir::FilterOp::Gte => matches!(
            ty,
            Type::String | Type::Integer | Type::Float | Type::Timestamp | Type::Date
        ),
        ir::FilterOp::BeginsWith => matches!(ty, Type::String),
        ir::FilterOp::Contains => matches!(ty, Type::String | Type::StringSet),
    };
    if !fits
        || (op.takes_value()
            && matches!(ty, Type::List(_) | Type::Map(_) | Type::NumberSet)
            && op != ir::FilterOp::Contains)
    {
        let d = Diagnostic::error("dyngen::filter_type_mismatch", format!("`{:?}` does not apply to a {} attribute", f.value.op.value, type_word(ty)).to_lowercase())
            .label(cx.span(&f.value.op), "this operator")
            .help("begins_with and contains take strings (contains also string sets); comparisons take strings, numbers, dates and timestamps");
        cx.error(d);
        return None;
    }
    let (value, param_ident) = match (&f.value.value, op.takes_value()) {
        (Some(v), true) => {
            let lit_ty = if op == ir::FilterOp::Contains && *ty == Type::StringSet {
                Type::String
            } else {
                ty.clone()
            };
            (Some(literal(cx, &lit_ty, v)?), None)
        }
        (Some(v), false) => {
            let d = Diagnostic::error(
                "dyngen::unexpected_filter_value",
                "`exists` and `not_exists` take no value",
            )
            .label(cx.span(v), "value given here")
            .help("remove `value`");
            cx.error(d);
            return None;
        }
        (None, true) => {
            let ident = entity.attributes[attr].field_ident.clone();
            if let Some(prev) = params.get(naming::bare(&ident)) {
                let d = Diagnostic::error(
                    "dyngen::name_collision",
                    format!(
                        "the filter parameter `{}` has the same name as another parameter",
                        naming::bare(&ident)
                    ),
                )
                .label(cx.span(attr_name), "this filter's value is a parameter")
                .label(*prev, "the other parameter")
                .help("give the filter a constant `value`, or filter on another attribute");
                cx.error(d);
                return None;
            }
            params.insert(naming::bare(&ident).to_string(), cx.span(attr_name));
            (None, Some(ident))
        }
        (None, false) => (None, None),
    };
    Some(ir::Filter {
        attr,
        op,
        value,
        param_ident,
    })
}

// ---------------------------------------------------------------------------------------
// Consumers

fn lower_consumers(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    entities: &[ir::Entity],
    patterns: &[ir::Pattern],
) -> Vec<ir::Consumer> {
    let mut by_name: BTreeMap<String, ir::Consumer> = BTreeMap::new();
    let empty = |name: &str| ir::Consumer {
        name: name.to_string(),
        doc: None,
        patterns: Vec::new(),
        entity_ops: Vec::new(),
    };
    for (pi, p) in patterns.iter().enumerate() {
        for c in &p.consumers {
            by_name
                .entry(c.clone())
                .or_insert_with(|| empty(c))
                .patterns
                .push(pi);
        }
    }
    for (name, c) in file.consumers.iter() {
        if !name
            .value
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
            || name.value.is_empty()
        {
            let d = Diagnostic::error(
                "dyngen::invalid_consumer",
                format!(
                    "consumer name `{}` must use only letters, digits, `_` and `-`",
                    name.value
                ),
            )
            .label(cx.span(name), "this consumer")
            .help("consumer names become Terraform and IAM identifiers");
            cx.error(d);
            continue;
        }
        let consumer = by_name
            .entry(name.value.clone())
            .or_insert_with(|| empty(&name.value));
        consumer.doc = c.value.doc.clone();
        for (entity, ops) in c.value.entities.iter() {
            let Some(e) = entity_index(entities, &entity.value) else {
                let d = Diagnostic::error(
                    "dyngen::unknown_entity",
                    format!(
                        "consumer `{}` lists `{}`, which is not an entity",
                        name.value, entity.value
                    ),
                )
                .label(cx.span(entity), "unknown entity")
                .help("declare it under `entities:`, or fix the name");
                cx.error(d);
                continue;
            };
            let mut list: Vec<ast::EntityOp> = ops.iter().map(|o| o.value).collect();
            list.sort();
            list.dedup();
            consumer.entity_ops.push((e, list));
        }
    }
    by_name.into_values().collect()
}

// ---------------------------------------------------------------------------------------
// Relationships

fn lower_relationships(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    entities: &[ir::Entity],
    patterns: &[ir::Pattern],
) -> Vec<ir::Relationship> {
    let mut out = Vec::new();
    for (name, r) in file.relationships.iter() {
        let r = &r.value;
        let resolve = |cx: &mut Cx, e: &Sp<String>| {
            let found = entity_index(entities, &e.value);
            if found.is_none() {
                let d = Diagnostic::error(
                    "dyngen::unknown_entity",
                    format!(
                        "relationship `{}` refers to `{}`, which is not an entity",
                        name.value, e.value
                    ),
                )
                .label(cx.span(e), "unknown entity")
                .help("declare it under `entities:`");
                cx.error(d);
            }
            found
        };
        let from = resolve(cx, &r.from);
        let to = resolve(cx, &r.to);
        let through: Vec<Option<usize>> = r.through.iter().map(|t| resolve(cx, t)).collect();
        let kind = match r.kind.value {
            ast::RelationshipKind::OneToMany => ir::RelationshipKind::OneToMany,
            ast::RelationshipKind::ManyToMany => ir::RelationshipKind::ManyToMany,
        };
        match (kind, r.through.len()) {
            (ir::RelationshipKind::OneToMany, 0) | (ir::RelationshipKind::ManyToMany, 1 | 2) => {}
            (ir::RelationshipKind::OneToMany, _) => {
                let d = Diagnostic::error(
                    "dyngen::unexpected_through",
                    "a one-to-many relationship has no relationship items",
                )
                .label(cx.span(&r.kind), "one_to_many")
                .help("remove `through`, or make it `many_to_many`");
                cx.error(d);
            }
            (ir::RelationshipKind::ManyToMany, _) => {
                let d = Diagnostic::error("dyngen::missing_through", "a many-to-many relationship needs one or two relationship entities in `through`")
                    .label(cx.span(&r.kind), "many_to_many")
                    .help("e.g. `through: [CompanyMember, UserCompany]`, one item per direction");
                cx.error(d);
            }
        }
        let pattern = r.pattern.as_ref().and_then(|p| {
            let found = patterns.iter().position(|x| x.name == p.value);
            match (found, to) {
                (None, _) => {
                    let d = Diagnostic::error(
                        "dyngen::unknown_pattern",
                        format!(
                            "relationship `{}` names pattern `{}`, which does not exist",
                            name.value, p.value
                        ),
                    )
                    .label(cx.span(p), "unknown pattern")
                    .help("name one of the `access_patterns`");
                    cx.error(d);
                    None
                }
                (Some(i), Some(to))
                    if !patterns[i].entities.contains(&to)
                        && !through
                            .iter()
                            .flatten()
                            .any(|t| patterns[i].entities.contains(t)) =>
                {
                    let d = Diagnostic::error(
                        "dyngen::pattern_mismatch",
                        format!(
                            "pattern `{}` does not return `{}` or its relationship items",
                            p.value, entities[to].name
                        ),
                    )
                    .label(cx.span(p), "this pattern")
                    .help("name the pattern that lists the related items");
                    cx.error(d);
                    None
                }
                (found, _) => found,
            }
        });
        if let (Some(from), Some(to)) = (from, to)
            && through.iter().all(Option::is_some)
        {
            out.push(ir::Relationship {
                name: name.value.clone(),
                kind,
                from,
                to,
                through: through.into_iter().flatten().collect(),
                pattern,
                methods: None,
            });
        }
    }
    out
}
