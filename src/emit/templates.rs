//! The minijinja environment: templates embedded in the binary, strict about undefined
//! values, no auto-escaping (output is Rust or HCL, not HTML), and filters that are the only
//! way user text reaches the output.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};

use super::EmitError;

const TEMPLATES: &[(&str, &str)] = &[
    ("file.rs.j2", include_str!("../../templates/file.rs.j2")),
    ("entity.rs.j2", include_str!("../../templates/entity.rs.j2")),
    ("enum.rs.j2", include_str!("../../templates/enum.rs.j2")),
    ("repo.rs.j2", include_str!("../../templates/repo.rs.j2")),
    (
        "pattern.rs.j2",
        include_str!("../../templates/pattern.rs.j2"),
    ),
    ("db.rs.j2", include_str!("../../templates/db.rs.j2")),
    ("stream.rs.j2", include_str!("../../templates/stream.rs.j2")),
    (
        "migrations.rs.j2",
        include_str!("../../templates/migrations.rs.j2"),
    ),
    (
        "migration.yaml.j2",
        include_str!("../../templates/migration.yaml.j2"),
    ),
    (
        "terraform.tf.j2",
        include_str!("../../templates/terraform.tf.j2"),
    ),
    (
        "access_patterns.md.j2",
        include_str!("../../templates/access_patterns.md.j2"),
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
        env.add_filter("hcl_str", hcl_str);
        env.add_filter("hcl_inner", hcl_inner);
        env.add_filter("md", md_text);
        env.add_filter("md_code", md_code);
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

/// The inside of an HCL string: quotes and backslashes escaped, and `${` / `%{` doubled so
/// that no text starts an interpolation or a template directive.
pub fn hcl_inner(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A double-quoted HCL string.
pub fn hcl_str(s: &str) -> String {
    format!("\"{}\"", hcl_inner(s))
}

/// Text for Markdown tables: pipes and line breaks can't end a cell or a row early, and
/// `<` can't open HTML.
pub fn md_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}

/// A code span for a Markdown table cell, backticks included. Inside a code span nothing
/// is an escape or HTML, so only what the table itself reads is escaped (`|`); a span
/// fence longer than any run of backticks in the text keeps those literal.
pub fn md_code(s: &str) -> String {
    let text = s.replace('|', "\\|").replace(['\n', '\r'], " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A space inside the fence when the text starts or ends with a backtick (CommonMark
    // strips one space from each side).
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
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
///
/// Schema text is documentation, never code: every line break (`\n`, `\r\n`, a bare
/// `\r`) ends a line, leading indentation is dropped (so no line becomes an indented code
/// block), and a fenced block is fenced as `text`, so rustdoc never compiles or runs
/// anything from the schema as a doctest.
pub fn doc_attrs(text: Option<String>) -> String {
    let Some(text) = text else {
        return String::new();
    };
    let mut out = String::new();
    // The fence a block was opened with (character and length), as CommonMark matches them.
    let mut open: Option<(char, usize)> = None;
    for line in text
        .trim_end()
        .split("\r\n")
        .flat_map(|l| l.split(['\n', '\r']))
    {
        let mut line = line.trim_start().to_string();
        match (open, fence_of(&line)) {
            (None, Some((c, len, _))) => {
                line = format!("{}text", c.to_string().repeat(len));
                open = Some((c, len));
            }
            (Some((c, len)), Some((d, n, info)))
                if d == c && n >= len && info.trim().is_empty() =>
            {
                open = None;
            }
            _ => {}
        }
        out.push_str(&format!("#[doc = {}]\n", rust_str(&format!(" {line}"))));
    }
    if let Some((c, len)) = open {
        // An unclosed fence would swallow the generated docs that follow.
        let close = c.to_string().repeat(len);
        out.push_str(&format!("#[doc = {}]\n", rust_str(&format!(" {close}"))));
    }
    out
}

/// A code fence at the start of a line: its character, its length and its info string.
/// (A backtick fence's info string cannot hold a backtick, as in CommonMark.)
fn fence_of(line: &str) -> Option<(char, usize, &str)> {
    let c = line.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = line.chars().take_while(|&x| x == c).count();
    let info = &line[len..];
    (len >= 3 && !(c == '`' && info.contains('`'))).then_some((c, len, info))
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

    /// On random text made of what breaks docs (line breaks of every kind, indentation,
    /// fences of both kinds and lengths, quotes), every emitted line is one `#[doc]`
    /// attribute without a line break, and CommonMark (pulldown-cmark, rustdoc's parser)
    /// finds no code block but `text` ones, all closed before the docs dyngen adds.
    #[test]
    fn random_doc_text_stays_documentation() {
        const PIECES: &[&str] = &[
            "\n",
            "\r",
            "\r\n",
            "    ",
            "\t",
            "```",
            "````",
            "```rust",
            "~~~",
            "~~~~rust",
            "`",
            "assert!(false)",
            "\"",
            "\\",
            "x",
            " ",
        ];
        let mut seed = 0x00d0_c5eed_u64;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..seed % 24 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            let doc = doc_attrs(Some(text.clone()));
            let mut markdown = String::new();
            for line in doc.lines() {
                let lit = line
                    .strip_prefix("#[doc = ")
                    .and_then(|l| l.strip_suffix(']'))
                    .unwrap_or_else(|| panic!("not one doc attribute: {line:?} from {text:?}"));
                let value = syn::parse_str::<syn::LitStr>(lit).unwrap().value();
                assert!(!value.contains(['\n', '\r']), "{value:?} from {text:?}");
                markdown.push_str(&value);
                markdown.push('\n');
            }
            // rustdoc's own Markdown parser decides what is code: only `text` blocks.
            for event in pulldown_cmark::Parser::new(&markdown) {
                if let pulldown_cmark::Event::Start(pulldown_cmark::Tag::CodeBlock(kind)) = event {
                    assert!(
                        matches!(&kind, pulldown_cmark::CodeBlockKind::Fenced(info) if info.as_ref() == "text"),
                        "{kind:?} code block from {text:?}:\n{markdown}"
                    );
                }
            }
            // A closed document: text appended after it (generated docs) is not code.
            let tail = format!("{markdown}\nQuery on `x`.\n");
            let last = pulldown_cmark::Parser::new(&tail).last();
            assert!(
                !matches!(
                    last,
                    Some(pulldown_cmark::Event::End(
                        pulldown_cmark::TagEnd::CodeBlock
                    ))
                ),
                "the generated text after it is inside a code block: {text:?}"
            );
        }
    }

    #[test]
    fn doc_text_never_becomes_code_or_a_doctest() {
        let doc = doc_attrs(Some(
            "a\r\nb\rc\n\n    assert!(false);\n```rust\nassert!(false);\n```\n~~~\nopen".into(),
        ));
        assert!(!doc.contains('\r'), "{doc}");
        assert!(
            !doc.contains("\\r"),
            "no escaped CR reaches a doc line: {doc}"
        );
        assert!(
            !doc.contains("\"     assert"),
            "indented code block left: {doc}"
        );
        assert!(doc.contains("\" ```text\""), "{doc}");
        assert!(!doc.contains("```rust"), "{doc}");
        // The unclosed `~~~` fence is closed with its own kind (a ``` would not close it).
        assert!(
            doc.trim_end().ends_with("#[doc = \" ~~~\"]"),
            "unclosed fence closed: {doc}"
        );
        for line in doc.lines() {
            assert!(
                line.starts_with("#[doc = ") && line.ends_with(']'),
                "{line}"
            );
        }
    }

    #[test]
    fn strict_undefined_is_an_error() {
        let err = render("enum.rs.j2", minijinja::context! {}).unwrap_err();
        assert!(err.detail.contains("undefined"), "{}", err.detail);
    }
}
