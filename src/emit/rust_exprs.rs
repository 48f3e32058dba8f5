//! Rust expressions and types for schema values, shared by the entity and the repository
//! views: type mapping, literals, item writes and reads, and key-template rendering.

use serde::Serialize;

use super::templates::rust_str;
use crate::ast::StoredAs;
use crate::ir::template_is_numeric;
use crate::ir::{self, AttrRole, Literal, Part, PlaceholderFormat, Template, Type};

#[derive(Serialize)]
pub struct FieldView {
    ident: String,
    /// The attribute's schema name (serde's name for the field).
    name: String,
    rust_type: String,
    doc: Option<String>,
    put: String,
    read: String,
    /// The field's value in `Entity::new`: what it starts as, or empty for a parameter of
    /// the field's own type (written as the shorthand `field`).
    init: String,
    /// The parameter's type when `Entity::new` takes the field.
    param: Option<String>,
}

/// How `Entity::new` fills a field: required data attributes are parameters (strings as
/// `impl Into<String>`); optional ones start absent, defaults and empty sets apply, and the
/// maintained attributes start unset (`create` and `put` stamp them; version 0 is "never
/// stored").
fn constructor(attr: &ir::Attribute) -> (String, Option<String>) {
    let ident = &attr.field_ident;
    let is_set = matches!(attr.ty, Type::StringSet | Type::NumberSet);
    match (attr.role, attr.optional, &attr.default) {
        (AttrRole::CreatedAt | AttrRole::UpdatedAt, _, _) => {
            ("rt::Timestamp::UNIX_EPOCH".into(), None)
        }
        (AttrRole::Version, _, _) => ("0".into(), None),
        (_, true, _) => ("::core::option::Option::None".into(), None),
        (_, false, Some(lit)) => (literal_expr(&attr.ty, lit), None),
        (_, false, None) if is_set => ("::core::default::Default::default()".into(), None),
        (_, false, None) if attr.ty == Type::String => (
            format!("{ident}.into()"),
            Some("impl ::core::convert::Into<::std::string::String>".into()),
        ),
        (_, false, None) => (String::new(), Some(field_type(attr))),
    }
}

pub fn rust_type(ty: &Type) -> String {
    match ty {
        Type::String => "::std::string::String".into(),
        Type::Integer => "i64".into(),
        Type::Float => "f64".into(),
        Type::Bool => "bool".into(),
        Type::Timestamp => "rt::Timestamp".into(),
        Type::Date => "rt::Date".into(),
        Type::Enum(e) => e.type_ident.clone(),
        Type::List(t) => format!("::std::vec::Vec<{}>", rust_type(t)),
        Type::StringSet => "rt::StringSet".into(),
        Type::NumberSet => "rt::NumberSet".into(),
        Type::Map(t) => format!(
            "::std::collections::BTreeMap<::std::string::String, {}>",
            rust_type(t)
        ),
    }
}

pub fn field_type(attr: &ir::Attribute) -> String {
    let t = rust_type(&attr.ty);
    if attr.optional {
        format!("::core::option::Option<{t}>")
    } else {
        t
    }
}

/// The runtime's name for a timestamp's epoch form (`EpochSeconds`, `EpochMillis`): of
/// its `Attr` newtype and of its `TimestampForm` variant alike. `None` for text.
fn epoch_form(attr: &ir::Attribute) -> Option<&'static str> {
    match attr.stored_as {
        StoredAs::Rfc3339 => None,
        StoredAs::EpochSeconds => Some("EpochSeconds"),
        StoredAs::EpochMillis => Some("EpochMillis"),
    }
}

/// The runtime newtype a timestamp stored as an epoch number converts through, if any.
pub fn stored_wrapper(attr: &ir::Attribute) -> Option<String> {
    epoch_form(attr).map(|name| format!("rt::{name}"))
}

/// `rt::Attr::to_av` of a value of `attr` (`value`, a reference when `by_ref`): through
/// the stored form's newtype for a timestamp stored as an epoch number.
pub fn attr_av(attr: &ir::Attribute, value: &str, by_ref: bool) -> String {
    match (stored_wrapper(attr), by_ref) {
        (Some(w), true) => format!("rt::Attr::to_av(&{w}(*{value}))"),
        (Some(w), false) => format!("rt::Attr::to_av(&{w}({value}))"),
        (None, true) => format!("rt::Attr::to_av({value})"),
        (None, false) => format!("rt::Attr::to_av(&{value})"),
    }
}

/// `rt::TimestampForm::..` for an attribute stored as an epoch number.
pub fn stored_form(attr: &ir::Attribute) -> Option<String> {
    epoch_form(attr).map(|name| format!("rt::TimestampForm::{name}"))
}

/// The statements that write a field onto `item`, and the expression that reads it.
fn put_and_read(attr: &ir::Attribute) -> (String, String) {
    let name = rust_str(&attr.name);
    let ident = &attr.field_ident;
    if let Some(w) = stored_wrapper(attr) {
        return if attr.optional {
            (
                format!("rt::item::write_opt(&mut item, {name}, &self.{ident}.map({w}))"),
                format!("cx.optional::<{w}>({name})?.map(|v| v.0)"),
            )
        } else {
            (
                format!("rt::item::write_attr(&mut item, {name}, &{w}(self.{ident}))"),
                format!("cx.required::<{w}>({name})?.0"),
            )
        };
    }
    let put = match (attr.role, attr.optional) {
        (AttrRole::Ttl, _) => format!("rt::item::write_ttl(&mut item, {name}, &self.{ident})"),
        (_, true) => format!("rt::item::write_opt(&mut item, {name}, &self.{ident})"),
        (_, false) => format!("rt::item::write_attr(&mut item, {name}, &self.{ident})"),
    };
    let is_set = matches!(attr.ty, Type::StringSet | Type::NumberSet);
    let read = match (attr.role, attr.optional, &attr.default) {
        (AttrRole::Ttl, _, _) => format!("cx.ttl({name})?"),
        (_, true, _) => format!("cx.optional({name})?"),
        (_, false, Some(lit)) => {
            format!("cx.or_default({name}, || {})?", literal_expr(&attr.ty, lit))
        }
        // An empty set is stored as an absent attribute (DynamoDB has no empty sets).
        (AttrRole::Version, false, None) => format!("cx.or_default({name}, || 0)?"),
        (_, false, None) if is_set => {
            format!("cx.or_default({name}, ::core::default::Default::default)?")
        }
        (_, false, None) => format!("cx.required({name})?"),
    };
    (put, read)
}

pub fn field_view(attr: &ir::Attribute) -> FieldView {
    let ident = &attr.field_ident;
    let (put, read) = put_and_read(attr);
    let (init, param) = constructor(attr);
    FieldView {
        name: attr.name.clone(),
        ident: ident.clone(),
        rust_type: field_type(attr),
        doc: attr.doc.clone(),
        put,
        read,
        init,
        param,
    }
}

/// A Rust expression for a schema constant of the given type.
pub fn literal_expr(ty: &Type, lit: &Literal) -> String {
    match (ty, lit) {
        (Type::Date, Literal::String(s)) => {
            let (y, m, d) = (
                &s[..4],
                s[5..7].trim_start_matches('0'),
                s[8..10].trim_start_matches('0'),
            );
            // Evaluated by the compiler: the validator checked the date exists.
            format!(
                "const {{ rt::Date::new({}, {m}, {d}).expect(\"a date the schema validator checked\") }}",
                y.parse::<i32>().unwrap_or_default()
            )
        }
        (_, Literal::String(s)) => format!("::std::string::String::from({})", rust_str(s)),
        (_, Literal::Integer(i)) => format!("{i}i64"),
        (_, Literal::Float(f)) => format!("{f:?}f64"),
        (_, Literal::Bool(b)) => b.to_string(),
        (Type::Enum(e), Literal::Enum(i)) => format!("{}::{}", e.type_ident, e.variants[*i].ident),
        (_, Literal::Enum(_)) => unreachable!("the validator types enum literals"),
        (_, Literal::Empty) => "::core::default::Default::default()".into(),
    }
}

/// An `AttributeValue` expression for a template, with `value(ph)` giving a reference
/// expression for each placeholder. A template that is one integer placeholder is a number.
pub fn key_value_expr(
    t: &Template,
    entity: &ir::Entity,
    value: &dyn Fn(&ir::Placeholder) -> String,
) -> String {
    if template_is_numeric(t, &entity.attributes) {
        let ph = t
            .placeholders()
            .next()
            .expect("numeric templates have one placeholder");
        return format!(
            "rt::aws_sdk_dynamodb::types::AttributeValue::N(::std::string::ToString::to_string({}))",
            value(ph)
        );
    }
    format!("rt::item::s_key({})", key_string_expr(&t.parts, value))
}

/// A block that builds the string for some template parts.
pub fn key_string_expr(parts: &[Part], value: &dyn Fn(&ir::Placeholder) -> String) -> String {
    // The common shapes get a one-line helper; others a block.
    match parts {
        [Part::Literal(l)] => return format!("::std::string::String::from({})", rust_str(l)),
        [Part::Literal(l), Part::Placeholder(ph)] if ph.format == PlaceholderFormat::Value => {
            return format!("rt::key::key1({}, {})", rust_str(l), value(ph));
        }
        [Part::Placeholder(ph)] if ph.format == PlaceholderFormat::Value => {
            return format!("rt::key::key1(\"\", {})", value(ph));
        }
        [Part::Literal(l), Part::Placeholder(ph)] if ph.format == PlaceholderFormat::Raw => {
            return format!("rt::key::key1_raw({}, {})", rust_str(l), value(ph));
        }
        [Part::Placeholder(ph)] if ph.format == PlaceholderFormat::Raw => {
            return format!("rt::key::key1_raw(\"\", {})", value(ph));
        }
        _ => {}
    }
    // Size the buffer once: the literals and fixed-width values, plus each other value's
    // own length (written as one sum, with no `0 +` for clippy to flag).
    let mut fixed = 0usize;
    let mut hints = Vec::new();
    for part in parts {
        match part {
            Part::Literal(l) => fixed += l.len(),
            Part::Placeholder(ph) => match ph.format {
                PlaceholderFormat::Year => fixed += 4,
                PlaceholderFormat::Padded(w) => fixed += usize::from(w) + 4,
                PlaceholderFormat::Value | PlaceholderFormat::Raw => {
                    hints.push(format!("rt::key::KeyPart::len_hint({})", value(ph)))
                }
            },
        }
    }
    let capacity = match (fixed, hints.is_empty()) {
        (0, false) => hints.join(" + "),
        (n, true) => n.to_string(),
        (n, false) => format!("{n} + {}", hints.join(" + ")),
    };
    let mut code = format!("{{ let mut s = ::std::string::String::with_capacity({capacity});");
    for part in parts {
        match part {
            Part::Literal(l) if l.chars().count() == 1 => code.push_str(&format!(
                "s.push({:?});",
                l.chars().next().unwrap_or_default()
            )),
            Part::Literal(l) => code.push_str(&format!("s.push_str({});", rust_str(l))),
            Part::Placeholder(ph) if ph.format == PlaceholderFormat::Year => {
                code.push_str(&format!("rt::key::push_year(&mut s, {});", value(ph)));
            }
            Part::Placeholder(
                ph @ ir::Placeholder {
                    format: PlaceholderFormat::Padded(w),
                    ..
                },
            ) => code.push_str(&format!(
                "rt::key::push_padded(&mut s, {}, {w});",
                value(ph)
            )),
            Part::Placeholder(ph) if ph.format == PlaceholderFormat::Raw => code.push_str(
                &format!("rt::key::KeyPart::push_raw({}, &mut s);", value(ph)),
            ),
            Part::Placeholder(ph) => code.push_str(&format!(
                "rt::key::KeyPart::push_key({}, &mut s);",
                value(ph)
            )),
        }
    }
    code.push_str("s }");
    code
}

/// The Rust type of a key input: the attribute's own, or `i32` for a year.
pub fn placeholder_type(entity: &ir::Entity, ph: &ir::Placeholder) -> String {
    match ph.format {
        PlaceholderFormat::Value | PlaceholderFormat::Raw | PlaceholderFormat::Padded(_) => {
            rust_type(&entity.attributes[ph.attr].ty)
        }
        PlaceholderFormat::Year => "i32".to_string(),
    }
}
