//! Views for each access pattern: its `Db` method (the key condition, filters and
//! projection of its Query) and the item type it returns.

use serde::Serialize;

use super::rust_exprs::{
    FieldView, attr_av, field_view, key_string_expr, key_value_expr, literal_expr, rust_type,
};
use super::templates::rust_str;
use crate::ir::template_is_numeric;
use crate::ir::{
    self, CompareOp, FilterOp, IndexRef, Part, Placeholder, PlaceholderFormat, Schema,
    SortCondition, Type,
};

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
                DecoderView { entity_type: ent.type_value.clone(), expr }
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
    let mut q = QueryParts {
        schema,
        p,
        entity,
        params: p
            .inputs
            .iter()
            .map(|i| format!("{}: {}", i.param_ident, input_type(entity, &i.placeholder)))
            .collect(),
        names: Vec::new(),
        values: Vec::new(),
        condition: String::new(),
        filters: Vec::new(),
    };
    q.key_condition();
    q.filters();
    let projection = q.projection();
    let mut doc = p
        .doc
        .clone()
        .unwrap_or_else(|| format!("The `{}` access pattern.", p.name));
    doc.push_str(&format!(
        "\n\nQuery on `{}`: `{}`.",
        schema.index_name(p.index),
        q.condition
    ));
    let spec = q.spec_expr(projection) + &q.raw_input_checks();
    let item_type = pattern_item_type(schema, p);
    // Consistent reads exist on the table and its local indexes, not on a GSI.
    let query = if schema.table.consistent_reads(p.index) {
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
        params: q.params,
        ret: format!("rt::{query}<'_, {item_type}>"),
        body: format!("rt::Query::new(&self.table, {spec}, {decode})"),
    }
}

/// The pieces of one pattern's Query as Rust expressions. Every user string in them goes
/// through [`rust_str`]; the expression texts themselves are dyngen's own.
struct QueryParts<'a> {
    schema: &'a Schema,
    p: &'a ir::Pattern,
    entity: &'a ir::Entity,
    /// `name: Type` of the method's parameters.
    params: Vec<String>,
    /// Expression attribute names: placeholder → attribute name.
    names: Vec<(String, String)>,
    /// Expression attribute values: placeholder → Rust expression of the value.
    values: Vec<(String, String)>,
    condition: String,
    filters: Vec<String>,
}

impl QueryParts<'_> {
    /// `.raw_input(..)` calls for the inputs and range bounds a raw key cannot hold.
    fn raw_input_checks(&self) -> String {
        let mut inputs: Vec<(&Placeholder, String)> = self
            .p
            .inputs
            .iter()
            .map(|i| (&i.placeholder, self.value_of(&i.placeholder)))
            .collect();
        if let SortCondition::Compare { range, .. } = &self.p.sort {
            for param in &self.p.range_params {
                inputs.push((range, format!("&{param}")));
            }
        }
        super::raw_keys::pattern_checks(self.entity, &inputs)
    }

    /// The Rust expression of a key placeholder's value: an input or a fixed literal.
    fn value_of(&self, ph: &Placeholder) -> String {
        let (p, entity) = (self.p, self.entity);
        if let Some(i) = p.inputs.iter().find(|i| &i.placeholder == ph) {
            return if input_type(entity, ph) == "&str" {
                i.param_ident.clone()
            } else {
                format!("&{}", i.param_ident)
            };
        }
        let (_, lit) = p
            .fixed
            .iter()
            .find(|(f, _)| f == ph)
            .expect("the validator checked every key placeholder used here is given");
        match (ph.format, lit) {
            (PlaceholderFormat::Year, ir::Literal::Integer(y)) => format!("&{y}i32"),
            (PlaceholderFormat::Year, _) => format!("&{}", literal_expr(&Type::Integer, lit)),
            (
                PlaceholderFormat::Value | PlaceholderFormat::Raw | PlaceholderFormat::Padded(_),
                _,
            ) => {
                format!("&{}", literal_expr(&entity.attributes[ph.attr].ty, lit))
            }
        }
    }

    fn key_condition(&mut self) {
        let key = self
            .entity
            .key_for(self.p.index)
            .expect("the validator checked the entity is in the index");
        if self.composite() {
            self.composite_condition(key);
            return;
        }
        let (pk_attr, sk_attr) = self.schema.key_attributes(self.p.index);
        self.names.push(("#pk".into(), pk_attr.into()));
        let pk = self.key_value(pk_attr, &key.pk);
        self.values.push((":pk".into(), pk));
        self.condition = "#pk = :pk".into();
        let (Some(sk_attr), Some(sk)) = (sk_attr, &key.sk) else {
            return;
        };
        match &self.p.sort {
            SortCondition::None => {}
            SortCondition::Equals => {
                self.names.push(("#sk".into(), sk_attr.into()));
                let v = self.key_value(sk_attr, sk);
                self.values.push((":sk".into(), v));
                self.condition.push_str(" AND #sk = :sk");
            }
            SortCondition::BeginsWith => {
                let p = self.p;
                let prefix: Vec<Part> = sk
                    .parts
                    .iter()
                    .take_while(|part| !matches!(part, Part::Placeholder(ph) if !is_given(p, ph)))
                    .cloned()
                    .collect();
                self.names.push(("#sk".into(), sk_attr.into()));
                let v = string_av(&key_string_expr(&prefix, &|ph| self.value_of(ph)));
                self.values.push((":sk".into(), v));
                self.condition.push_str(" AND begins_with(#sk, :sk)");
            }
            SortCondition::Compare { op, range } => {
                self.names.push(("#sk".into(), sk_attr.into()));
                self.sort_range(sk, *op, range);
            }
            SortCondition::Literal { op, values } => {
                self.names.push(("#sk".into(), sk_attr.into()));
                let placeholders: &[&str] = match values.len() {
                    2 => &[":lo", ":hi"],
                    _ => &[":sk"],
                };
                for (k, v) in placeholders.iter().zip(values) {
                    let expr = format!("::std::string::String::from({})", rust_str(v));
                    self.values.push((k.to_string(), string_av(&expr)));
                }
                self.condition.push_str(&format!(" AND {}", op.condition()));
            }
        }
    }

    /// Whether the pattern's index has a multi-attribute key.
    fn composite(&self) -> bool {
        self.schema.is_composite(self.p.index)
    }

    /// The key condition on a multi-attribute key: every partition attribute equal, the
    /// sort attributes the inputs give equal, and the pattern's comparison on the next one
    /// (DynamoDB's rule: conditions on a prefix of the sort attributes, left to right).
    fn composite_condition(&mut self, key: &ir::EntityKey) {
        let raw = |this: &Self, ph: &Placeholder| {
            format!(
                "rt::Attr::to_av(&::std::borrow::ToOwned::to_owned({}))",
                this.value_of(ph)
            )
        };
        let mut parts = Vec::new();
        for (i, ph) in key.pk.placeholders().enumerate() {
            let suffix = if i == 0 { String::new() } else { i.to_string() };
            let (n, v) = (format!("#pk{suffix}"), format!(":pk{suffix}"));
            self.names
                .push((n.clone(), self.entity.attributes[ph.attr].name.clone()));
            self.values.push((v.clone(), raw(self, ph)));
            parts.push(format!("{n} = {v}"));
        }
        let p = self.p;
        for (i, ph) in key
            .sk
            .iter()
            .flat_map(|t| t.placeholders())
            .take_while(|ph| is_given(p, ph))
            .enumerate()
        {
            let (n, v) = (format!("#s{i}"), format!(":s{i}"));
            self.names
                .push((n.clone(), self.entity.attributes[ph.attr].name.clone()));
            self.values.push((v.clone(), raw(self, ph)));
            parts.push(format!("{n} = {v}"));
        }
        self.condition = parts.join(" AND ");
        if let (SortCondition::Compare { op, range }, Some(sk)) = (&self.p.sort, &key.sk) {
            self.names.push((
                "#sk".into(),
                self.entity.attributes[range.attr].name.clone(),
            ));
            self.sort_range(sk, *op, range);
        }
    }

    /// `between`, `<`, `<=`, `>`, `>=` on the first sort-key placeholder the inputs leave
    /// open; the bounds are the method's range parameters.
    fn sort_range(&mut self, sk: &ir::Template, op: CompareOp, range: &Placeholder) {
        // Bounds are owned values of the placeholder's type (a year is an i32).
        let ty = placeholder_value_type(self.entity, range);
        match (op, self.p.range_params.as_slice()) {
            (CompareOp::Between, [from, to]) => {
                self.params.push(format!("{from}: {ty}"));
                self.params.push(format!("{to}: {ty}"));
                let (lo, hi) = (
                    self.bound(sk, range, from, false),
                    self.bound(sk, range, to, true),
                );
                self.values.push((":lo".into(), lo));
                self.values.push((":hi".into(), hi));
                self.condition.push_str(" AND #sk BETWEEN :lo AND :hi");
            }
            (op, [param]) => {
                let (sym, high) = match op {
                    CompareOp::Lt => ("<", false),
                    CompareOp::Lte => ("<=", true),
                    CompareOp::Gt => (">", true),
                    CompareOp::Gte | CompareOp::Between => (">=", false),
                };
                self.params.push(format!("{param}: {ty}"));
                let v = self.bound(sk, range, param, high);
                self.values.push((":sk".into(), v));
                self.condition.push_str(&format!(" AND #sk {sym} :sk"));
            }
            _ => unreachable!("the naming pass gives a range one or two parameters"),
        }
    }

    /// A key attribute's value for the condition: the template rendered, or for an
    /// attribute key the attribute's own stored value.
    fn key_value(&self, key_attr: &str, t: &ir::Template) -> String {
        match t.parts.as_slice() {
            [Part::Placeholder(ph)] if self.entity.attribute_key(key_attr, t) => format!(
                "rt::Attr::to_av(&::std::borrow::ToOwned::to_owned({}))",
                self.value_of(ph)
            ),
            _ => key_value_expr(t, self.entity, &|ph| self.value_of(ph)),
        }
    }

    /// One bound of a sort-key range: the key up to and including the bounded value.
    fn bound(&self, sk: &ir::Template, range: &Placeholder, param: &str, high: bool) -> String {
        let sk_attr = self
            .schema
            .key_attributes(self.p.index)
            .1
            .unwrap_or_default();
        if self.entity.attribute_key(sk_attr, sk) || self.composite() {
            return format!("rt::Attr::to_av(&{param})");
        }
        if template_is_numeric(sk, &self.entity.attributes) {
            return format!(
                "rt::aws_sdk_dynamodb::types::AttributeValue::N(::std::string::ToString::to_string(&{param}))"
            );
        }
        let upto = sk
            .parts
            .iter()
            .position(|part| matches!(part, Part::Placeholder(ph) if ph == range))
            .expect("range is a placeholder of the sort key");
        let mut parts: Vec<Part> = sk.parts[..=upto].to_vec();
        // Keys continue after the bounded value: make an inclusive upper bound (or a
        // strict lower one) cover every key that starts with it.
        if high && upto + 1 < sk.parts.len() {
            parts.push(Part::Literal("\u{10FFFF}".into()));
        }
        let by_param = |ph: &Placeholder| {
            if ph == range {
                format!("&{param}")
            } else {
                self.value_of(ph)
            }
        };
        string_av(&key_string_expr(&parts, &by_param))
    }

    fn filters(&mut self) {
        for (i, f) in self.p.filters.iter().enumerate() {
            let attr = &self.entity.attributes[f.attr];
            let (n, v) = (format!("#f{i}"), format!(":f{i}"));
            self.names.push((n.clone(), attr.name.clone()));
            if f.op.takes_value() {
                let expr = self.filter_value(f, attr);
                self.values.push((v.clone(), expr));
            }
            self.filters.push(match f.op {
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
    }

    /// A filter's value: its constant, or a new method parameter.
    fn filter_value(&mut self, f: &ir::Filter, attr: &ir::Attribute) -> String {
        // `contains` on a string set takes one string.
        let ty = if f.op == FilterOp::Contains && attr.ty == Type::StringSet {
            Type::String
        } else {
            attr.ty.clone()
        };
        match (&f.value, &f.param_ident) {
            // Timestamps have no constant form, so a constant needs no stored form.
            (Some(lit), _) => format!("rt::Attr::to_av(&{})", literal_expr(&ty, lit)),
            (None, Some(param)) => {
                self.params.push(format!("{param}: {}", rust_type(&ty)));
                attr_av(attr, param, false)
            }
            (None, None) => {
                unreachable!("the validator gives every valued filter a value or a parameter")
            }
        }
    }

    /// The projection expression; the entity type is always read, to decode.
    fn projection(&mut self) -> Option<String> {
        let list = self.p.projection.as_ref()?;
        let type_attr = self.schema.table.entity_type_attribute.clone();
        self.names.push(("#t".into(), type_attr));
        let mut parts = vec!["#t".to_string()];
        for (i, a) in list.iter().enumerate() {
            self.names.push((format!("#p{i}"), a.clone()));
            parts.push(format!("#p{i}"));
        }
        Some(parts.join(", "))
    }

    /// The `rt::QuerySpec` expression.
    fn spec_expr(&self, projection: Option<String>) -> String {
        let p = self.p;
        let index = match p.index {
            IndexRef::Primary => "::core::option::Option::None".to_string(),
            IndexRef::Gsi(i) => format!(
                "::core::option::Option::Some({})",
                rust_str(&self.schema.table.indexes[i].name)
            ),
        };
        let names: Vec<String> = (self.names.iter())
            .map(|(k, v)| format!("({}, {})", rust_str(k), rust_str(v)))
            .collect();
        let values: Vec<String> = (self.values.iter())
            .map(|(k, v)| format!("({}, {v})", rust_str(k)))
            .collect();
        let mut spec = format!(
            "rt::QuerySpec::new({}, {index}, {}, &[{}], ::std::vec![{}])",
            rust_str(&p.name),
            rust_str(&self.condition),
            names.join(", "),
            values.join(", "),
        );
        if !self.filters.is_empty() {
            spec.push_str(&format!(
                ".filter({})",
                rust_str(&self.filters.join(" AND "))
            ));
        }
        if let Some(proj) = projection {
            spec.push_str(&format!(".projection({})", rust_str(&proj)));
        }
        if let Some(ttl) = &p.skip_expired {
            spec.push_str(&format!(".unexpired({})", rust_str(ttl)));
        }
        if p.descending {
            spec.push_str(".descending()");
        }
        if let Some(l) = p.limit {
            spec.push_str(&format!(".page_size({l})"));
        }
        spec
    }
}

fn string_av(expr: &str) -> String {
    format!("rt::aws_sdk_dynamodb::types::AttributeValue::S({expr})")
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
        PlaceholderFormat::Value | PlaceholderFormat::Raw | PlaceholderFormat::Padded(_) => {
            rust_type(&entity.attributes[ph.attr].ty)
        }
    }
}

/// Parameter type of a key input: `&str` for strings, the value type otherwise.
fn input_type(entity: &ir::Entity, ph: &Placeholder) -> String {
    match ph.format {
        PlaceholderFormat::Year => "i32".into(),
        PlaceholderFormat::Value | PlaceholderFormat::Raw | PlaceholderFormat::Padded(_) => {
            match &entity.attributes[ph.attr].ty {
                Type::String => "&str".into(),
                ty => rust_type(ty),
            }
        }
    }
}
