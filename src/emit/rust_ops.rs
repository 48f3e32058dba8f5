//! Views for the runtime half of the Rust output: each entity's repository and typed
//! update builder, each access pattern's query, and the `Db` methods.

use serde::Serialize;

use super::rust_exprs::{attr_av, field_type, key_value_expr, rust_type, stored_form};
use super::templates::rust_str;
use crate::ir::{self, AttrRole, IndexRef, Placeholder, Schema, SetterKind, Type};

#[derive(Serialize)]
pub struct RepoView {
    ident: String,
    name: String,
    removable: Vec<String>,
    created_at_const: String,
    /// `rt::TimestampForm::..` when the maintained timestamps are epoch numbers.
    timestamps_stored_as: Option<String>,
    updated_at_const: String,
    version_const: String,
    version_expr: String,
    stamp_params: String,
    stamp_body: String,
    update_methods: Vec<SetterView>,
    has_version: bool,
    index_keys: Vec<Vec<String>>,
    created_at_keys: &'static str,
    created_at_expr: String,
    set_created_at_body: String,
    touch_body: String,
    /// The type of the update builder's `restamp` field (`restamp.rs`), when it has one.
    restamp_type: Option<String>,
    /// The TTL field, when the entity has one (reads skip expired items).
    ttl_field: Option<String>,
    /// Statements of `check_key_inputs`: each zero-padded key input within its width.
    key_input_checks: Vec<String>,
    /// Statements of the key's `check_key` (raw keys).
    key_checks: Vec<String>,
    /// `rt::Unique { .. }` expressions, one per unique constraint.
    uniques: Vec<String>,
    /// Statements of `check_values` (`safe_integers`).
    value_checks: Vec<String>,
}

/// String attributes that are index keys themselves (attribute keys): DynamoDB refuses an
/// empty string in an index key, so writes refuse it first.
fn string_attribute_keys(schema: &Schema, entity: &ir::Entity) -> Vec<usize> {
    let mut out: Vec<usize> = entity
        .keys
        .iter()
        .filter(|k| k.index != IndexRef::Primary)
        .flat_map(|k| {
            let (pk, sk) = schema.key_attributes(k.index);
            [Some((pk, &k.pk)), sk.zip(k.sk.as_ref())]
        })
        .flatten()
        .filter(|(attr, t)| entity.attribute_key(attr, t))
        .filter_map(|(attr, _)| entity.attributes.iter().position(|a| a.name == attr))
        .collect();
    // Every attribute of a multi-attribute key is a key attribute too.
    out.extend(
        entity
            .keys
            .iter()
            .filter(|k| matches!(k.index, IndexRef::Gsi(i) if schema.table.indexes[i].composite.is_some()))
            .flat_map(|k| k.placeholders().map(|ph| ph.attr)),
    );
    out.retain(|&i| entity.attributes[i].ty == Type::String);
    out.sort_unstable();
    out.dedup();
    out
}

const EMPTY_INDEX_KEY: &str = "an index key cannot be an empty string";

/// Checks that a padded key input fits its width, and that a string attribute key is not
/// empty, for `check_key_inputs`: `?` on an `(attribute, why)` error.
fn key_input_checks(schema: &Schema, entity: &ir::Entity) -> Vec<String> {
    let mut out = Vec::new();
    for i in string_attribute_keys(schema, entity) {
        let a = &entity.attributes[i];
        let (name, f) = (rust_str(&a.name), &a.field_ident);
        // One `if` either way (no nested `if let`, which clippy would ask to collapse
        // into a let chain that older editions lack).
        let empty = if a.optional {
            format!("self.{f}.as_ref().is_some_and(|v| v.is_empty())")
        } else {
            format!("self.{f}.is_empty()")
        };
        out.push(format!(
            "if {empty} {{ return ::core::result::Result::Err(({name}, {EMPTY_INDEX_KEY:?}.into())); }}"
        ));
    }
    for (i, a) in entity.attributes.iter().enumerate() {
        let name = rust_str(&a.name);
        for w in entity.padded_widths(i) {
            let check = format!("rt::key::fits_padded(*v, {w}).map_err(|r| ({name}, r))?;");
            let f = &a.field_ident;
            out.push(if a.optional {
                format!("if let ::core::option::Option::Some(v) = &self.{f} {{ {check} }}")
            } else {
                format!("{{ let v = &self.{f}; {check} }}")
            });
        }
    }
    out.extend(super::raw_keys::entity_checks(entity));
    out
}

/// `rt::TimestampForm::..` when the entity's maintained timestamps are epoch numbers.
fn timestamps_form(entity: &ir::Entity) -> Option<String> {
    let stamped = entity.created_at.or(entity.updated_at)?;
    stored_form(&entity.attributes[stamped])
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
        // Every attribute an item may lack: optional ones, and sets (an empty set is
        // stored as no attribute, since DynamoDB has no empty sets).
        let mut removable: Vec<String> = entity
            .attributes
            .iter()
            .filter(|a| a.optional || matches!(a.ty, Type::StringSet | Type::NumberSet))
            .map(|a| a.name.clone())
            .collect();
        for key in entity.keys.iter().filter(|k| k.sparse) {
            let (pk, sk) = schema.written_key_attributes(entity, key);
            removable.extend(pk.map(str::to_string));
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
            name: entity.type_value.clone(),
            removable,
            created_at_const: opt_str(attr_name(entity.created_at)),
            timestamps_stored_as: timestamps_form(entity),
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
            index_keys: index_key_attributes(schema, entity),
            created_at_keys: created_at_keys(entity),
            created_at_expr: match entity.created_at {
                Some(c) => format!("::core::option::Option::Some(self.{})", field(c)),
                None => "::core::option::Option::None".into(),
            },
            set_created_at_body: entity
                .created_at
                .map(|c| format!("self.{} = at;", field(c)))
                .unwrap_or_default(),
            touch_body: super::restamp::touch_statements(schema, entity),
            restamp_type: super::restamp::field_type(schema, entity),
            ttl_field: entity.ttl.map(field),
            key_input_checks: key_input_checks(schema, entity),
            key_checks: super::raw_keys::key_checks(entity),
            uniques: unique_exprs(entity),
            value_checks: super::safe_integers::value_checks(schema, entity),
        }
    }
}

/// The entity's unique constraints as `rt::Unique` values.
fn unique_exprs(entity: &ir::Entity) -> Vec<String> {
    entity
        .uniques
        .iter()
        .map(|u| {
            let attrs: Vec<String> = u
                .attrs
                .iter()
                .map(|&a| rust_str(&entity.attributes[a].name))
                .collect();
            format!(
                "rt::Unique {{ name: {}, attributes: &[{}] }}",
                rust_str(&u.name),
                attrs.join(", ")
            )
        })
        .collect()
}

/// The index key attributes an entity's items carry.
fn index_key_attributes(schema: &Schema, entity: &ir::Entity) -> Vec<Vec<String>> {
    let secondary = entity.keys.iter().filter(|k| k.index != IndexRef::Primary);
    let written = secondary.map(|k| {
        let (pk, sk) = schema.written_key_attributes(entity, k);
        pk.into_iter()
            .chain(sk)
            .map(str::to_string)
            .collect::<Vec<_>>()
    });
    written.filter(|attrs| !attrs.is_empty()).collect()
}

/// Which keys use the creation time: the runtime's `CreatedAtKeys`.
fn created_at_keys(entity: &ir::Entity) -> &'static str {
    let Some(c) = entity.created_at else {
        return "rt::CreatedAtKeys::None";
    };
    if entity.primary_key().uses(c) {
        "rt::CreatedAtKeys::Primary"
    } else if entity.keys_using(c).next().is_some() {
        "rt::CreatedAtKeys::Index"
    } else {
        "rt::CreatedAtKeys::None"
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
    pub(super) ident: String,
    pub(super) ty: String,
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
            let mut body = format!("self.spec.remove({name});");
            for k in schema
                .keys_writing(entity, setter.attr)
                .filter(|k| k.sparse)
            {
                body.push_str(&remove_key_statements(schema, entity, k, "self.spec"));
            }
            body.push_str(&super::restamp::record(
                schema,
                entity,
                setter.attr,
                "::core::option::Option::None",
            ));
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
            format!(
                "{}self.spec.add({name}, rt::Attr::to_av(&delta));",
                safe(schema, attr, "delta", &attr.ty)
            ),
        ),
        SetterKind::Append => (
            format!("Appends to the end of `{}`.", attr.name),
            vec![value],
            format!(
                "{}self.spec.append({name}, rt::Attr::to_av(&{f}));",
                safe(schema, attr, f, &attr.ty)
            ),
        ),
        SetterKind::AddTo => (
            format!("Adds members to the set `{}`.", attr.name),
            vec![value],
            format!(
                "{}if !{f}.is_empty() {{ self.spec.add({name}, rt::Attr::to_av(&{f})); }}",
                safe(schema, attr, f, &attr.ty)
            ),
        ),
        SetterKind::With => super::restamp::with_method(schema, entity, setter.attr),
        SetterKind::RemoveFrom => (
            format!("Removes members from the set `{}`.", attr.name),
            vec![value],
            format!("if !{f}.is_empty() {{ self.spec.delete({name}, rt::Attr::to_av(&{f})); }}"),
        ),
    };
    SetterView {
        doc,
        ident: setter.ident.clone(),
        params,
        body,
    }
}

use super::safe_integers::setter_check as safe;

/// `set_<attr>`: stores the value and rewrites every index key built from it; takes the
/// other attributes those keys need that the primary key does not give.
fn set_view(schema: &Schema, entity: &ir::Entity, setter: &ir::Setter) -> SetterView {
    let ai = setter.attr;
    let attr = &entity.attributes[ai];
    let affected: Vec<&ir::EntityKey> = schema.keys_writing(entity, ai).collect();
    let extras = schema.key_inputs_besides(entity, ai, &affected);
    let optional = |x: usize| entity.attributes[x].optional;
    let value_of = |ph: &Placeholder| -> String {
        if Some(ph.attr) == entity.updated_at {
            "&self.spec.now()".to_string()
        } else if extras.contains(&ph.attr) && optional(ph.attr) {
            // Bound by reference in the `if let` around the key statements.
            entity.attributes[ph.attr].field_ident.clone()
        } else if ph.attr == ai || extras.contains(&ph.attr) {
            format!("&{}", entity.attributes[ph.attr].field_ident)
        } else {
            format!("&self.key.{}", entity.placeholder_ident(ph))
        }
    };
    let mut body = key_refusals(schema, entity, ai, &extras);
    body.push_str(&safe(schema, attr, &attr.field_ident, &attr.ty));
    body.push_str(&set_statement(attr));
    // The key inputs the caller gives must be the stored values, or the key is wrong.
    for &x in &extras {
        body.push_str(&guard_statement(&entity.attributes[x]));
    }
    for k in &affected {
        let sets = set_key_statements(schema, entity, k, "self.spec", &value_of);
        let absent: Vec<&str> = extras
            .iter()
            .filter(|&&x| optional(x) && k.placeholders().any(|ph| ph.attr == x))
            .map(|&x| entity.attributes[x].field_ident.as_str())
            .collect();
        body.push_str(&if_all_present(
            &absent,
            &sets,
            &remove_key_statements(schema, entity, k, "self.spec"),
        ));
    }
    // Last, since they move the values: the keys built from the update time need them too.
    let own = match attr.optional {
        true => format!("::core::option::Option::Some({})", attr.field_ident),
        false => attr.field_ident.clone(),
    };
    body.push_str(&super::restamp::record(schema, entity, ai, &own));
    for &x in &extras {
        let given = &entity.attributes[x].field_ident;
        body.push_str(&super::restamp::record(schema, entity, x, given));
    }
    let params = std::iter::once(ai)
        .chain(extras.iter().copied())
        .map(|x| {
            let a = &entity.attributes[x];
            let ty = rust_type(&a.ty);
            ParamView {
                ident: a.field_ident.clone(),
                ty: if x != ai && a.optional {
                    format!("::core::option::Option<{ty}>")
                } else {
                    ty
                },
            }
        })
        .collect();
    SetterView {
        doc: set_doc(schema, entity, attr, &affected, &extras),
        ident: setter.ident.clone(),
        params,
        body,
    }
}

/// A setter's statements refusing, before the request, arguments no key can hold: a
/// number too wide for a padded key it feeds, an empty string attribute key, a string
/// holding the delimiter where a key stores it raw.
fn key_refusals(schema: &Schema, entity: &ir::Entity, ai: usize, extras: &[usize]) -> String {
    let attr = &entity.attributes[ai];
    let mut body: String = entity
        .padded_widths(ai)
        .into_iter()
        .map(|w| {
            format!(
                "if let ::core::result::Result::Err(r) = rt::key::fits_padded({}, {w}) {{ self.spec.refuse({}, r); }}",
                attr.field_ident,
                rust_str(&attr.name)
            )
        })
        .collect();
    if string_attribute_keys(schema, entity).contains(&ai) {
        body.push_str(&format!(
            "if {}.is_empty() {{ self.spec.refuse({}, {EMPTY_INDEX_KEY:?}.into()); }}",
            attr.field_ident,
            rust_str(&attr.name)
        ));
    }
    body.push_str(&super::raw_keys::setter_checks(entity, ai, extras));
    body
}

/// The condition that a key input the caller gave is the stored value (or, for an optional
/// one given as `None`, that the item has none).
pub(super) fn guard_statement(a: &ir::Attribute) -> String {
    let (name, f) = (rust_str(&a.name), &a.field_ident);
    if a.optional {
        format!(
            "match &{f} {{ ::core::option::Option::Some(v) => self.spec.guard({name}, {}), ::core::option::Option::None => self.spec.guard_absent({name}) }}",
            attr_av(a, "v", true)
        )
    } else {
        format!("self.spec.guard({name}, {});", attr_av(a, f, false))
    }
}

/// `then` when every optional input in `optional` is `Some` (bound by reference under its
/// own name), else `otherwise`: a sparse key is written only when all its inputs exist.
pub(super) fn if_all_present(optional: &[&str], then: &str, otherwise: &str) -> String {
    match optional {
        [] => then.to_string(),
        [one] => format!(
            "if let ::core::option::Option::Some({one}) = {one}.as_ref() {{ {then} }} else {{ {otherwise} }}"
        ),
        many => format!(
            "if let ({},) = ({},) {{ {then} }} else {{ {otherwise} }}",
            many.iter()
                .map(|f| format!("::core::option::Option::Some({f})"))
                .collect::<Vec<_>>()
                .join(", "),
            many.iter()
                .map(|f| format!("{f}.as_ref()"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    }
}

/// Statements removing both key attributes of `k` (the item leaves that sparse index).
pub(super) fn remove_key_statements(
    schema: &Schema,
    entity: &ir::Entity,
    k: &ir::EntityKey,
    spec: &str,
) -> String {
    let (pk_attr, sk_attr) = schema.written_key_attributes(entity, k);
    pk_attr
        .into_iter()
        .chain(sk_attr)
        .map(|a| format!("{spec}.remove({});", rust_str(a)))
        .collect()
}

/// Statements setting both key attributes of `k`, each built by its template.
pub(super) fn set_key_statements(
    schema: &Schema,
    entity: &ir::Entity,
    k: &ir::EntityKey,
    spec: &str,
    value_of: &dyn Fn(&Placeholder) -> String,
) -> String {
    schema
        .written_keys(entity, k)
        .into_iter()
        .map(|(attr, t)| {
            format!(
                "{spec}.set({}, {});",
                rust_str(attr),
                key_value_expr(t, entity, value_of)
            )
        })
        .collect()
}

/// The statement that stores the attribute's new value (an empty set removes it, since
/// DynamoDB stores no empty sets; a TTL is epoch seconds).
fn set_statement(attr: &ir::Attribute) -> String {
    let name = rust_str(&attr.name);
    let f = &attr.field_ident;
    if attr.role == AttrRole::Ttl {
        format!("self.spec.set({name}, rt::Attr::to_av(&rt::EpochSeconds({f})));")
    } else if matches!(attr.ty, Type::StringSet | Type::NumberSet) {
        format!(
            "if {f}.is_empty() {{ self.spec.remove({name}); }} else {{ self.spec.set({name}, rt::Attr::to_av(&{f})); }}"
        )
    } else {
        format!("self.spec.set({name}, {});", attr_av(attr, f, false))
    }
}

fn set_doc(
    schema: &Schema,
    entity: &ir::Entity,
    attr: &ir::Attribute,
    affected: &[&ir::EntityKey],
    extras: &[usize],
) -> String {
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
            "\nAlso takes {} because an index key is built from them too; the update applies only if they are the stored values ([`rt::Error::KeyInputMismatch`] otherwise).",
            names.join(", ")
        ));
    }
    doc
}

/// The `link_`/`unlink_` methods of a many-to-many relationship, for `db.rs.j2`.
#[derive(Serialize)]
pub struct LinkView {
    link: String,
    unlink: String,
    link_doc: String,
    unlink_doc: String,
    /// `name: Type` of `link`: every attribute of both relationship items, once.
    link_params: Vec<String>,
    /// Struct expressions of the two items, built from those parameters.
    a_value: String,
    b_value: String,
    /// `name: Type` of `unlink`: every key input of both items, once.
    unlink_params: Vec<String>,
    a_key: String,
    b_key: String,
    /// Key expressions of the ends `link` requires (`check_ends`).
    end_checks: Vec<String>,
}

/// `link_<rel>` / `unlink_<rel>` for a many-to-many relationship with one item per direction
/// (the naming pass decided whether it has them, and their names). Both items are built
/// from one set of parameters, so an attribute they share (`joinedAt`, the two ids) cannot
/// differ between them.
pub fn relationship_methods(schema: &Schema, r: &ir::Relationship) -> Option<LinkView> {
    let methods = r.methods.as_ref()?;
    let (a, b) = (
        &schema.entities[r.through[0]],
        &schema.entities[r.through[1]],
    );
    let mut link_params: Vec<(String, String)> = Vec::new();
    let mut unlink_params: Vec<(String, String)> = Vec::new();
    for e in [a, b] {
        for attr in e.attributes.iter().filter(|x| link_input(x)) {
            add_param(&mut link_params, &attr.field_ident, field_type(attr));
        }
        for ph in e.primary_key().distinct_placeholders() {
            add_param(
                &mut unlink_params,
                &e.placeholder_ident(&ph),
                super::rust_exprs::placeholder_type(e, &ph),
            );
        }
    }
    let show = |params: Vec<(String, String)>| -> Vec<String> {
        params
            .into_iter()
            .map(|(n, t)| format!("{n}: {t}"))
            .collect()
    };
    Some(LinkView {
        link: methods.link.clone(),
        unlink: methods.unlink.clone(),
        link_doc: link_doc(schema, r),
        unlink_doc: format!(
            "Removes both relationship items of `{}` in one transaction: `true` if the link existed; `false` if it did not (any half of it another writer left is removed too).",
            r.name
        ),
        link_params: show(link_params),
        a_value: link_value(a),
        b_value: link_value(b),
        unlink_params: show(unlink_params),
        a_key: link_key(a),
        b_key: link_key(b),
        end_checks: r.end_checks.iter().map(|c| end_key(schema, c)).collect(),
    })
}

fn link_doc(schema: &Schema, r: &ir::Relationship) -> String {
    let (from, to) = (&schema.entities[r.from].name, &schema.entities[r.to].name);
    let ends = if r.end_checks.is_empty() {
        String::new()
    } else {
        format!(
            ", or if the `{from}` or the `{to}` does not (a condition check on each, in the same transaction)"
        )
    };
    format!(
        "Links a `{from}` and a `{to}` ({}): creates both relationship items, from these values, in one transaction; fails if either exists{ends}.",
        r.name
    )
}

/// The key of an end `link` requires, built from the link's parameters.
fn end_key(schema: &Schema, c: &ir::EndCheck) -> String {
    let e = &schema.entities[c.end];
    let fields: Vec<String> = (c.inputs.iter())
        .map(|(ph, t, ia)| {
            let param = &schema.entities[*t].attributes[*ia].field_ident;
            format!(
                "{}: ::core::clone::Clone::clone(&{param})",
                e.placeholder_ident(ph)
            )
        })
        .collect();
    format!("{}Key {{ {} }}", e.type_ident, fields.join(", "))
}

/// Attributes the caller gives a link: the application's own (and a TTL); dyngen stamps
/// the rest on create.
fn link_input(attr: &ir::Attribute) -> bool {
    matches!(attr.role, AttrRole::Data | AttrRole::Ttl)
}

fn add_param(params: &mut Vec<(String, String)>, ident: &str, ty: String) {
    if !params.iter().any(|(n, _)| n == ident) {
        params.push((ident.to_string(), ty));
    }
}

/// One relationship item built from the link's parameters.
fn link_value(e: &ir::Entity) -> String {
    let fields: Vec<String> = e
        .attributes
        .iter()
        .map(|attr| {
            let value = match attr.role {
                AttrRole::Data | AttrRole::Ttl => {
                    format!("::core::clone::Clone::clone(&{})", attr.field_ident)
                }
                AttrRole::CreatedAt | AttrRole::UpdatedAt => "rt::Timestamp::UNIX_EPOCH".into(),
                AttrRole::Version => "0".into(),
            };
            format!("{}: {value}", attr.field_ident)
        })
        .collect();
    format!("{} {{ {} }}", e.type_ident, fields.join(", "))
}

/// One relationship item's key built from the unlink's parameters.
fn link_key(e: &ir::Entity) -> String {
    let fields: Vec<String> = e
        .primary_key()
        .distinct_placeholders()
        .iter()
        .map(|ph| {
            let f = e.placeholder_ident(ph);
            format!("{f}: ::core::clone::Clone::clone(&{f})")
        })
        .collect();
    format!("{}Key {{ {} }}", e.type_ident, fields.join(", "))
}
