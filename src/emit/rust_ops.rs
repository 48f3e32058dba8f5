//! Views for the runtime half of the Rust output: each entity's repository and typed
//! update builder, each access pattern's query, and the `Db` methods.

use serde::Serialize;

use super::rust_exprs::{
    FieldView, field_view, key_string_expr, key_value_expr, literal_expr, rust_type,
};
use super::templates::rust_str;
use crate::ir::{
    self, AttrRole, CompareOp, FilterOp, IndexRef, Part, Placeholder, PlaceholderFormat, Schema,
    SetterKind, SortCondition, Type,
};
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
    update_methods: Vec<SetterView>,
    has_version: bool,
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
            has_version: entity.version.is_some(),
        }
    }
}

/// One method of an update builder, for `repo.rs.j2`.
#[derive(Serialize)]
pub struct SetterView {
    /// Plain text; the template passes it through the `doc` filter.
    doc: String,
    ident: String,
    params: Vec<ParamView>,
    /// Statements over `self.spec`; attribute names appear only as escaped literals.
    body: String,
}

#[derive(Serialize)]
pub struct ParamView {
    ident: String,
    ty: String,
}

fn update_methods(schema: &Schema, entity: &ir::Entity) -> Vec<SetterView> {
    entity
        .setters
        .iter()
        .map(|s| setter_view(schema, entity, s))
        .collect()
}

fn setter_view(schema: &Schema, entity: &ir::Entity, setter: &ir::Setter) -> SetterView {
    let attr = &entity.attributes[setter.attr];
    let name = rust_str(&attr.name);
    let ty = rust_type(&attr.ty);
    let value = ParamView {
        ident: attr.field_ident.clone(),
        ty: ty.clone(),
    };
    let f = &attr.field_ident;
    let (doc, params, body) = match setter.kind {
        SetterKind::Set => return set_view(schema, entity, setter),
        SetterKind::Remove => {
            let mut body = format!("self.spec.remove.push({name});");
            for k in entity.keys_using(setter.attr).filter(|k| k.sparse) {
                let (pk_attr, sk_attr) = schema.key_attributes(k.index);
                body.push_str(&format!("self.spec.remove.push({});", rust_str(pk_attr)));
                if let Some(sa) = sk_attr {
                    body.push_str(&format!("self.spec.remove.push({});", rust_str(sa)));
                }
            }
            let doc = format!(
                "Removes `{}` (and the item from any sparse index it feeds).",
                attr.name
            );
            (doc, vec![], body)
        }
        SetterKind::Add => (
            format!(
                "Adds to `{}` atomically (a negative value subtracts).",
                attr.name
            ),
            vec![ParamView {
                ident: "delta".into(),
                ty,
            }],
            format!("self.spec.add.push(({name}, rt::Attr::to_av(&delta)));"),
        ),
        SetterKind::Append => (
            format!("Appends to the end of `{}`.", attr.name),
            vec![value],
            format!("self.spec.append.push(({name}, rt::Attr::to_av(&{f})));"),
        ),
        SetterKind::AddTo => (
            format!("Adds members to the set `{}`.", attr.name),
            vec![value],
            format!(
                "if !{f}.is_empty() {{ self.spec.add.push(({name}, rt::Attr::to_av(&{f}))); }}"
            ),
        ),
        SetterKind::RemoveFrom => (
            format!("Removes members from the set `{}`.", attr.name),
            vec![value],
            format!(
                "if !{f}.is_empty() {{ self.spec.delete.push(({name}, rt::Attr::to_av(&{f}))); }}"
            ),
        ),
    };
    SetterView {
        doc,
        ident: setter.ident.clone(),
        params,
        body,
    }
}

/// `set_<attr>`: stores the value and rewrites every index key built from it; takes the
/// other attributes those keys need that the primary key does not give.
fn set_view(schema: &Schema, entity: &ir::Entity, setter: &ir::Setter) -> SetterView {
    let ai = setter.attr;
    let attr = &entity.attributes[ai];
    let name = rust_str(&attr.name);
    let f = &attr.field_ident;
    // Attributes (with format) the key struct of the update gives.
    let primary = entity.primary_key().distinct_placeholders();
    let affected: Vec<&ir::EntityKey> = entity.keys_using(ai).collect();
    // Other attributes the affected templates need that the key does not give.
    let mut extras: Vec<usize> = Vec::new();
    for k in &affected {
        for ph in k.placeholders() {
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
    let mut body = if attr.role == AttrRole::Ttl {
        format!(
            "self.spec.set.push(({name}, rt::aws_sdk_dynamodb::types::AttributeValue::N({f}.unix_millis().div_euclid(1000).to_string())));"
        )
    } else if matches!(attr.ty, Type::StringSet | Type::NumberSet) {
        format!(
            "if {f}.is_empty() {{ self.spec.remove.push({name}); }} else {{ self.spec.set.push(({name}, rt::Attr::to_av(&{f}))); }}"
        )
    } else {
        format!("self.spec.set.push(({name}, rt::Attr::to_av(&{f})));")
    };
    for k in &affected {
        let (pk_attr, sk_attr) = schema.key_attributes(k.index);
        body.push_str(&format!(
            "self.spec.set.push(({}, {}));",
            rust_str(pk_attr),
            key_value_expr(&k.pk, entity, &value_of)
        ));
        if let (Some(sa), Some(st)) = (sk_attr, &k.sk) {
            body.push_str(&format!(
                "self.spec.set.push(({}, {}));",
                rust_str(sa),
                key_value_expr(st, entity, &value_of)
            ));
        }
    }
    let mut params = vec![ParamView {
        ident: f.clone(),
        ty: rust_type(&attr.ty),
    }];
    params.extend(extras.iter().map(|&x| ParamView {
        ident: entity.attributes[x].field_ident.clone(),
        ty: rust_type(&entity.attributes[x].ty),
    }));
    let mut doc = format!("Sets `{}`.", attr.name);
    if !affected.is_empty() {
        let indexes: Vec<&str> = affected
            .iter()
            .map(|k| schema.index_name(k.index))
            .collect();
        doc.push_str(&format!(
            " Rewrites the `{}` key attributes.",
            indexes.join("`, `")
        ));
    }
    if !extras.is_empty() {
        let names: Vec<String> = extras
            .iter()
            .map(|&x| format!("`{}`", entity.attributes[x].name))
            .collect();
        doc.push_str(&format!(
            "\nAlso takes {} because an index key is built from them too.",
            names.join(", ")
        ));
    }
    SetterView {
        doc,
        ident: setter.ident.clone(),
        params,
        body,
    }
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
pub fn pattern_method(schema: &Schema, p: &ir::Pattern) -> PatternMethodView {
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
                // Bounds are owned values of the placeholder's type (a year is an i32).
                let ty = placeholder_value_type(entity, range);
                match (op, p.range_params.as_slice()) {
                    (CompareOp::Between, [from, to]) => {
                        params.push(format!("{from}: {ty}"));
                        params.push(format!("{to}: {ty}"));
                        values.push((":lo".into(), bound(from, false)));
                        values.push((":hi".into(), bound(to, true)));
                        condition.push_str(" AND #sk BETWEEN :lo AND :hi");
                    }
                    (op, [param]) => {
                        let (sym, high) = match op {
                            CompareOp::Lt => ("<", false),
                            CompareOp::Lte => ("<=", true),
                            CompareOp::Gt => (">", true),
                            CompareOp::Gte | CompareOp::Between => (">=", false),
                        };
                        params.push(format!("{param}: {ty}"));
                        values.push((":sk".into(), bound(param, high)));
                        condition.push_str(&format!(" AND #sk {sym} :sk"));
                    }
                    _ => unreachable!("the naming pass gives a range one or two parameters"),
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
    let mut doc = p
        .doc
        .clone()
        .unwrap_or_else(|| format!("The `{}` access pattern.", p.name));
    doc.push_str(&format!(
        "\n\nQuery on `{}`: `{}`.",
        schema.index_name(p.index),
        condition
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
    PatternMethodView {
        doc,
        ident: p.method_ident.clone(),
        params,
        ret: format!("rt::{query}<'_, {item_type}>"),
        body: format!("rt::Query::new(&self.table, {spec}, {decode})"),
    }
}

/// A pattern's method on `Db`, for `db.rs.j2`.
#[derive(Serialize)]
pub struct PatternMethodView {
    /// Plain text; the template passes it through the `doc` filter.
    doc: String,
    ident: String,
    /// `name: Type` pairs.
    params: Vec<String>,
    ret: String,
    body: String,
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

/// The owned Rust type of a placeholder's value: the attribute's type, or `i32` for a year.
fn placeholder_value_type(entity: &ir::Entity, ph: &Placeholder) -> String {
    match ph.format {
        PlaceholderFormat::Year => "i32".into(),
        PlaceholderFormat::Value => rust_type(&entity.attributes[ph.attr].ty),
    }
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

/// The `link_`/`unlink_` methods of a many-to-many relationship, for `db.rs.j2`.
#[derive(Serialize)]
pub struct LinkView {
    link: String,
    unlink: String,
    link_doc: String,
    unlink_doc: String,
    a: String,
    b: String,
}

/// `link_<rel>` / `unlink_<rel>` for a many-to-many relationship with one item per direction
/// (the naming pass decided whether it has them, and their names).
pub fn relationship_methods(schema: &Schema, r: &ir::Relationship) -> Option<LinkView> {
    let methods = r.methods.as_ref()?;
    let (a, b) = (
        &schema.entities[r.through[0]],
        &schema.entities[r.through[1]],
    );
    Some(LinkView {
        link: methods.link.clone(),
        unlink: methods.unlink.clone(),
        link_doc: format!(
            "Links a `{}` and a `{}` ({}): creates both relationship items in one transaction; fails if either exists.",
            schema.entities[r.from].name, schema.entities[r.to].name, r.name
        ),
        unlink_doc: format!(
            "Removes both relationship items of `{}` in one transaction.",
            r.name
        ),
        a: a.type_ident.clone(),
        b: b.type_ident.clone(),
    })
}
