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
    let span = err
        .location()
        .map_or(Span { offset: 0, len: 0 }, |l| source.span_of(&l));
    let (code, help) = classify(&message);
    let mut d = Diagnostic::error(code, message).label(span, "here");
    if let Some(help) = help {
        d = d.help(help);
    }
    d
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
    if message.contains("unknown field") {
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
