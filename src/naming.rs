//! Every Rust identifier dyngen prints is decided here.
//!
//! Schema names are free text; Rust names are not. The rules: convert case with `heck`,
//! turn keywords into raw identifiers (`r#type`), rename the few that cannot be raw
//! (`self`, `super`, `crate`, `Self`), and prefix a leading digit with `_`. Type names
//! that would shadow what dyngen itself generates get an `Entity` suffix. Collisions that
//! survive conversion (`userId` and `user_id`) are reported by the validator, which calls
//! these functions and compares their results.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Strict and reserved keywords of Rust 2024 (`r#` works for all but the four below).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Top-level type names the generated file defines or imports itself; a schema type with
/// one of these names is renamed (`DbEntity`) so it cannot shadow them.
pub const RESERVED_TYPE_NAMES: &[&str] = &[
    "Cursor",
    "Date",
    "Db",
    "Error",
    "Page",
    "TableChange",
    "Timestamp",
];

/// How a converted name is spelled, for the non-ASCII escape.
#[derive(Clone, Copy)]
enum Case {
    Snake,
    Camel,
}

/// Keep only ASCII characters valid in an identifier: other letters and digits become their
/// code point in hex (`é` → `_ue9` in snake case, `Ue9` in camel case), so no identifier
/// can be confusable with another or mix scripts, and no lint fires on it; punctuation
/// becomes `_`. A name that starts with a digit gets `_`.
fn sanitize(converted: &str, case: Case) -> String {
    let mut s = String::with_capacity(converted.len());
    for c in converted.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            s.push(c);
        } else if c.is_alphanumeric() {
            match case {
                Case::Snake => s.push_str(&format!("_u{:x}", u32::from(c))),
                Case::Camel => s.push_str(&format!("U{:x}", u32::from(c))),
            }
        } else if matches!(case, Case::Snake) {
            s.push('_');
        }
    }
    if s.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

fn escape_keyword(ident: String) -> String {
    if NOT_RAW.contains(&ident.as_str()) {
        format!("{ident}_")
    } else if KEYWORDS.contains(&ident.as_str()) {
        format!("r#{ident}")
    } else {
        ident
    }
}

/// `snake_case` identifier for fields, methods, parameters and modules. `None` when the
/// name has no character a Rust identifier could use.
pub fn snake_ident(name: &str) -> Option<String> {
    let s = sanitize(&name.to_snake_case(), Case::Snake);
    if s.trim_matches('_').is_empty() {
        return None;
    }
    Some(escape_keyword(s))
}

/// Whether [`type_ident`] renames `name` because the generated module defines that type
/// itself (`Db` becomes `DbEntity`).
pub fn type_ident_is_renamed(name: &str) -> bool {
    let s = sanitize(&name.to_upper_camel_case(), Case::Camel);
    s == "Self" || RESERVED_TYPE_NAMES.contains(&s.as_str())
}

/// `UpperCamelCase` identifier for types. `None` when the name has no usable character.
pub fn type_ident(name: &str) -> Option<String> {
    let s = sanitize(&name.to_upper_camel_case(), Case::Camel);
    if s.trim_matches('_').is_empty() {
        return None;
    }
    if s == "Self" || RESERVED_TYPE_NAMES.contains(&s.as_str()) {
        return Some(format!("{s}Entity"));
    }
    Some(s)
}

/// Identifier of an enum variant; the same rules as a type, without the reserved list.
pub fn variant_ident(value: &str) -> Option<String> {
    let s = sanitize(&value.to_upper_camel_case(), Case::Camel);
    if s.trim_matches('_').is_empty() {
        return None;
    }
    Some(if s == "Self" {
        "SelfValue".to_string()
    } else {
        s
    })
}

/// The name by which collisions are compared: without the `r#` prefix.
pub fn bare(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_become_raw_or_renamed() {
        assert_eq!(snake_ident("type").as_deref(), Some("r#type"));
        assert_eq!(snake_ident("async").as_deref(), Some("r#async"));
        assert_eq!(snake_ident("self").as_deref(), Some("self_"));
        assert_eq!(snake_ident("crate").as_deref(), Some("crate_"));
        assert_eq!(type_ident("self").as_deref(), Some("SelfEntity"));
        assert_eq!(type_ident("Error").as_deref(), Some("ErrorEntity"));
    }

    #[test]
    fn digits_and_punctuation() {
        assert_eq!(snake_ident("1st").as_deref(), Some("_1st"));
        assert_eq!(snake_ident("user-id").as_deref(), Some("user_id"));
        assert_eq!(snake_ident("userId").as_deref(), Some("user_id"));
        assert_eq!(type_ident("2fa token").as_deref(), Some("_2faToken"));
        assert_eq!(snake_ident("###"), None);
        assert_eq!(variant_ident("in-progress").as_deref(), Some("InProgress"));
    }

    #[test]
    fn identifiers_are_ascii_so_confusables_stay_apart() {
        // Latin `scope` and `ѕcope` with a Cyrillic dze look alike; their idents must not.
        let latin = snake_ident("scope").unwrap();
        let cyrillic = snake_ident("\u{455}cope").unwrap();
        assert_ne!(latin, cyrillic);
        assert!(cyrillic.is_ascii(), "{cyrillic}");
        assert_eq!(snake_ident("café").as_deref(), Some("caf_ue9"));
        assert_eq!(type_ident("café").as_deref(), Some("CafUe9"));
        for name in ["naïve", "日本", "Ωmega", "x\u{301}"] {
            for ident in [snake_ident(name), type_ident(name), variant_ident(name)] {
                let ident = ident.unwrap();
                assert!(
                    ident.is_ascii() && syn::parse_str::<syn::Ident>(&ident).is_ok(),
                    "{ident}"
                );
            }
        }
    }
}
