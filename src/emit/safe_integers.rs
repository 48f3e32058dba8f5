//! `table.safe_integers`: the checks generated code runs so that no integer JavaScript
//! cannot hold exactly (beyond ±(2^53 − 1)) is written; the rule itself is the runtime's
//! `rt::value::check_safe`.

use super::templates::rust_str;
use crate::ir::{self, AttrRole, Schema, Type};

/// The integers in a value of `ty` at `place`, as an iterator of `&i64`; `by_ref`: `place`
/// is already a reference. `None` for types that hold no integers.
fn integers(ty: &Type, place: &str, by_ref: bool) -> Option<String> {
    let amp = if by_ref { "" } else { "&" };
    match ty {
        Type::Integer => Some(format!("::core::iter::once({amp}{place})")),
        Type::NumberSet => Some(format!("{place}.iter()")),
        Type::List(t) if **t == Type::Integer => Some(format!("{place}.iter()")),
        Type::Map(t) if **t == Type::Integer => Some(format!("{place}.values()")),
        _ => None,
    }
}

/// Statements of the entity's `check_values`: `?` on each integer the item holds.
/// Maintained attributes (the version) are the runtime's own.
pub fn value_checks(schema: &Schema, entity: &ir::Entity) -> Vec<String> {
    if !schema.table.safe_integers {
        return Vec::new();
    }
    let mut out = Vec::new();
    for a in entity
        .attributes
        .iter()
        .filter(|a| a.role == AttrRole::Data)
    {
        let name = rust_str(&a.name);
        let f = &a.field_ident;
        let check =
            |values: String| format!("rt::value::check_safe({values}).map_err(|r| ({name}, r))?;");
        if a.optional {
            if let Some(values) = integers(&a.ty, "v", true) {
                out.push(format!(
                    "if let ::core::option::Option::Some(v) = &self.{f} {{ {} }}",
                    check(values)
                ));
            }
        } else if let Some(values) = integers(&a.ty, &format!("self.{f}"), false) {
            out.push(check(values));
        }
    }
    out
}

/// A setter's statement refusing an argument `param` of type `ty` that holds an unsafe
/// integer (the update fails before the request); empty when there is nothing to check.
pub fn setter_check(schema: &Schema, attr: &ir::Attribute, param: &str, ty: &Type) -> String {
    if !schema.table.safe_integers {
        return String::new();
    }
    match integers(ty, param, false) {
        Some(values) => format!(
            "if let ::core::result::Result::Err(r) = rt::value::check_safe({values}) {{ self.spec.refuse_value({}, r); }}",
            rust_str(&attr.name)
        ),
        None => String::new(),
    }
}
