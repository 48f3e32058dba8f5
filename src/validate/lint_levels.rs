//! Lint levels: the schema's `lints:` map (`allow`, `warn`, `deny` per lint) and the
//! `allow:` lists of entities and patterns decide which warnings are shown, and which
//! become errors.

#[allow(unused_imports)]
use super::*;

use crate::lints::LINTS;

/// Unknown lint names in `lints:` and `allow:` lists are errors (a typo would silently
/// keep the warning).
pub(super) fn check_lint_names(cx: &mut Cx, file: &ast::SchemaFile) {
    let allows = file
        .entities
        .iter()
        .flat_map(|(_, e)| e.value.allow.iter())
        .chain(
            file.access_patterns
                .iter()
                .flat_map(|(_, p)| p.value.allow.iter()),
        );
    let names = file.lints.iter().map(|(n, _)| n).chain(allows);
    for name in names.filter(|n| !LINTS.contains(&n.value.as_str())) {
        let mut d = Diagnostic::error(
            "dyngen::unknown_lint",
            format!("`{}` is not a lint", name.value),
        )
        .label(cx.span(name), "unknown lint");
        d = match closest(&name.value, LINTS.iter().copied()) {
            Some(c) => d.help(format!("did you mean `{c}`?")),
            None => d.help(format!("the lints are {}", LINTS.join(", "))),
        };
        cx.error(d);
    }
}

/// Applies the levels to the warnings: allowed ones are dropped (schema-wide, or by an
/// `allow:` of an entity or pattern the warning is about), denied ones become errors.
pub(super) fn apply_lint_levels(file: &ast::SchemaFile, diags: &mut Vec<Diagnostic>) {
    let level = |lint: &str| {
        file.lints
            .iter()
            .find(|(n, _)| n.value == lint)
            .map_or(ast::LintLevel::Warn, |(_, l)| l.value)
    };
    let allowed_by = |subject: &str, lint: &str| {
        let listed = |list: &Vec<Sp<String>>| list.iter().any(|a| a.value == lint);
        file.entities
            .iter()
            .any(|(n, e)| n.value == subject && listed(&e.value.allow))
            || file
                .access_patterns
                .iter()
                .any(|(n, p)| n.value == subject && listed(&p.value.allow))
    };
    diags.retain_mut(|d| {
        if d.is_error() {
            return true;
        }
        let lint = d.code.trim_start_matches("dyngen::");
        if d.subjects.iter().any(|s| allowed_by(s, lint)) {
            return false;
        }
        match level(lint) {
            ast::LintLevel::Allow => false,
            ast::LintLevel::Warn => true,
            ast::LintLevel::Deny => {
                d.severity = crate::diag::Severity::Error;
                d.help = Some(format!(
                    "{} (denied by `lints: {{ {lint}: deny }}`)",
                    d.help.as_deref().unwrap_or("fix it, or allow the lint")
                ));
                true
            }
        }
    });
}
