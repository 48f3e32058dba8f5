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
    /// Pushes the value as it is, for a key stored raw (`escape: false`, `{name:raw}`),
    /// as other writers of a shared table store it. Only text can differ from
    /// [`KeyPart::push_key`]; writes refuse a value holding the delimiter before the
    /// request ([`raw_refusal`]).
    #[inline]
    fn push_raw(&self, out: &mut String) {
        self.push_key(out);
    }
    /// Bytes this value usually takes in a key, to size the key's buffer once.
    #[inline]
    fn len_hint(&self) -> usize {
        24
    }
}

/// The partition-key prefix of every guard item of one unique constraint:
/// `#dyngen#unique#<entity>#<constraint>#`, names escaped as values are. No key template
/// can render it: templates cannot start with `#dyngen`, and `#` in a value is escaped.
pub fn unique_guard_prefix(entity_type: &str, constraint: &str) -> String {
    let mut out = String::from("#dyngen#unique#");
    push_escaped(&mut out, entity_type);
    out.push('#');
    push_escaped(&mut out, constraint);
    out.push('#');
    out
}

/// The character that separates the parts of a key. Escaped keys encode it in values
/// (`%23`); raw keys refuse values that hold it.
pub const DELIMITER: char = '#';

/// Why a value cannot stand raw in a key: it holds the [`DELIMITER`], so the key would
/// read as other parts (`x#y` in `USER#{id}` is the key of neither `x` nor `x#y` alone, and
/// a `begins_with` prefix would reach into other values). `None` when it can.
pub fn raw_refusal(value: &str) -> Option<String> {
    value.contains(DELIMITER).then(|| {
        format!(
            "`{value}` holds `{DELIMITER}`, the key delimiter, and this key stores values raw (escape: false)"
        )
    })
}

/// Why an integer cannot be a table's numeric partition key: dyngen keeps its own items
/// (the migration ledger and lock) under negative partition keys of such a table, so an
/// entity's item there could overwrite them. `None` for 0 and above.
pub fn partition_number_refusal(n: i64) -> Option<String> {
    (n < 0).then(|| {
        format!("{n} is negative; a numeric partition key holds 0 and above (dyngen keeps its own items under negative ones)")
    })
}

/// The most common key shape, a literal then one value: `company#{name}`.
#[inline]
pub fn key1(literal: &str, value: &(impl KeyPart + ?Sized)) -> String {
    let mut s = String::with_capacity(literal.len() + value.len_hint());
    s.push_str(literal);
    value.push_key(&mut s);
    s
}

/// [`key1`] for a value stored raw (`USER#{id:raw}`); the caller has refused values
/// holding the delimiter ([`raw_refusal`]).
#[inline]
pub fn key1_raw(literal: &str, value: &(impl KeyPart + ?Sized)) -> String {
    let mut s = String::with_capacity(literal.len() + value.len_hint());
    s.push_str(literal);
    value.push_raw(&mut s);
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
    fn push_raw(&self, out: &mut String) {
        out.push_str(self);
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
    fn push_raw(&self, out: &mut String) {
        out.push_str(self);
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
    fn push_raw(&self, out: &mut String) {
        (**self).push_raw(out);
    }
    #[inline]
    fn len_hint(&self) -> usize {
        (**self).len_hint()
    }
}

/// The widest padding: `i64::MAX` has 19 digits.
pub const MAX_PAD: u8 = 19;

/// The largest value `width` digits hold (for `width` up to [`MAX_PAD`]).
pub const fn padded_max(width: u8) -> i64 {
    if width >= MAX_PAD {
        return i64::MAX;
    }
    let mut max: i64 = 1;
    let mut i = 0;
    while i < width {
        max *= 10;
        i += 1;
    }
    max - 1
}

/// Whether `n` can stand in a key as `width` zero-padded digits: from 0 to the largest
/// `width`-digit number. `Err` says why not; writes refuse such a value before the
/// request ([`crate::Error::InvalidKey`]).
pub fn fits_padded(n: i64, width: u8) -> Result<(), String> {
    if n < 0 {
        Err(format!(
            "{n} is negative; a zero-padded key holds 0 to {}",
            padded_max(width)
        ))
    } else if n > padded_max(width) {
        Err(format!("{n} has more than {width} digits"))
    } else {
        Ok(())
    }
}

/// Pushes an integer zero-padded to `width` digits, so that string order is number order
/// (`{number:07}`: 9 → `0000009`, 10 → `0000010`). A value no stored key can hold renders
/// below (negative: `-`, which sorts before every digit) or above (wider: the largest
/// value followed by U+10FFFF) every stored one: as a query bound it bounds correctly, and
/// as an exact key it matches nothing.
pub fn push_padded(out: &mut String, n: &i64, width: u8) {
    use ::std::fmt::Write;
    let n = *n;
    if n < 0 {
        out.push('-');
    } else if n > padded_max(width) {
        let _ = write!(
            out,
            "{:0w$}\u{10FFFF}",
            padded_max(width),
            w = usize::from(width)
        );
    } else {
        let _ = write!(out, "{n:0w$}", w = usize::from(width));
    }
}

/// How a placeholder of a text template renders its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The value in its key form ([`KeyPart`]).
    Value,
    /// The four-digit year of a date or timestamp (`{dob:year}`).
    Year,
    /// An integer zero-padded to this many digits (`{number:07}`).
    Padded(u8),
    /// The value as it is, not escaped (`{email:raw}`): for keys another writer shares.
    Raw,
}

impl Format {
    /// Reads the text after a placeholder's `:` (`year`, `07`).
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "year" => return Some(Format::Year),
            "raw" => return Some(Format::Raw),
            _ => {}
        }
        let digits = text.strip_prefix('0')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let width: u8 = digits.parse().ok()?;
        (1..=MAX_PAD)
            .contains(&width)
            .then_some(Format::Padded(width))
    }
}

#[inline]
pub fn push_year(out: &mut String, value: &impl HasYear) {
    use ::std::fmt::Write;
    let _ = write!(out, "{:04}", value.year_of());
}

/// Renders a key template given as text (`born#{dob:year}#{email}`): literals are copied and
/// each placeholder is handed to `value` with its attribute name and its [`Format`].
/// `None` when `value` returns `None`, when a placeholder is not closed or has an unknown
/// format, or when the result is empty (DynamoDB refuses empty keys).
pub fn render_template(
    template: &str,
    mut value: impl FnMut(&str, Format, &mut String) -> Option<()>,
) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = open + rest[open..].find('}')?;
        let body = &rest[open + 1..close];
        let (name, format) = match body.split_once(':') {
            Some((n, f)) => (n, Format::parse(f)?),
            None => (body, Format::Value),
        };
        value(name, format, &mut out)?;
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

    /// Padded keys sort as their numbers do, for every pair of values drawn around the
    /// boundaries (9/10, 99/100, the width's largest value, 0, negative, too wide).
    #[test]
    fn padded_keys_sort_as_numbers_and_saturate_outside_their_width() {
        for width in [1u8, 3, 7, 18, 19] {
            let max = padded_max(width);
            let mut values = vec![i64::MIN, -1, 0, 1, 9, 10, 11, 99, 100, 101, max, i64::MAX];
            values.extend([max - 1, max / 2, max.saturating_add(1)]);
            let render = |n: i64| {
                let mut s = String::from("ISSUE#");
                push_padded(&mut s, &n, width);
                s
            };
            for &a in &values {
                for &b in &values {
                    let (ka, kb) = (render(a), render(b));
                    let fits = |n| fits_padded(n, width).is_ok();
                    if fits(a) && fits(b) {
                        assert_eq!(ka.cmp(&kb), a.cmp(&b), "{a} vs {b} at width {width}");
                        assert_eq!(ka.len(), 6 + usize::from(width));
                    } else if !fits(a) && fits(b) {
                        // Out of range: below every key when negative, above when wide.
                        assert_eq!(
                            ka.cmp(&kb),
                            if a < 0 {
                                std::cmp::Ordering::Less
                            } else {
                                std::cmp::Ordering::Greater
                            }
                        );
                    }
                }
            }
        }
        assert_eq!(Format::parse("07"), Some(Format::Padded(7)));
        assert_eq!(Format::parse("019"), Some(Format::Padded(19)));
        assert_eq!(Format::parse("020"), None);
        assert!(fits_padded(10_000_000, 7).is_err() && fits_padded(9_999_999, 7).is_ok());
    }

    #[test]
    fn text_templates_render_like_generated_code() {
        let got = render_template("born#{dob:year}#{email}#{n:04}", |name, format, out| {
            match (name, format) {
                ("dob", Format::Year) => out.push_str("1990"),
                ("email", Format::Value) => push_escaped(out, "a#b"),
                ("n", Format::Padded(4)) => push_padded(out, &42, 4),
                _ => return None,
            }
            Some(())
        });
        assert_eq!(got.as_deref(), Some("born#1990#a%23b#0042"));
        for bad in ["x#{a:fmt}", "x#{a:7}", "x#{a:0}", "x#{a:020}", "x#{a:0x}"] {
            assert_eq!(render_template(bad, |_, _, _| Some(())), None, "{bad}");
        }
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
