//! Keys built from `updatedAt`: every update rewrites them with its own time. Inputs the
//! primary key does not give (`USER#{username}` / `{updatedAt}` on a session keyed by its
//! id) are kept in the update builder's `restamp` field, one `Option` per input: a `with_`
//! method names the stored value (and guards it, like a setter's key input), a setter of
//! the attribute or one that takes it as a key input records the value it uses. When the
//! update is sent, the keys are built from them; an input nobody gave refuses the update
//! before any request.

use super::rust_exprs::rust_type;
use super::rust_ops::{
    ParamView, guard_statement, if_all_present, remove_key_statements, set_key_statements,
};
use super::templates::rust_str;
use crate::ir::{self, Placeholder, Schema};

/// The type of the builder's `restamp` field, when the entity has such inputs: a tuple
/// with one `Option` per input (of an `Option` for an optional attribute, whose `None`
/// means "the item has none").
pub fn field_type(schema: &Schema, entity: &ir::Entity) -> Option<String> {
    let inputs = schema.restamp_inputs(entity);
    if inputs.is_empty() {
        return None;
    }
    let types: String = inputs
        .iter()
        .map(|&a| {
            format!(
                "::core::option::Option<{}>, ",
                value_type(&entity.attributes[a])
            )
        })
        .collect();
    Some(format!("({types})"))
}

/// What one input holds once given: the value, or for an optional attribute, its presence.
fn value_type(attr: &ir::Attribute) -> String {
    let ty = rust_type(&attr.ty);
    if attr.optional {
        format!("::core::option::Option<{ty}>")
    } else {
        ty
    }
}

/// The statement recording `value` (an expression of [`value_type`], moved) as the input
/// `attr` for the rebuild; empty when `attr` is not such an input. Setters end with it.
pub fn record(schema: &Schema, entity: &ir::Entity, attr: usize, value: &str) -> String {
    match schema
        .restamp_inputs(entity)
        .iter()
        .position(|&a| a == attr)
    {
        Some(i) => format!("self.restamp.{i} = ::core::option::Option::Some({value});"),
        None => String::new(),
    }
}

/// `with_<attr>`: the doc, the parameter and the body (a guard, then the record).
pub fn with_method(
    schema: &Schema,
    entity: &ir::Entity,
    attr: usize,
) -> (String, Vec<ParamView>, String) {
    let a = &entity.attributes[attr];
    // Only entities with an update time have `with_` methods.
    let stamped = entity.updated_at.map(|u| schema.keys_writing(entity, u));
    let keys: Vec<String> = (stamped.into_iter().flatten())
        .filter(|k| k.uses(attr))
        .map(|k| format!("`{}`", schema.index_name(k.index)))
        .collect();
    let absent = if a.optional {
        " `None` says the item has none, and the update takes it out of those indexes."
    } else {
        ""
    };
    let doc = format!(
        "The stored `{}`: every update rebuilds the {} key from it and the update time, \
         so the update applies only if the item holds this value \
         ([`rt::Error::KeyInputMismatch`] otherwise).{absent} Not needed when the update \
         sets it.",
        a.name,
        keys.join(", ")
    );
    let param = ParamView {
        ident: a.field_ident.clone(),
        ty: value_type(a),
    };
    let body = format!(
        "{}{}",
        guard_statement(a),
        record(schema, entity, attr, &a.field_ident)
    );
    (doc, vec![param], body)
}

/// The statements of `into_parts` for a non-empty update: every key built from
/// `updatedAt`, rebuilt from the stamped time, the primary key and the recorded inputs.
pub fn touch_statements(schema: &Schema, entity: &ir::Entity) -> String {
    let Some(u) = entity.updated_at else {
        return String::new();
    };
    let inputs = schema.restamp_inputs(entity);
    let bound = |attr: usize| {
        inputs
            .iter()
            .position(|&a| a == attr)
            .map(|i| format!("input_{i}"))
    };
    let value_of = |ph: &Placeholder| -> String {
        if ph.attr == u {
            "&spec.now()".to_string()
        } else if let Some(name) = bound(ph.attr) {
            name
        } else {
            format!("&self.key.{}", entity.placeholder_ident(ph))
        }
    };
    let mut body = String::new();
    for k in schema.keys_writing(entity, u) {
        let sets = set_key_statements(schema, entity, k, "spec", &value_of);
        let optional: Vec<String> = (inputs.iter().enumerate())
            .filter(|&(_, &a)| entity.attributes[a].optional && k.uses(a))
            .map(|(i, _)| format!("input_{i}"))
            .collect();
        let optional: Vec<&str> = optional.iter().map(String::as_str).collect();
        let removes = remove_key_statements(schema, entity, k, "spec");
        body.push_str(&if_all_present(&optional, &sets, &removes));
    }
    if inputs.is_empty() {
        return body;
    }
    let patterns: Vec<String> = (0..inputs.len())
        .map(|i| format!("::core::option::Option::Some(input_{i})"))
        .collect();
    let sources: Vec<String> = (0..inputs.len())
        .map(|i| format!("&self.restamp.{i}"))
        .collect();
    let first = &entity.attributes[inputs[0]];
    format!(
        "if let ({},) = ({},) {{ {body} }} else {{ spec.refuse({}, {}.into()); }}",
        patterns.join(", "),
        sources.join(", "),
        rust_str(&first.name),
        rust_str(&missing_reason(entity, &inputs)),
    )
}

/// Why an update that did not name a key input cannot be built.
fn missing_reason(entity: &ir::Entity, inputs: &[usize]) -> String {
    let methods: Vec<String> = entity
        .setters
        .iter()
        .filter(|s| s.kind == ir::SetterKind::With && inputs.contains(&s.attr))
        .map(|s| format!("`{}`", s.ident))
        .collect();
    format!(
        "every update rebuilds the keys built from the update time, which need the stored value; give it with {}",
        methods.join(", ")
    )
}
