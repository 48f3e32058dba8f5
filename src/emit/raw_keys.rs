//! Keys stored raw (`escape: false`, `{name:raw}`): the checks generated code runs so that
//! a string holding the key delimiter never becomes a key, which would name a different
//! item; the rule itself is the runtime's `rt::key::raw_refusal`.

use super::templates::rust_str;
use crate::ir::{self, PlaceholderFormat, Type};

/// The string attributes that stand raw in some template of `keys`. Enums need no check:
/// the validator refuses raw enums whose values hold the delimiter.
fn raw_strings<'k>(
    entity: &ir::Entity,
    keys: impl Iterator<Item = &'k ir::EntityKey>,
) -> Vec<usize> {
    let mut out: Vec<usize> = keys
        .flat_map(|k| k.placeholders())
        .filter(|ph| ph.format == PlaceholderFormat::Raw)
        .map(|ph| ph.attr)
        .filter(|&a| entity.attributes[a].ty == Type::String)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// `return Err((attribute, why))` when the string at `place` holds the delimiter.
fn refuse_in(attr: &ir::Attribute, place: &str) -> String {
    format!(
        "if let ::core::option::Option::Some(r) = rt::key::raw_refusal({place}) {{ return ::core::result::Result::Err(({}, r)); }}",
        rust_str(&attr.name)
    )
}

/// Statements of the entity's `check_key_inputs`: every raw string of every key, and a
/// numeric partition key's sign.
pub fn entity_checks(entity: &ir::Entity) -> Vec<String> {
    let numeric = entity.numeric_partition_key().map(|ph| {
        let a = &entity.attributes[ph.attr];
        refuse_negative(a, &format!("self.{}", a.field_ident))
    });
    raw_strings(entity, entity.keys.iter())
        .into_iter()
        .map(|i| {
            let a = &entity.attributes[i];
            let f = &a.field_ident;
            if a.optional {
                format!(
                    "if let ::core::option::Option::Some(v) = &self.{f} {{ {} }}",
                    refuse_in(a, "v")
                )
            } else {
                refuse_in(a, &format!("&self.{f}"))
            }
        })
        .chain(numeric)
        .collect()
}

/// Statements of the key struct's `check_key`: the raw strings of the primary key, and a
/// numeric partition key's sign.
pub fn key_checks(entity: &ir::Entity) -> Vec<String> {
    let primary = entity.primary_key();
    let raw = raw_strings(entity, std::iter::once(primary));
    primary
        .placeholders()
        .filter(|ph| ph.format == PlaceholderFormat::Raw && raw.contains(&ph.attr))
        .map(|ph| {
            let place = format!("&self.{}", entity.placeholder_ident(ph));
            refuse_in(&entity.attributes[ph.attr], &place)
        })
        .chain(entity.numeric_partition_key().map(|ph| {
            let place = format!("self.{}", entity.placeholder_ident(ph));
            refuse_negative(&entity.attributes[ph.attr], &place)
        }))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// `return Err((attribute, why))` when the number at `place` is negative
/// (`rt::key::partition_number_refusal`; see `ir::Entity::numeric_partition_key`).
fn refuse_negative(attr: &ir::Attribute, place: &str) -> String {
    format!(
        "if let ::core::option::Option::Some(r) = rt::key::partition_number_refusal({place}) {{ return ::core::result::Result::Err(({}, r)); }}",
        rust_str(&attr.name)
    )
}

/// A setter's statements refusing its arguments (named as the fields: the value of `attr`,
/// then the key inputs `extras`, an `Option` where optional) that a key stores raw and
/// that hold the delimiter: the update fails before the request.
pub fn setter_checks(entity: &ir::Entity, attr: usize, extras: &[usize]) -> String {
    let raw = raw_strings(entity, entity.keys.iter());
    std::iter::once(attr)
        .chain(extras.iter().copied())
        .filter(|x| raw.contains(x))
        .map(|x| {
            let a = &entity.attributes[x];
            let f = &a.field_ident;
            let refusal = if x != attr && a.optional {
                format!("{f}.as_deref().and_then(rt::key::raw_refusal)")
            } else {
                format!("rt::key::raw_refusal(&{f})")
            };
            format!(
                "if let ::core::option::Option::Some(r) = {refusal} {{ self.spec.refuse({}, r); }}",
                rust_str(&a.name)
            )
        })
        .collect()
}

/// The calls on a pattern's `QuerySpec` that refuse inputs a raw key cannot hold:
/// `.raw_input(entity, attribute, value)` for each raw string among `inputs` (each a
/// placeholder and the `&str`-like expression of its value).
pub fn pattern_checks(entity: &ir::Entity, inputs: &[(&ir::Placeholder, String)]) -> String {
    inputs
        .iter()
        .filter(|(ph, _)| {
            ph.format == PlaceholderFormat::Raw && entity.attributes[ph.attr].ty == Type::String
        })
        .map(|(ph, value)| {
            format!(
                ".raw_input({}, {}, {value})",
                rust_str(&entity.type_value),
                rust_str(&entity.attributes[ph.attr].name)
            )
        })
        .collect()
}
