//! Front end: YAML text to the spanned syntax tree, or located diagnostics.

use crate::ast::{SchemaFile, VersionProbe};
use crate::diag::{Diagnostic, Source, Span};

/// The only schema format version this dyngen reads.
pub const SUPPORTED_VERSION: u64 = 1;

/// Parses a schema file. Syntax, shape and type errors stop decoding, so at most one of
/// those is reported; semantic checks come later and collect everything.
pub fn parse(source: &Source) -> Result<SchemaFile, Vec<Diagnostic>> {
    let probe: VersionProbe = serde_saphyr::from_str_with_options(&source.text, options())
        .map_err(|e| vec![yaml_error(source, &e)])?;
    check_version(source, &probe)?;
    serde_saphyr::from_str_with_options(&source.text, options())
        .map_err(|e| vec![yaml_error(source, &e)])
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        strict_booleans: true,
    }
}

fn check_version(source: &Source, probe: &VersionProbe) -> Result<(), Vec<Diagnostic>> {
    let Some(version) = &probe.version else {
        return Err(vec![
            Diagnostic::error(
                "dyngen::missing_version",
                "the schema does not say which format version it uses",
            )
            .label(Span { offset: 0, len: 0 }, "expected `version: 1` here")
            .help("start the file with `version: 1`"),
        ]);
    };
    if version.value.as_u64() != Some(SUPPORTED_VERSION) {
        return Err(vec![
            Diagnostic::error(
                "dyngen::unsupported_version",
                format!("schema format version {} is not supported", version.value),
            )
            .label(source.span_of(&version.referenced), "this version")
            .help(format!("this dyngen reads `version: {SUPPORTED_VERSION}`")),
        ]);
    }
    Ok(())
}

fn yaml_error(source: &Source, err: &serde_saphyr::Error) -> Diagnostic {
    let message = first_line(&err.to_string());
    let mut span = err
        .location()
        .map_or(Span { offset: 0, len: 0 }, |l| source.span_of(&l));
    if message.contains("found a tab") {
        span = first_tab_after(source, span);
    }
    if let Some(d) = unknown_name(&message, span) {
        return d;
    }
    let (code, help) = classify(&message);
    let message = if code == "dyngen::tab" {
        "a tab character: YAML indents with spaces only".to_string()
    } else {
        message
    };
    let mut d = Diagnostic::error(code, message).label(span, "here");
    if let Some(help) = help {
        d = d.help(help);
    }
    d
}

/// The reader reports a tab where the scalar before it started; point at the tab itself.
fn first_tab_after(source: &Source, span: Span) -> Span {
    source.text[span.offset.min(source.text.len())..]
        .find('\t')
        .map_or(span, |i| Span {
            offset: span.offset + i,
            len: 1,
        })
}

/// Words users reach for that are spelled differently here.
const SYNONYMS: &[(&str, &str)] = &[
    ("text", "string"),
    ("str", "string"),
    ("int", "integer"),
    ("i64", "integer"),
    ("number", "integer"),
    ("long", "integer"),
    ("double", "float"),
    ("f64", "float"),
    ("decimal", "float"),
    ("boolean", "bool"),
    ("datetime", "timestamp"),
    ("time", "timestamp"),
    ("array", "list"),
    ("set", "string_set"),
    ("object", "map"),
    ("dict", "map"),
    ("ondemand", "on_demand"),
    ("pay_per_request", "on_demand"),
];

/// `unknown variant`/`unknown field` in the schema's words, with "did you mean".
fn unknown_name(message: &str, span: Span) -> Option<Diagnostic> {
    let (kind, rest) = if let Some(r) = message.strip_prefix("unknown variant `") {
        ("value", r)
    } else if let Some(r) = message.strip_prefix("unknown field `") {
        ("key", r)
    } else {
        return None;
    };
    let (given, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest
        .split_once("expected one of ")
        .or_else(|| rest.split_once("expected "))
        .map(|(_, list)| list.split(", ").map(|w| w.trim_matches('`')).collect())
        .unwrap_or_default();
    let suggestion = SYNONYMS
        .iter()
        .find(|(from, to)| given.eq_ignore_ascii_case(from) && expected.contains(to))
        .map(|(_, to)| *to)
        .or_else(|| crate::diag::closest(given, expected.iter().copied()));
    let (code, what) = if kind == "value" {
        ("dyngen::unknown_value", "value")
    } else {
        ("dyngen::unknown_key", "key")
    };
    let message = if expected.is_empty() {
        format!("`{given}` is not a {what} this place takes")
    } else {
        format!(
            "`{given}` is not a {what} this place takes; it takes {}",
            expected.join(", ")
        )
    };
    let help = match suggestion {
        Some(s) => format!("did you mean `{s}`?"),
        None if kind == "key" => "remove the key or fix its spelling".to_string(),
        None => "use one of the values listed".to_string(),
    };
    Some(
        Diagnostic::error(code, message)
            .label(span, format!("unknown {what}"))
            .help(help),
    )
}

/// The reader's message without its trailing location (we print our own).
fn first_line(message: &str) -> String {
    let mut line = message.lines().next().unwrap_or(message);
    if let Some(i) = line.find(" at line ") {
        line = &line[..i];
    }
    // Resource limits are reported in the reader's own debug form (`budget breached:
    // Nodes { nodes: 250001 }`); say what it means.
    if let Some(rest) = line.strip_prefix("budget breached: ") {
        let limit = rest
            .split(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("size");
        return format!(
            "the YAML is too large once its aliases are expanded: it goes over the reader's limit on {}",
            limit.to_lowercase()
        );
    }
    // The reader's advice is about its own API, not about the user's file.
    if let Some(i) = line.find(", set DuplicateKeyPolicy") {
        line = &line[..i];
    }
    line.to_string()
}

fn classify(message: &str) -> (&'static str, Option<&'static str>) {
    if message.contains("found a tab") {
        (
            "dyngen::tab",
            Some("replace the tab with spaces (two per level, as in the rest of the file)"),
        )
    } else if message.contains("did not find expected key")
        || message.contains("mapping values are not allowed")
    {
        (
            "dyngen::indentation",
            Some(
                "check this line's indentation: the keys of one mapping start in one column, two spaces deeper than their parent",
            ),
        )
    } else if message.contains("unknown field") {
        (
            "dyngen::unknown_key",
            Some("remove the key or fix its spelling; the expected keys are listed above"),
        )
    } else if message.contains("unknown variant") {
        (
            "dyngen::unknown_value",
            Some("use one of the values listed above"),
        )
    } else if message.contains("duplicate") {
        (
            "dyngen::duplicate_key",
            Some("each key may appear once in a mapping; merge or rename the duplicates"),
        )
    } else if message.starts_with("the YAML is too large") {
        (
            "dyngen::yaml_too_large",
            Some(
                "a schema needs no aliases that repeat other aliases; write the repeated parts out, or use fewer levels of `*alias`",
            ),
        )
    } else if message.contains("missing field") {
        ("dyngen::missing_key", Some("add the missing key"))
    } else if message.contains("invalid type")
        || message.contains("invalid value")
        || message.starts_with("expected ")
    {
        (
            "dyngen::wrong_type",
            Some("check the value's type against the schema reference in the README"),
        )
    } else {
        (
            "dyngen::yaml",
            Some("fix the YAML syntax at the marked position"),
        )
    }
}
