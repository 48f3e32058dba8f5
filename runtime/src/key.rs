//! Key encoding: how values stand in key templates.
//!
//! Generated code renders a template such as `company#{name}` by pushing its literals and
//! each value's [`KeyPart`] encoding into one string; the migration runner renders the same
//! templates from stored items with [`render_template`]. Both escape with [`push_escaped`].

use crate::value::{Date, HasYear, Timestamp};

/// A value that can stand in a key template.
///
/// Strings are escaped so that no value can forge a delimiter: `%` becomes `%25` and
/// `#` becomes `%23`. Two different values therefore never render the same key, and a
/// begins_with prefix that ends in a literal `#` never reaches into another value.
pub trait KeyPart {
    fn push_key(&self, out: &mut String);
    /// Bytes this value usually takes in a key, to size the key's buffer once.
    #[inline]
    fn len_hint(&self) -> usize {
        24
    }
}

/// The most common key shape, a literal then one value: `company#{name}`.
#[inline]
pub fn key1(literal: &str, value: &(impl KeyPart + ?Sized)) -> String {
    let mut s = String::with_capacity(literal.len() + value.len_hint());
    s.push_str(literal);
    value.push_key(&mut s);
    s
}

/// Appends a string value with `%` and `#` escaped (`%25`, `%23`): the one escaper that
/// repositories, queries and backfills share.
#[inline]
pub fn push_escaped(out: &mut String, s: &str) {
    // Most values have nothing to escape: copy them whole.
    let bytes = s.as_bytes();
    if !bytes.contains(&b'#') && !bytes.contains(&b'%') {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
}

impl KeyPart for String {
    #[inline]
    fn push_key(&self, out: &mut String) {
        push_escaped(out, self);
    }
    #[inline]
    fn len_hint(&self) -> usize {
        self.len()
    }
}

impl KeyPart for str {
    #[inline]
    fn push_key(&self, out: &mut String) {
        push_escaped(out, self);
    }
    #[inline]
    fn len_hint(&self) -> usize {
        self.len()
    }
}

impl KeyPart for i64 {
    #[inline]
    fn push_key(&self, out: &mut String) {
        use ::std::fmt::Write;
        let _ = write!(out, "{self}");
    }
}

impl KeyPart for bool {
    #[inline]
    fn push_key(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
    #[inline]
    fn len_hint(&self) -> usize {
        5
    }
}

impl KeyPart for Date {
    #[inline]
    fn push_key(&self, out: &mut String) {
        use ::std::fmt::Write;
        let _ = write!(out, "{self}");
    }
    #[inline]
    fn len_hint(&self) -> usize {
        10
    }
}

impl KeyPart for Timestamp {
    #[inline]
    fn push_key(&self, out: &mut String) {
        use ::std::fmt::Write;
        let _ = write!(out, "{self}");
    }
}

impl<T: KeyPart + ?Sized> KeyPart for &T {
    #[inline]
    fn push_key(&self, out: &mut String) {
        (**self).push_key(out);
    }
    #[inline]
    fn len_hint(&self) -> usize {
        (**self).len_hint()
    }
}

#[inline]
pub fn push_year(out: &mut String, value: &impl HasYear) {
    use ::std::fmt::Write;
    let _ = write!(out, "{:04}", value.year_of());
}

/// Renders a key template given as text (`born#{dob:year}#{email}`): literals are copied and
/// each placeholder is handed to `value` with its attribute name and whether it asks for
/// the `:year` format. `None` when `value` returns `None`, when a placeholder is not closed
/// or has another format, or when the result is empty (DynamoDB refuses empty keys).
pub fn render_template(
    template: &str,
    mut value: impl FnMut(&str, bool, &mut String) -> Option<()>,
) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = open + rest[open..].find('}')?;
        let body = &rest[open + 1..close];
        let (name, year) = match body.split_once(':') {
            Some((n, "year")) => (n, true),
            Some(_) => return None,
            None => (body, false),
        };
        value(name, year, &mut out)?;
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_is_injective_on_delimiters() {
        let render = |s: &str| {
            let mut out = String::new();
            push_escaped(&mut out, s);
            out
        };
        assert_eq!(render("a#b%c"), "a%23b%25c");
        assert_eq!(render("plain"), "plain");
        // `%23` typed by a user must not render like an escaped `#`.
        assert_ne!(render("%23"), render("#"));
        assert!(!render("x#y").contains('#'));
    }

    #[test]
    fn values_render_in_their_key_forms() {
        let mut s = String::new();
        (-12i64).push_key(&mut s);
        true.push_key(&mut s);
        Date::new(2024, 2, 29).unwrap().push_key(&mut s);
        assert_eq!(s, "-12true2024-02-29");
        assert_eq!(key1("company#", "a#b"), "company#a%23b");
        let mut y = String::new();
        push_year(&mut y, &Date::new(7, 1, 1).unwrap());
        assert_eq!(y, "0007");
    }

    #[test]
    fn text_templates_render_like_generated_code() {
        let got = render_template("born#{dob:year}#{email}", |name, year, out| {
            match (name, year) {
                ("dob", true) => out.push_str("1990"),
                ("email", false) => push_escaped(out, "a#b"),
                _ => return None,
            }
            Some(())
        });
        assert_eq!(got.as_deref(), Some("born#1990#a%23b"));
        assert_eq!(render_template("x#{a:fmt}", |_, _, _| Some(())), None);
        assert_eq!(render_template("x#{open", |_, _, _| Some(())), None);
        assert_eq!(
            render_template("{a}", |_, _, _| Some(())),
            None,
            "empty keys are refused"
        );
        assert_eq!(render_template("x#{a}", |_, _, _| None), None);
    }
}
