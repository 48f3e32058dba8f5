//! The minijinja environment: templates embedded in the binary, strict about undefined
//! values, no auto-escaping (output is Rust or HCL, not HTML), and filters that are the only
//! way user text reaches the output.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};

use super::EmitError;

const TEMPLATES: &[(&str, &str)] = &[
    ("file.rs.j2", include_str!("../../templates/file.rs.j2")),
    (
        "support.rs.j2",
        include_str!("../../templates/support.rs.j2"),
    ),
    ("entity.rs.j2", include_str!("../../templates/entity.rs.j2")),
    ("enum.rs.j2", include_str!("../../templates/enum.rs.j2")),
    ("repo.rs.j2", include_str!("../../templates/repo.rs.j2")),
    (
        "pattern.rs.j2",
        include_str!("../../templates/pattern.rs.j2"),
    ),
    ("db.rs.j2", include_str!("../../templates/db.rs.j2")),
    (
        "migrations.rs.j2",
        include_str!("../../templates/migrations.rs.j2"),
    ),
    (
        "migration.yaml.j2",
        include_str!("../../templates/migration.yaml.j2"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .expect("the default delimiters are valid");
        env.set_syntax(syntax);
        env.add_filter("rust_str", rust_str);
        env.add_filter("doc", doc_attrs);
        env.add_filter("yaml_str", yaml_str);
        env.add_filter("yaml_comment", yaml_comment);
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .expect("embedded templates parse (checked by tests)");
        }
        env
    })
}

/// Renders one template with a serializable context.
pub fn render(name: &str, ctx: minijinja::Value) -> Result<String, EmitError> {
    let tmpl = env().get_template(name).map_err(|e| EmitError {
        what: name.to_string(),
        detail: e.to_string(),
    })?;
    tmpl.render(ctx).map_err(|e| EmitError {
        what: name.to_string(),
        detail: format!("{e:#}"),
    })
}

/// A Rust string literal for any text: `"`, `\` and control characters are escaped, so
/// schema text can never end the literal early.
pub fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

/// A double-quoted YAML scalar (JSON's escaping, which YAML accepts).
pub fn yaml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Text for a `#` comment line: line breaks folded so nothing escapes the comment.
pub fn yaml_comment(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// `#[doc = "..."]` attributes, one per line of the text (none for an empty text).
/// prettyplease prints them as `///` comments.
pub fn doc_attrs(text: Option<String>) -> String {
    let Some(text) = text else {
        return String::new();
    };
    text.trim_end()
        .lines()
        .map(|line| format!("#[doc = {}]\n", rust_str(&format!(" {line}"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_str_escapes_quotes_and_backslashes() {
        assert_eq!(rust_str(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(rust_str("line\nbreak"), r#""line\nbreak""#);
    }

    #[test]
    fn doc_attrs_escapes_each_line() {
        assert_eq!(
            doc_attrs(Some("one \"q\"\ntwo".into())),
            "#[doc = \" one \\\"q\\\"\"]\n#[doc = \" two\"]\n"
        );
        assert_eq!(doc_attrs(None), "");
    }

    #[test]
    fn strict_undefined_is_an_error() {
        let err = render("enum.rs.j2", minijinja::context! {}).unwrap_err();
        assert!(err.detail.contains("undefined"), "{}", err.detail);
    }
}
