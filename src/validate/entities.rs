//! Entities: attributes, their types, enums, defaults and reserved names.

#[allow(unused_imports)]
use super::*;

pub(super) fn lower_entities(
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
        note_reserved_rename(cx, name, &type_ident);
        let snake_ident = naming::snake_ident(&name.value).unwrap_or_else(|| "invalid".to_string());
        let attributes = lower_attributes(cx, name, &entity.value, table, &type_ident);
        let mut key_spans = Vec::new();
        let mut keys = lower_keys(cx, name, &entity.value, table, &attributes, &mut key_spans);
        check_attribute_keys(cx, &entity.value, table, &attributes, &keys);
        check_version_not_key(cx, &entity.value, table);
        check_stamped_keys(cx, &attributes, &keys, &key_spans);
        // Keys on multi-attribute indexes are the attributes themselves: added after the
        // template checks, which do not apply to them.
        for key in composite_keys(cx, &entity.value, table, &attributes) {
            key_spans.push((cx.span(name), None));
            keys.push(key);
        }
        check_epoch_keys(cx, name, &entity.value, table, &attributes, &keys);
        let uniques = lower_uniques(cx, &entity.value, &attributes);
        let find = |role: ir::AttrRole| attributes.iter().position(|a| a.role == role);
        out.push(ir::Entity {
            name: name.value.clone(),
            type_value: entity
                .value
                .type_value
                .as_ref()
                .map_or_else(|| name.value.clone(), |t| t.value.clone()),
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
            uniques,
        });
        spans.entity.push(cx.span(name));
        spans.keys.push(key_spans);
    }
    check_type_values(cx, file, &out);
    if file.entities.is_empty() {
        let d = Diagnostic::error("dyngen::no_entities", "the schema declares no entities")
            .label(cx.span(&file.version), "in this schema")
            .help("add an `entities:` section with at least one entity");
        cx.error(d);
    }
    out
}

/// An entity named like a type the generated module defines (`Db`, `Error`, ...) keeps
/// its schema name but gets a Rust type named `<Name>Entity`; say so where it is declared.
fn note_reserved_rename(cx: &mut Cx, name: &Sp<String>, type_ident: &str) {
    if !naming::type_ident_is_renamed(&name.value) {
        return;
    }
    let base = type_ident.strip_suffix("Entity").unwrap_or(type_ident);
    let d = Diagnostic::warning(
        "dyngen::renamed_type",
        format!("entity `{}` becomes the Rust type `{type_ident}`", name.value),
    )
    .label(cx.span(name), format!("`{base}` is a name the generated module defines itself"))
    .help("nothing changes in the table (items keep the entity name); rename the entity to choose the Rust name yourself")
    .about(&name.value);
    cx.error(d);
}

/// Keys built from attributes every write changes. `updatedAt` is stamped by every write,
/// so a key using it is rewritten by every write, updates included (which take the inputs
/// the primary key does not give as checked values). The primary key cannot use it at all
/// (the item would move), nor the version, whose new value an update does not know before
/// DynamoDB adds to it.
fn check_stamped_keys(
    cx: &mut Cx,
    attributes: &[ir::Attribute],
    keys: &[ir::EntityKey],
    key_spans: &[(Span, Option<Span>)],
) {
    for (k, (pk_span, sk_span)) in keys.iter().zip(key_spans) {
        for (template, span) in [
            (Some(&k.pk), *pk_span),
            (k.sk.as_ref(), sk_span.unwrap_or(*pk_span)),
        ] {
            let Some(template) = template else { continue };
            if let Some(d) = stamped_key_problem(attributes, k, template, span) {
                cx.error(d);
            }
        }
    }
}

fn stamped_key_problem(
    attributes: &[ir::Attribute],
    k: &ir::EntityKey,
    template: &ir::Template,
    span: Span,
) -> Option<Diagnostic> {
    let role = |ph: &Placeholder| attributes[ph.attr].role;
    let uses = |r: ir::AttrRole| template.placeholders().any(|ph| role(ph) == r);
    if uses(ir::AttrRole::Version) {
        return Some(Diagnostic::error("dyngen::version_in_key", "a key template cannot use the version attribute")
            .label(span, "uses the version")
            .help("every write changes the version, and an update learns the new one only from DynamoDB; key on another attribute"));
    }
    if !k
        .placeholders()
        .any(|ph| role(ph) == ir::AttrRole::UpdatedAt)
    {
        return None;
    }
    if k.index != IndexRef::Primary || !uses(ir::AttrRole::UpdatedAt) {
        // An index key from the update time may use any other attribute: updates take
        // those the primary key does not give as checked inputs (`with_` methods).
        return None;
    }
    Some(Diagnostic::error("dyngen::updated_at_in_primary_key", "the primary key cannot use the `updated` timestamp")
        .label(span, "uses the update time")
        .help("every write re-stamps it, so the item would move to a new key on every write; use it in an index key"))
}

pub(super) fn lower_attributes(
    cx: &mut Cx,
    entity_name: &Sp<String>,
    entity: &ast::Entity,
    table: &ir::Table,
    entity_type: &str,
) -> Vec<ir::Attribute> {
    let mut fields = FieldNames {
        reserved: reserved_attribute_names(table),
        taken: BTreeMap::new(),
    };
    let mut attrs: Vec<ir::Attribute> = Vec::new();
    for (name, attr) in entity.attributes.iter() {
        let Some(field_ident) = fields.claim(cx, name) else {
            continue;
        };
        let (ty, optional, default, doc) = lower_attribute_type(cx, entity_type, name, attr);
        let stored_as = attribute_form(cx, attr, &ty);
        if table.safe_integers {
            check_safe_default(cx, attr, default.as_ref());
        }
        attrs.push(ir::Attribute {
            name: name.value.clone(),
            field_ident,
            ty,
            optional,
            default,
            doc,
            role: ir::AttrRole::Data,
            stored_as,
        });
    }
    for (name, ty, role, doc) in managed_attributes(entity) {
        check_attribute_name(cx, name, "attribute");
        if let Some(field_ident) = fields.claim(cx, name) {
            let stored_as = match ty {
                Type::Timestamp => timestamps_form(entity),
                _ => ast::StoredAs::default(),
            };
            attrs.push(ir::Attribute {
                name: name.value.clone(),
                field_ident,
                ty,
                optional: false,
                default: None,
                doc: Some(doc.to_string()),
                role,
                stored_as,
            });
        }
    }
    if let Some(ttl) = entity.ttl.as_ref().filter(|t| t.value) {
        attrs.extend(ttl_attribute(cx, entity_name, ttl, table));
    }
    attrs
}

/// The Rust field names an entity's attributes take, refusing the table's own attributes
/// and two names that become one field.
struct FieldNames {
    reserved: BTreeMap<String, &'static str>,
    /// Field ident (without r#) → the attribute that took it, and where.
    taken: BTreeMap<String, (String, Span)>,
}

impl FieldNames {
    fn claim(&mut self, cx: &mut Cx, name: &Sp<String>) -> Option<String> {
        let span = cx.span(name);
        let name = name.value.as_str();
        if let Some(why) = self.reserved.get(name) {
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
        if let Some((other, other_span)) = self.taken.get(naming::bare(&ident)) {
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
        self.taken
            .insert(naming::bare(&ident).to_string(), (name.to_string(), span));
        Some(ident)
    }
}

/// The attributes dyngen keeps for an entity (timestamps, version): name, type, role and
/// the doc of the generated field.
fn managed_attributes(
    entity: &ast::Entity,
) -> Vec<(&Sp<String>, Type, ir::AttrRole, &'static str)> {
    let mut out = Vec::new();
    if let Some(ts) = &entity.timestamps {
        if let Some(c) = &ts.value.created {
            out.push((
                c,
                Type::Timestamp,
                ir::AttrRole::CreatedAt,
                "When the item was created; set by dyngen, never overwritten.",
            ));
        }
        if let Some(u) = &ts.value.updated {
            out.push((
                u,
                Type::Timestamp,
                ir::AttrRole::UpdatedAt,
                "When the item was last written; set by dyngen on every write.",
            ));
        }
    }
    if let Some(v) = &entity.version {
        out.push((
            v,
            Type::Integer,
            ir::AttrRole::Version,
            "Optimistic-locking version; incremented by dyngen on every write.",
        ));
    }
    out
}

/// With `safe_integers`, a default is a value like any other: one JavaScript cannot hold
/// exactly would be refused on every write that takes it.
fn check_safe_default(cx: &mut Cx, attr: &Sp<ast::Attribute>, default: Option<&Literal>) {
    let unsafe_value = match default {
        Some(Literal::Integer(n)) => dyngen_runtime::value::check_safe([n]).err(),
        Some(Literal::Float(f)) => dyngen_runtime::value::check_safe_floats([f]).err(),
        _ => None,
    };
    if let Some(why) = unsafe_value {
        let d = Diagnostic::error("dyngen::unsafe_default", format!("the default {why}"))
            .label(cx.span(attr), "default")
            .help("the table has `safe_integers: true`; give a default within ±9007199254740991");
        cx.error(d);
    }
}

/// The version is a number dyngen rewrites on every write; named like an index key
/// attribute it would be written into the key (a number where the key holds text, or an
/// index entry that moves on every write), so every write would fail or misplace the item.
fn check_version_not_key(cx: &mut Cx, entity: &ast::Entity, table: &ir::Table) {
    let Some(v) = &entity.version else { return };
    let key_attrs = table.indexes.iter().flat_map(|ix| {
        let composite = ix
            .composite
            .iter()
            .flat_map(|c| c.partition.iter().chain(&c.sort));
        std::iter::once(&ix.partition_key)
            .chain(ix.sort_key.as_ref())
            .chain(composite)
    });
    if let Some(ix) = key_attrs.into_iter().find(|a| **a == v.value) {
        let d = Diagnostic::error(
            "dyngen::version_is_key",
            format!("the version attribute `{ix}` is an index key attribute"),
        )
        .label(cx.span(v), "version")
        .help("name the version attribute something no index uses as a key, e.g. `version`");
        cx.error(d);
    }
}

/// The entity's TTL field, named by the table's `ttl_attribute`. The TTL attribute is
/// reserved for the table; the entity's own field is the one exception.
fn ttl_attribute(
    cx: &mut Cx,
    entity_name: &Sp<String>,
    ttl: &Sp<bool>,
    table: &ir::Table,
) -> Option<ir::Attribute> {
    let Some(ttl_name) = &table.ttl_attribute else {
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
        return None;
    };
    Some(ir::Attribute {
        name: ttl_name.clone(),
        field_ident: naming::snake_ident(ttl_name).unwrap_or_else(|| "expires_at".into()),
        ty: Type::Timestamp,
        optional: true,
        default: None,
        doc: Some("When DynamoDB may delete the item (stored as epoch seconds).".into()),
        role: ir::AttrRole::Ttl,
        // Written by its own rule (epoch seconds, as DynamoDB's time to live reads it).
        stored_as: ast::StoredAs::default(),
    })
}

pub(super) fn reserved_attribute_names(table: &ir::Table) -> BTreeMap<String, &'static str> {
    let mut m = BTreeMap::new();
    m.insert(table.partition_key.clone(), "partition key");
    if let Some(sk) = &table.sort_key {
        m.insert(sk.clone(), "sort key");
    }
    // Index key attributes may be entity attributes too, as attribute keys (checked with
    // the keys: `check_attribute_keys`).
    m.insert(table.entity_type_attribute.clone(), "entity-type attribute");
    if let Some(ttl) = &table.ttl_attribute {
        m.insert(ttl.clone(), "TTL attribute (use `ttl: true` on the entity)");
    }
    m.insert(
        dyngen_runtime::WRITE_TOKEN_ATTRIBUTE.to_string(),
        "write token (dyngen's own: a retried write recognises its result by it)",
    );
    m
}

pub(super) fn lower_attribute_type(
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

pub(super) fn simple_type(
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

pub(super) fn lower_enum(
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
pub(super) fn literal(cx: &mut Cx, ty: &Type, v: &Sp<serde_json::Value>) -> Option<Literal> {
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

pub(super) fn is_iso_date(s: &str) -> bool {
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

/// Each entity's stored type value is its own: two entities with one value could not tell
/// their items apart, and the runner's and guards' values are reserved.
fn check_type_values(cx: &mut Cx, file: &ast::SchemaFile, entities: &[ir::Entity]) {
    for (i, ((name, ast_entity), e)) in file.entities.iter().zip(entities).enumerate() {
        let span = ast_entity
            .value
            .type_value
            .as_ref()
            .map_or(cx.span(name), |t| cx.span(t));
        let problem = if e.type_value.is_empty() {
            Some("an empty entity-type value".to_string())
        } else if e.type_value.starts_with("#dyngen") {
            Some(format!(
                "`{}` starts with `#dyngen`, which dyngen's own items use",
                e.type_value
            ))
        } else {
            entities[..i]
                .iter()
                .find(|o| o.type_value == e.type_value)
                .map(|o| format!("`{}` is also the stored type of `{}`", e.type_value, o.name))
        };
        if let Some(problem) = problem {
            let d = Diagnostic::error(
                "dyngen::type_value",
                format!("entity `{}`: {problem}", e.name),
            )
            .label(span, "entity-type value")
            .help("give each entity a distinct `type_value` (its items are told apart by it)");
            cx.error(d);
        }
    }
}
