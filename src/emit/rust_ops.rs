//! Views for the runtime half of the Rust output: each entity's repository and typed
//! update builder, each access pattern's query, and the `Db` methods.

use serde::Serialize;

use super::rust::{
    FieldView, field_view, key_string_expr, key_value_expr, literal_expr, rust_type,
};
use super::templates::rust_str;
use crate::ir::{
    self, AttrRole, CompareOp, FilterOp, IndexRef, Part, Placeholder, PlaceholderFormat, Schema,
    SortCondition, Type,
};
use crate::naming;
use crate::validate::template_is_numeric;

#[derive(Serialize)]
pub struct RepoView {
    ident: String,
    name: String,
    removable: Vec<String>,
    created_at_const: String,
    updated_at_const: String,
    version_const: String,
    version_expr: String,
    stamp_params: String,
    stamp_body: String,
    update_methods: Vec<String>,
}

fn opt_str(name: Option<&str>) -> String {
    match name {
        Some(n) => format!("::core::option::Option::Some({})", rust_str(n)),
        None => "::core::option::Option::None".into(),
    }
}

impl RepoView {
    pub fn new(schema: &Schema, entity: &ir::Entity) -> Self {
        let attr_name = |i: Option<usize>| i.map(|i| entity.attributes[i].name.as_str());
        let field = |i: usize| entity.attributes[i].field_ident.clone();
        let mut removable: Vec<String> = entity
            .attributes
            .iter()
            .filter(|a| a.optional)
            .map(|a| a.name.clone())
            .collect();
        for key in entity.keys.iter().filter(|k| k.sparse) {
            let (pk, sk) = schema.key_attributes(key.index);
            removable.push(pk.to_string());
            removable.extend(sk.map(str::to_string));
        }
        let mut stamp = String::new();
        if let Some(c) = entity.created_at {
            stamp.push_str(&format!("if creating {{ self.{} = now; }}", field(c)));
        }
        if let Some(u) = entity.updated_at {
            stamp.push_str(&format!("self.{} = now;", field(u)));
        }
        if let Some(v) = entity.version {
            stamp.push_str(&format!(
                "if let ::core::option::Option::Some(v) = version {{ self.{} = v; }}",
                field(v)
            ));
        }
        let used = |cond: bool, name: &str| {
            if cond {
                name.to_string()
            } else {
                format!("_{name}")
            }
        };
        let stamp_params = format!(
            "{}: rt::Timestamp, {}: bool, {}: ::core::option::Option<i64>",
            used(
                entity.created_at.is_some() || entity.updated_at.is_some(),
                "now"
            ),
            used(entity.created_at.is_some(), "creating"),
            used(entity.version.is_some(), "version"),
        );
        RepoView {
            ident: entity.type_ident.clone(),
            name: entity.name.clone(),
            removable,
            created_at_const: opt_str(attr_name(entity.created_at)),
            updated_at_const: opt_str(attr_name(entity.updated_at)),
            version_const: opt_str(attr_name(entity.version)),
            version_expr: match entity.version {
                Some(v) => format!("::core::option::Option::Some(self.{})", field(v)),
                None => "::core::option::Option::None".into(),
            },
            stamp_params,
            stamp_body: stamp,
            update_methods: update_methods(schema, entity),
        }
    }
}

/// Attributes (with format) available from the key struct of an update.
fn primary_placeholders(entity: &ir::Entity) -> Vec<Placeholder> {
    let k = entity.primary_key();
    let mut out: Vec<Placeholder> = Vec::new();
    for ph in
        k.pk.placeholders()
            .chain(k.sk.iter().flat_map(|s| s.placeholders()))
    {
        if !out.contains(ph) {
            out.push(ph.clone());
        }
    }
    out
}

fn method_ident(prefix: &str, field: &str) -> String {
    naming::snake_ident(&format!(
        "{prefix}_{}",
        naming::bare(field).trim_start_matches('_')
    ))
    .unwrap_or_else(|| prefix.to_string())
}

fn param_type(ty: &Type) -> String {
    rust_type(ty)
}

fn update_methods(schema: &Schema, entity: &ir::Entity) -> Vec<String> {
    let primary = primary_placeholders(entity);
    let in_primary = |a: usize| primary.iter().any(|p| p.attr == a);
    let mut out = Vec::new();
    for (ai, attr) in entity.attributes.iter().enumerate() {
        if attr.role != AttrRole::Data && attr.role != AttrRole::Ttl || in_primary(ai) {
            continue;
        }
        let name = rust_str(&attr.name);
        let f = &attr.field_ident;
        let affected: Vec<&ir::EntityKey> = entity
            .keys
            .iter()
            .filter(|k| {
                k.pk.placeholders()
                    .chain(k.sk.iter().flat_map(|s| s.placeholders()))
                    .any(|p| p.attr == ai)
            })
            .collect();
        // Other attributes the affected templates need that the key does not give.
        let mut extras: Vec<usize> = Vec::new();
        for k in &affected {
            for ph in
                k.pk.placeholders()
                    .chain(k.sk.iter().flat_map(|s| s.placeholders()))
            {
                if ph.attr != ai && !primary.contains(ph) && !extras.contains(&ph.attr) {
                    extras.push(ph.attr);
                }
            }
        }
        let value_of = |ph: &Placeholder| -> String {
            if ph.attr == ai || extras.contains(&ph.attr) {
                format!("&{}", entity.attributes[ph.attr].field_ident)
            } else {
                format!("&self.key.{}", entity.placeholder_ident(ph))
            }
        };
        let mut key_sets = String::new();
        for k in &affected {
            let (pk_attr, sk_attr) = schema.key_attributes(k.index);
            key_sets.push_str(&format!(
                "self.spec.set.push(({}, {}));",
                rust_str(pk_attr),
                key_value_expr(&k.pk, entity, &value_of)
            ));
            if let (Some(sa), Some(st)) = (sk_attr, &k.sk) {
                key_sets.push_str(&format!(
                    "self.spec.set.push(({}, {}));",
                    rust_str(sa),
                    key_value_expr(st, entity, &value_of)
                ));
            }
        }
        let mut params = vec![format!("{f}: {}", param_type(&attr.ty))];
        params.extend(extras.iter().map(|&x| {
            format!(
                "{}: {}",
                entity.attributes[x].field_ident,
                param_type(&entity.attributes[x].ty)
            )
        }));
        let is_set = matches!(attr.ty, Type::StringSet | Type::NumberSet);
        let store = if attr.role == AttrRole::Ttl {
            format!(
                "self.spec.set.push(({name}, rt::aws_sdk_dynamodb::types::AttributeValue::N({f}.unix_millis().div_euclid(1000).to_string())));"
            )
        } else if is_set {
            format!(
                "if {f}.is_empty() {{ self.spec.remove.push({name}); }} else {{ self.spec.set.push(({name}, rt::Attr::to_av(&{f}))); }}"
            )
        } else {
            format!("self.spec.set.push(({name}, rt::Attr::to_av(&{f})));")
        };
        let extra_doc = if extras.is_empty() {
            String::new()
        } else {
            format!(
                "\n    /// Also takes {} because an index key is built from them too.",
                extras
                    .iter()
                    .map(|&x| format!("`{}`", entity.attributes[x].name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let rewrites = if affected.is_empty() {
            String::new()
        } else {
            format!(
                " Rewrites the `{}` key attributes.",
                affected
                    .iter()
                    .map(|k| schema.index_name(k.index))
                    .collect::<Vec<_>>()
                    .join("`, `")
            )
        };
        out.push(format!(
            "/// Sets `{}`.{rewrites}{extra_doc}\npub fn {}(mut self, {}) -> Self {{ {store} {key_sets} self }}",
            attr.name.replace('`', "'"),
            method_ident("set", f),
            params.join(", ")
        ));
        if attr.optional {
            let mut removes = format!("self.spec.remove.push({name});");
            for k in affected.iter().filter(|k| k.sparse) {
                let (pk_attr, sk_attr) = schema.key_attributes(k.index);
                removes.push_str(&format!("self.spec.remove.push({});", rust_str(pk_attr)));
                if let Some(sa) = sk_attr {
                    removes.push_str(&format!("self.spec.remove.push({});", rust_str(sa)));
                }
            }
            out.push(format!("/// Removes `{}` (and the item from any sparse index it feeds).\npub fn {}(mut self) -> Self {{ {removes} self }}", attr.name.replace('`', "'"), method_ident("remove", f)));
        }
        if !affected.is_empty() {
            continue;
        }
        match &attr.ty {
            Type::Integer | Type::Float => out.push(format!(
                "/// Adds to `{}` atomically (a negative value subtracts).\npub fn {}(mut self, delta: {}) -> Self {{ self.spec.add.push(({name}, rt::Attr::to_av(&delta))); self }}",
                attr.name.replace('`', "'"),
                method_ident("add", f),
                rust_type(&attr.ty)
            )),
            Type::List(_) => out.push(format!(
                "/// Appends to the end of `{}`.\npub fn {}(mut self, values: {}) -> Self {{ self.spec.append.push(({name}, rt::Attr::to_av(&values))); self }}",
                attr.name.replace('`', "'"),
                method_ident("append", f),
                rust_type(&attr.ty)
            )),
            Type::StringSet | Type::NumberSet => {
                out.push(format!(
                    "/// Adds members to the set `{}`.\npub fn {}(mut self, values: {}) -> Self {{ if !values.is_empty() {{ self.spec.add.push(({name}, rt::Attr::to_av(&values))); }} self }}",
                    attr.name.replace('`', "'"),
                    method_ident("add_to", f),
                    rust_type(&attr.ty)
                ));
                out.push(format!(
                    "/// Removes members from the set `{}`.\npub fn {}(mut self, values: {}) -> Self {{ if !values.is_empty() {{ self.spec.delete.push(({name}, rt::Attr::to_av(&values))); }} self }}",
                    attr.name.replace('`', "'"),
                    method_ident("remove_from", f),
                    rust_type(&attr.ty)
                ));
            }
            _ => {}
        }
    }
    if entity.version.is_some() {
        out.push("/// Applies only if the stored version is `version` ([`Error::VersionConflict`] otherwise).\npub fn expect_version(mut self, version: i64) -> Self { self.spec.expect_version = ::core::option::Option::Some(version); self }".into());
    }
    out
}

// ---------------------------------------------------------------------------------------
// Access patterns

#[derive(Serialize)]
pub struct PatternView {
    method: String,
    item_type: String,
    entity_name: String,
    item_enum: Option<Vec<VariantView>>,
    projection_fields: Option<Vec<FieldView>>,
    decoders: Vec<DecoderView>,
}

#[derive(Serialize)]
struct VariantView {
    ident: String,
}

#[derive(Serialize)]
struct DecoderView {
    entity_type: String,
    expr: String,
}

impl PatternView {
    pub fn new(schema: &Schema, p: &ir::Pattern) -> Self {
        let first = &schema.entities[p.entities[0]];
        let collection = p.entities.len() > 1;
        let item_type = if collection || p.projection.is_some() {
            format!("{}Item", p.type_ident)
        } else {
            first.type_ident.clone()
        };
        let decoders = p
            .entities
            .iter()
            .map(|&e| {
                let ent = &schema.entities[e];
                let expr = if collection {
                    format!("{}::from_item_owned(item).map(|v| ::core::option::Option::Some({item_type}::{}(v)))", ent.type_ident, ent.type_ident)
                } else {
                    format!("{item_type}::from_item_owned(item).map(::core::option::Option::Some)")
                };
                DecoderView { entity_type: ent.name.clone(), expr }
            })
            .collect();
        let projection_fields = p.projection.as_ref().filter(|_| !collection).map(|list| {
            first
                .attributes
                .iter()
                .filter(|a| list.contains(&a.name))
                .map(field_view)
                .collect()
        });
        PatternView {
            method: p.method_ident.clone(),
            item_type,
            entity_name: first.name.clone(),
            item_enum: collection.then(|| {
                p.entities
                    .iter()
                    .map(|&e| VariantView {
                        ident: schema.entities[e].type_ident.clone(),
                    })
                    .collect()
            }),
            projection_fields,
            decoders,
        }
    }
}

/// The `Db` method that starts a pattern's query.
pub fn pattern_method(schema: &Schema, p: &ir::Pattern) -> String {
    let entity = &schema.entities[p.entities[0]];
    let key = entity
        .key_for(p.index)
        .expect("the validator checked the entity is in the index");
    let (pk_attr, sk_attr) = schema.key_attributes(p.index);

    let mut params: Vec<String> = p
        .inputs
        .iter()
        .map(|i| format!("{}: {}", i.param_ident, input_type(entity, &i.placeholder)))
        .collect();
    let value_of = |ph: &Placeholder| -> String {
        if let Some(i) = p.inputs.iter().find(|i| &i.placeholder == ph) {
            if input_type(entity, ph) == "&str" {
                i.param_ident.clone()
            } else {
                format!("&{}", i.param_ident)
            }
        } else if let Some((_, lit)) = p.fixed.iter().find(|(f, _)| f == ph) {
            let ty = if ph.format == PlaceholderFormat::Year {
                Type::Integer
            } else {
                entity.attributes[ph.attr].ty.clone()
            };
            match (ph.format, lit) {
                (PlaceholderFormat::Year, ir::Literal::Integer(y)) => format!("&{y}i32"),
                _ => format!("&{}", literal_expr(&ty, lit)),
            }
        } else {
            unreachable!("the validator checked every key placeholder used here is given")
        }
    };

    let mut names = vec![("#pk".to_string(), pk_attr.to_string())];
    let mut values = vec![(
        ":pk".to_string(),
        key_value_expr(&key.pk, entity, &value_of),
    )];
    let mut condition = "#pk = :pk".to_string();
    if let (Some(sk_attr), Some(sk)) = (sk_attr, &key.sk) {
        let numeric = template_is_numeric(sk, &entity.attributes);
        match &p.sort {
            SortCondition::None => {}
            SortCondition::Equals => {
                names.push(("#sk".into(), sk_attr.into()));
                values.push((":sk".into(), key_value_expr(sk, entity, &value_of)));
                condition.push_str(" AND #sk = :sk");
            }
            SortCondition::BeginsWith => {
                let prefix: Vec<Part> = sk
                    .parts
                    .iter()
                    .take_while(|part| !matches!(part, Part::Placeholder(ph) if !is_given(p, ph)))
                    .cloned()
                    .collect();
                names.push(("#sk".into(), sk_attr.into()));
                values.push((
                    ":sk".into(),
                    format!(
                        "rt::aws_sdk_dynamodb::types::AttributeValue::S({})",
                        key_string_expr(&prefix, &value_of)
                    ),
                ));
                condition.push_str(" AND begins_with(#sk, :sk)");
            }
            SortCondition::Compare { op, range } => {
                names.push(("#sk".into(), sk_attr.into()));
                let upto = sk
                    .parts
                    .iter()
                    .position(|part| matches!(part, Part::Placeholder(ph) if ph == range))
                    .expect("range is a placeholder of the sort key");
                let more_follow = upto + 1 < sk.parts.len();
                let base = entity.placeholder_ident(range);
                let bound = |param: &str, high: bool| -> String {
                    if numeric {
                        return format!(
                            "rt::aws_sdk_dynamodb::types::AttributeValue::N(::std::string::ToString::to_string(&{param}))"
                        );
                    }
                    let by_param = |ph: &Placeholder| {
                        if ph == range {
                            format!("&{param}")
                        } else {
                            value_of(ph)
                        }
                    };
                    let mut parts: Vec<Part> = sk.parts[..=upto].to_vec();
                    // Keys continue after the bounded value: make an inclusive upper bound
                    // (or a strict lower one) cover every key that starts with it.
                    if high && more_follow {
                        parts.push(Part::Literal("\u{10FFFF}".into()));
                    }
                    format!(
                        "rt::aws_sdk_dynamodb::types::AttributeValue::S({})",
                        key_string_expr(&parts, &by_param)
                    )
                };
                let ty = input_type(entity, range)
                    .trim_start_matches('&')
                    .replace("str", "::std::string::String");
                let b = naming::bare(&base);
                match op {
                    CompareOp::Between => {
                        params.push(format!("{b}_from: {ty}"));
                        params.push(format!("{b}_to: {ty}"));
                        values.push((":lo".into(), bound(&format!("{b}_from"), false)));
                        values.push((":hi".into(), bound(&format!("{b}_to"), true)));
                        condition.push_str(" AND #sk BETWEEN :lo AND :hi");
                    }
                    op => {
                        let (sym, high) = match op {
                            CompareOp::Lt => ("<", false),
                            CompareOp::Lte => ("<=", true),
                            CompareOp::Gt => (">", true),
                            CompareOp::Gte => (">=", false),
                            CompareOp::Between => unreachable!(),
                        };
                        params.push(format!("{base}: {ty}"));
                        values.push((":sk".into(), bound(&base, high)));
                        condition.push_str(&format!(" AND #sk {sym} :sk"));
                    }
                }
            }
        }
    }

    let mut filters = Vec::new();
    for (i, f) in p.filters.iter().enumerate() {
        let attr = &entity.attributes[f.attr];
        let n = format!("#f{i}");
        let v = format!(":f{i}");
        names.push((n.clone(), attr.name.clone()));
        if f.op.takes_value() {
            let expr = match (&f.value, &f.param_ident) {
                (Some(lit), _) => {
                    let ty = if f.op == FilterOp::Contains && attr.ty == Type::StringSet {
                        Type::String
                    } else {
                        attr.ty.clone()
                    };
                    format!("rt::Attr::to_av(&{})", literal_expr(&ty, lit))
                }
                (None, Some(param)) => {
                    let ty = if f.op == FilterOp::Contains && attr.ty == Type::StringSet {
                        Type::String
                    } else {
                        attr.ty.clone()
                    };
                    params.push(format!("{param}: {}", rust_type(&ty)));
                    format!("rt::Attr::to_av(&{param})")
                }
                (None, None) => {
                    unreachable!("the validator gives every valued filter a value or a parameter")
                }
            };
            values.push((v.clone(), expr));
        }
        filters.push(match f.op {
            FilterOp::Eq => format!("{n} = {v}"),
            FilterOp::Ne => format!("{n} <> {v}"),
            FilterOp::Lt => format!("{n} < {v}"),
            FilterOp::Lte => format!("{n} <= {v}"),
            FilterOp::Gt => format!("{n} > {v}"),
            FilterOp::Gte => format!("{n} >= {v}"),
            FilterOp::BeginsWith => format!("begins_with({n}, {v})"),
            FilterOp::Contains => format!("contains({n}, {v})"),
            FilterOp::Exists => format!("attribute_exists({n})"),
            FilterOp::NotExists => format!("attribute_not_exists({n})"),
        });
    }
    let projection = p.projection.as_ref().map(|list| {
        names.push(("#t".into(), schema.table.entity_type_attribute.clone()));
        let mut parts = vec!["#t".to_string()];
        for (i, a) in list.iter().enumerate() {
            names.push((format!("#p{i}"), a.clone()));
            parts.push(format!("#p{i}"));
        }
        parts.join(", ")
    });

    let opt = |s: Option<String>| match s {
        Some(s) => format!("::core::option::Option::Some({})", rust_str(&s)),
        None => "::core::option::Option::None".into(),
    };
    let index = match p.index {
        IndexRef::Primary => None,
        IndexRef::Gsi(i) => Some(schema.table.indexes[i].name.clone()),
    };
    let doc = p
        .doc
        .clone()
        .unwrap_or_else(|| format!("The `{}` access pattern.", p.name));
    let mut doc_lines: String = doc
        .lines()
        .map(|l| format!("#[doc = {}]\n", rust_str(&format!(" {l}"))))
        .collect();
    doc_lines.push_str(&format!(
        "#[doc = {}]\n",
        rust_str(&format!(
            "\n Query on `{}`: `{}`.",
            schema.index_name(p.index),
            condition
        ))
    ));
    let mut spec = format!(
        "rt::QuerySpec::new({}, {}, {}, &[{}], ::std::vec![{}])",
        rust_str(&p.name),
        opt(index),
        rust_str(&condition),
        names
            .iter()
            .map(|(k, v)| format!("({}, {})", rust_str(k), rust_str(v)))
            .collect::<Vec<_>>()
            .join(", "),
        values
            .iter()
            .map(|(k, v)| format!("({}, {v})", rust_str(k)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    if !filters.is_empty() {
        spec.push_str(&format!(".filter({})", rust_str(&filters.join(" AND "))));
    }
    if let Some(proj) = projection {
        spec.push_str(&format!(".projection({})", rust_str(&proj)));
    }
    if p.descending {
        spec.push_str(".descending()");
    }
    if let Some(l) = p.limit {
        spec.push_str(&format!(".page_size({l})"));
    }
    let item_type = pattern_item_type(schema, p);
    let query = if p.index == IndexRef::Primary {
        "TableQuery"
    } else {
        "IndexQuery"
    };
    let decode = if item_type == entity.type_ident {
        format!("rt::decode_entity::<{item_type}>")
    } else {
        format!("{item_type}::decode")
    };
    format!(
        "{doc_lines}pub fn {method}(&self, {params}) -> rt::{query}<'_, {item_type}> {{ rt::Query::new(&self.table, {spec}, {decode}) }}",
        method = p.method_ident,
        params = params.join(", "),
    )
}

/// What a pattern returns: the entity, or its own type for a collection or a projection.
fn pattern_item_type(schema: &Schema, p: &ir::Pattern) -> String {
    if p.entities.len() > 1 || p.projection.is_some() {
        format!("{}Item", p.type_ident)
    } else {
        schema.entities[p.entities[0]].type_ident.clone()
    }
}

fn is_given(p: &ir::Pattern, ph: &Placeholder) -> bool {
    p.inputs.iter().any(|i| &i.placeholder == ph) || p.fixed.iter().any(|(f, _)| f == ph)
}

/// Parameter type of a key input: `&str` for strings, the value type otherwise.
fn input_type(entity: &ir::Entity, ph: &Placeholder) -> String {
    match ph.format {
        PlaceholderFormat::Year => "i32".into(),
        PlaceholderFormat::Value => match &entity.attributes[ph.attr].ty {
            Type::String => "&str".into(),
            ty => rust_type(ty),
        },
    }
}

/// `link_<rel>` / `unlink_<rel>` for a many-to-many relationship with one item per direction.
pub fn relationship_methods(schema: &Schema, r: &ir::Relationship) -> Vec<String> {
    if r.kind != ir::RelationshipKind::ManyToMany || r.through.len() != 2 {
        return Vec::new();
    }
    let Some(rel) = naming::snake_ident(&r.name) else {
        return Vec::new();
    };
    let rel = naming::bare(&rel);
    let (a, b) = (
        &schema.entities[r.through[0]],
        &schema.entities[r.through[1]],
    );
    vec![
        format!(
            "/// Links a `{from}` and a `{to}` ({name}): creates both relationship items in one transaction; fails if either exists.\npub async fn link_{rel}(&self, a: &{at}, b: &{bt}) -> ::core::result::Result<(), Error> {{ self.transaction().create(a).create(b).send().await }}",
            from = schema.entities[r.from].name,
            to = schema.entities[r.to].name,
            name = r.name,
            at = a.type_ident,
            bt = b.type_ident
        ),
        format!(
            "/// Removes both relationship items of `{name}` in one transaction.\npub async fn unlink_{rel}(&self, a: &{at}Key, b: &{bt}Key) -> ::core::result::Result<(), Error> {{ self.transaction().delete(a).delete(b).send().await }}",
            name = r.name,
            at = a.type_ident,
            bt = b.type_ident
        ),
    ]
}
