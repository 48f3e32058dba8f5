//! `table.safe_integers`: the checks generated code runs so that no integer JavaScript
//! cannot hold exactly (beyond ±(2^53 − 1)) is written; the rule itself is the runtime's
//! `rt::value::check_safe`.

use super::templates::rust_str;
use crate::ir::{self, AttrRole, Schema, Type};

/// The numbers in a value of `ty` at `place`, as the runtime check that takes them
/// (`check_safe` for `&i64`, `check_safe_floats` for `&f64`) and an iterator over them;
/// `by_ref`: `place` is already a reference. `None` for types that hold no numbers.
fn numbers(ty: &Type, place: &str, by_ref: bool) -> Option<String> {
    let amp = if by_ref { "" } else { "&" };
    let (check, values) = match ty {
        Type::Integer => ("check_safe", format!("::core::iter::once({amp}{place})")),
        Type::Float => (
            "check_safe_floats",
            format!("::core::iter::once({amp}{place})"),
        ),
        Type::NumberSet => ("check_safe", format!("{place}.iter()")),
        Type::List(t) | Type::Map(t) if !matches!(**t, Type::Integer | Type::Float) => return None,
        Type::List(t) => (checker(t), format!("{place}.iter()")),
        Type::Map(t) => (checker(t), format!("{place}.values()")),
        _ => return None,
    };
    Some(format!("rt::value::{check}({values})"))
}

fn checker(element: &Type) -> &'static str {
    if *element == Type::Float {
        "check_safe_floats"
    } else {
        "check_safe"
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
        let check = |call: String| format!("{call}.map_err(|r| ({name}, r))?;");
        if a.optional {
            if let Some(values) = numbers(&a.ty, "v", true) {
                out.push(format!(
                    "if let ::core::option::Option::Some(v) = &self.{f} {{ {} }}",
                    check(values)
                ));
            }
        } else if let Some(values) = numbers(&a.ty, &format!("self.{f}"), false) {
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
    match numbers(ty, param, false) {
        Some(call) => format!(
            "if let ::core::result::Result::Err(r) = {call} {{ self.spec.refuse_value({}, r); }}",
            rust_str(&attr.name)
        ),
        None => String::new(),
    }
}
