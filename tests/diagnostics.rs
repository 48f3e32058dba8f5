//! Snapshots of the diagnostics for a corpus of broken schemas (`fixtures/invalid`) and of
//! schemas that only deserve warnings (`fixtures/lints`). Each `x.yaml` has `x.stderr`
//! beside it: the human rendering, then the short one.

mod common;

use common::{assert_golden, root, yaml_files};
use dyngen::diag::{Format, Source, render_all};

fn snapshot(path: &std::path::Path) -> (String, dyngen::Compiled) {
    let rel = path
        .strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/");
    let source = Source::new(rel, std::fs::read_to_string(path).unwrap());
    let compiled = dyngen::compile(&source);
    let human = render_all(&source, &compiled.diagnostics, Format::Human, false);
    let short = render_all(&source, &compiled.diagnostics, Format::Short, false);
    (format!("{human}---- short ----\n{short}"), compiled)
}

#[test]
fn every_broken_schema_gets_located_errors() {
    let files = yaml_files(&root().join("tests/fixtures/invalid"));
    assert!(
        files.len() >= 30,
        "the corpus has {} broken schemas",
        files.len()
    );
    for path in files {
        let (text, compiled) = snapshot(&path);
        assert!(
            compiled.has_errors(),
            "{} should not validate",
            path.display()
        );
        assert!(
            compiled.schema.is_none(),
            "{}: no IR from a broken schema",
            path.display()
        );
        for d in compiled.diagnostics.iter().filter(|d| d.is_error()) {
            assert!(
                !d.labels.is_empty(),
                "{}: `{}` has no location",
                path.display(),
                d.message
            );
            assert!(
                d.help.is_some(),
                "{}: `{}` has no hint",
                path.display(),
                d.message
            );
        }
        assert_golden(&path.with_extension("stderr"), &text);
    }
}

#[test]
fn lints_are_warnings_with_locations() {
    for path in yaml_files(&root().join("tests/fixtures/lints")) {
        let (text, compiled) = snapshot(&path);
        assert!(
            !compiled.has_errors(),
            "{}: lints must not be errors",
            path.display()
        );
        assert!(
            !compiled.diagnostics.is_empty(),
            "{}: expected a warning",
            path.display()
        );
        assert_golden(&path.with_extension("stderr"), &text);
    }
}

#[test]
fn the_example_schema_is_clean() {
    let source = Source::new(
        "schema.yaml",
        std::fs::read_to_string(root().join("schema.yaml")).unwrap(),
    );
    let compiled = dyngen::compile(&source);
    assert!(
        compiled.diagnostics.is_empty(),
        "{}",
        render_all(&source, &compiled.diagnostics, Format::Short, false)
    );
}

#[test]
fn diagnostics_come_sorted_by_position() {
    // Two independent mistakes, listed in reverse order of position by the checks.
    let text = "version: 1\ntable: {name: app, partition_key: pk, sort_key: sk}\nentities:\n  A:\n    attributes: {x: string}\n    keys:\n      primary: {pk: \"a#{y}\", sk: \"a#{z}\"}\n";
    let source = Source::new("t.yaml", text);
    let compiled = dyngen::compile(&source);
    let offsets: Vec<usize> = compiled
        .diagnostics
        .iter()
        .map(|d| d.labels[0].span.offset)
        .collect();
    assert_eq!(offsets.len(), 2, "{:?}", compiled.diagnostics);
    assert!(offsets[0] < offsets[1]);
}

#[test]
fn hostile_input_never_panics() {
    // Truncations of the example schema at every line: each either compiles or gives
    // diagnostics; none may panic.
    let text = std::fs::read_to_string(root().join("schema.yaml")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for n in 0..lines.len() {
        let cut = lines[..n].join("\n");
        let _ = dyngen::compile(&Source::new("cut.yaml", cut));
    }
    for junk in [
        "",
        "\t",
        "version: 1\n",
        "- a\n- b",
        "version: 1\ntable: 3",
        "{{{{",
        "version: 1\nentities: {A: {attributes: {}, keys: {primary: {pk: '{', sk: '}'}}}}",
    ] {
        let _ = dyngen::compile(&Source::new("junk.yaml", junk));
    }
}

#[test]
fn a_long_line_is_shown_as_a_window_around_the_caret() {
    let text = std::fs::read_to_string(root().join("schema.yaml"))
        .unwrap()
        .replacen(
            "  name: app",
            &format!("  name: app  # {}", "x".repeat(2_000_000)),
            1,
        )
        .replacen("company#{name}", "company#{nmae}", 1);
    let source = Source::new("long.yaml", text);
    let compiled = dyngen::compile(&source);
    let human = render_all(&source, &compiled.diagnostics, Format::Human, false);
    assert!(human.contains("did you mean `{name}`?"), "{human}");
    assert!(human.len() < 4_000, "{} bytes of diagnostics", human.len());
    // A mistake on the long line itself: the caret is in a window of it.
    let long = format!(
        "version: 1\ntable: {{name: app, partition_key: pk, sort_key: sk}}\nentities: {{User: {{attributes: {{email: string, {}}}, keys: {{primary: {{pk: \"user#{{emial}}\", sk: \"user#\"}}}}}}}}\n",
        (0..20_000)
            .map(|i| format!("a{i}: string"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let source = Source::new("wide.yaml", long);
    let compiled = dyngen::compile(&source);
    let human = render_all(&source, &compiled.diagnostics, Format::Human, false);
    assert!(human.len() < 4_000, "{} bytes of diagnostics", human.len());
    let caret_line = human
        .lines()
        .find(|l| l.contains("user#{emial}"))
        .expect(&human);
    assert!(caret_line.contains('…'), "{caret_line}");
    let short = render_all(&source, &compiled.diagnostics, Format::Short, false);
    let col = short.split(':').nth(2).unwrap().parse::<usize>().unwrap();
    assert!(
        col > 200_000,
        "the short form keeps the true column: {short}"
    );
}

#[test]
fn an_alias_bomb_is_described_in_words() {
    let mut text = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for (name, prev) in [
        ("b", "a"),
        ("c", "b"),
        ("d", "c"),
        ("e", "d"),
        ("f", "e"),
        ("g", "f"),
    ] {
        let refs = vec![format!("*{prev}"); 10].join(",");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    let source = Source::new("bomb.yaml", text);
    let compiled = dyngen::compile(&source);
    let short = render_all(&source, &compiled.diagnostics, Format::Short, false);
    assert!(short.contains("dyngen::yaml_too_large"), "{short}");
    assert!(
        !short.contains("budget") && !short.contains("Nodes {"),
        "{short}"
    );
}

#[test]
fn carets_inside_quoted_templates_are_exact_or_cover_the_template() {
    // Plain and multibyte: exact. With an escape: the whole template, never shifted.
    let text = "version: 1\ntable: {name: app, partition_key: pk, sort_key: sk}\nentities:\n  User:\n    attributes: { email: string }\n    keys:\n      primary: { pk: \"us\\u00e9r\\t#{emial}\", sk: \"é#{emial}\" }\n";
    let source = Source::new("esc.yaml", text);
    let compiled = dyngen::compile(&source);
    let spans: Vec<&str> = compiled
        .diagnostics
        .iter()
        .map(|d| &source.text[d.labels[0].span.offset..][..d.labels[0].span.len])
        .collect();
    assert_eq!(
        spans,
        ["\"us\\u00e9r\\t#{emial}\"", "{emial}"],
        "{:?}",
        compiled.diagnostics
    );
}

#[test]
fn lints_are_allowed_per_schema_entity_or_pattern_and_denied_as_errors() {
    let base =
        std::fs::read_to_string(root().join("tests/fixtures/lints/key_prefix_collision.yaml"))
            .unwrap();
    let codes = |text: &str| {
        let compiled = dyngen::compile(&Source::new("l.yaml", text));
        compiled
            .diagnostics
            .iter()
            .map(|d| (d.code, d.is_error()))
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&base), [("dyngen::key_prefix_collision", false)]);
    // Schema-wide.
    let allowed = format!("{base}lints:\n  key_prefix_collision: allow\n");
    assert_eq!(codes(&allowed), []);
    // By either entity the warning is about.
    let by_entity = base.replace(
        "      primary: { pk: \"org#{org}\", sk: \"user#{id}#admin\" }",
        "      primary: { pk: \"org#{org}\", sk: \"user#{id}#admin\" }\n    allow: [key_prefix_collision]",
    );
    assert_ne!(by_entity, base);
    assert_eq!(codes(&by_entity), []);
    // Another lint's allow does not hide it.
    let other = by_entity.replace("allow: [key_prefix_collision]", "allow: [hot_partition]");
    assert_eq!(codes(&other), [("dyngen::key_prefix_collision", false)]);
    // Denied: an error, and no IR.
    let denied = format!("{base}lints:\n  key_prefix_collision: deny\n");
    assert_eq!(codes(&denied), [("dyngen::key_prefix_collision", true)]);
    assert!(
        dyngen::compile(&Source::new("l.yaml", denied))
            .schema
            .is_none()
    );
}

#[test]
fn yaml_errors_point_at_the_line_at_fault() {
    let line_of = |text: &str| {
        let source = Source::new("y.yaml", text);
        let compiled = dyngen::compile(&source);
        let d = &compiled.diagnostics[0];
        (source.line_col(d.labels[0].span.offset).0, d.code)
    };
    let head = "version: 1\ntable:\n  name: app\n";
    // Line 4 is indented one space too little, or too much.
    assert_eq!(
        line_of(&format!("{head} partition_key: pk\n  sort_key: sk\n")),
        (4, "dyngen::indentation")
    );
    assert_eq!(
        line_of(&format!("{head}  partition_key: pk\n   sort_key: sk\n")),
        (5, "dyngen::indentation")
    );
    // A tab indents line 4: the tab itself, not the scalar before it.
    let tab = format!("{head}\tpartition_key: pk\n  sort_key: sk\n");
    let source = Source::new("t.yaml", tab.as_str());
    let compiled = dyngen::compile(&source);
    let d = &compiled.diagnostics[0];
    assert_eq!(d.code, "dyngen::tab");
    assert_eq!(source.line_col(d.labels[0].span.offset), (4, 1));
    // An unknown type in the schema's words, with the word it meant.
    let typo = "version: 1\ntable: {name: app, partition_key: pk, sort_key: sk}\nentities:\n  A:\n    attributes: { x: text }\n    keys: { primary: { pk: \"a#{x}\", sk: \"a\" } }\n";
    let compiled = dyngen::compile(&Source::new("v.yaml", typo));
    let d = &compiled.diagnostics[0];
    assert_eq!(d.help.as_deref(), Some("did you mean `string`?"));
    assert!(!d.message.contains("variant"), "{}", d.message);
}

#[test]
fn a_label_far_from_the_primary_one_becomes_a_located_note() {
    let text: String = (1..=60).map(|i| format!("line{i}: x\n")).collect();
    let source = Source::new("far.yaml", text.as_str());
    let at = |line: usize| dyngen::diag::Span {
        offset: text.find(&format!("line{line}:")).unwrap(),
        len: 5,
    };
    let d = dyngen::diag::Diagnostic::warning("dyngen::key_prefix_collision", "two keys meet")
        .label(at(50), "this sort key")
        .label(at(3), "overlaps this one")
        .help("give each a prefix");
    let human = render_all(&source, &[d], Format::Human, false);
    assert!(human.lines().count() < 16, "{human}");
    assert!(
        human.contains("overlaps this one at far.yaml:3:1"),
        "{human}"
    );
    assert!(!human.contains("line20"), "{human}");
}

#[test]
fn every_warning_is_a_lint_that_lints_allow_silences() {
    for path in yaml_files(&root().join("tests/fixtures/lints")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let compiled = dyngen::compile(&Source::new("l.yaml", text.as_str()));
        for d in &compiled.diagnostics {
            let lint = d.code.trim_start_matches("dyngen::");
            assert!(
                dyngen::lints::LINTS.contains(&lint),
                "{}: `{lint}` cannot be named in `lints:`",
                path.display()
            );
            let allowed = format!("{text}lints:\n  {lint}: allow\n");
            let again = dyngen::compile(&Source::new("l.yaml", allowed.as_str()));
            assert!(
                again.diagnostics.iter().all(|e| e.code != d.code),
                "{}: `{lint}: allow` left {:?}",
                path.display(),
                again.diagnostics
            );
        }
    }
}

/// An epoch-stored timestamp is refused only where it is an index's key attribute itself,
/// not in a key template beside another attribute that is.
#[test]
fn an_epoch_timestamp_in_a_template_beside_an_attribute_key_is_accepted() {
    let schema = |sk: &str| {
        format!(
            "version: 1\ntable:\n  name: app\n  partition_key: pk\n  sort_key: sk\n  indexes:\n    byTenant: {{ partition_key: tenant, sort_key: seenAt }}\nentities:\n  Visit:\n    attributes:\n      id: string\n      tenant: string\n      seenAt: {{ type: timestamp, stored_as: epoch_millis }}\n    keys:\n      primary: {{ pk: \"VISIT#{{id}}\", sk: \"VISIT\" }}\n      byTenant: {{ pk: \"{{tenant}}\", sk: \"{sk}\" }}\n"
        )
    };
    let codes = |sk: &str| {
        let source = Source::new("s.yaml", schema(sk));
        let compiled = dyngen::compile(&source);
        compiled
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect::<Vec<_>>()
    };
    // `seenAt` is the index's sort key attribute: whole, it would be written as a number.
    assert_eq!(codes("{seenAt}"), ["dyngen::stored_as_key"]);
    // Named differently in the index, it is rendered into a template as text.
    let renamed = |sk: &str| {
        let source = Source::new(
            "s.yaml",
            schema(sk).replace("sort_key: seenAt", "sort_key: gsisk"),
        );
        dyngen::compile(&source).diagnostics.len()
    };
    assert_eq!(renamed("seen#{seenAt}"), 0);
}

/// An index always holds its own key attributes and the table's: an attribute key is
/// readable from a keys-only index, while an attribute it does not hold is still refused.
#[test]
fn keys_only_indexes_project_their_attribute_keys() {
    let schema = |projection: &str| {
        format!(
            "version: 1\ntable:\n  name: app\n  partition_key: pk\n  sort_key: sk\n  indexes:\n    byGame: {{ partition_key: GameTitle, sort_key: TopScore, projection: keys_only }}\nentities:\n  Score:\n    attributes: {{ user: string, GameTitle: string, TopScore: integer }}\n    keys:\n      primary: {{ pk: \"U#{{user}}\", sk: \"G#{{GameTitle}}\" }}\n      byGame: {{ pk: \"{{GameTitle}}\", sk: \"{{TopScore}}\" }}\naccess_patterns:\n  topScores:\n    entity: Score\n    index: byGame\n    inputs: [GameTitle]\n{projection}"
        )
    };
    let codes = |text: String| {
        dyngen::compile(&Source::new("k.yaml", text))
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.code, d.message.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(schema("    projection: [GameTitle, TopScore]\n")), []);
    let whole = codes(schema(""));
    assert_eq!(whole.len(), 1, "{whole:?}");
    assert_eq!(whole[0].0, "dyngen::index_projection_too_narrow");
    assert!(
        whole[0].1.contains("`user`") && !whole[0].1.contains("GameTitle"),
        "{whole:?}"
    );
    let user = codes(schema("    projection: [GameTitle, user]\n"));
    assert_eq!(
        user.iter().map(|c| c.0).collect::<Vec<_>>(),
        ["dyngen::attribute_not_projected"]
    );
}

/// The seed's many-to-many: users kept in their company's partition, linked through an
/// item keyed by the user's identity (its sort key), is accepted with no index that
/// partitions by user.
#[test]
fn many_to_many_links_by_identity_wherever_the_ends_live() {
    let text = "version: 1\ntable: { name: app, partition_key: pk, sort_key: sk }\nentities:\n  Company:\n    attributes: { id: string }\n    keys:\n      primary: { pk: \"COMPANY#{id}\", sk: \"COMPANY#\" }\n  User:\n    attributes: { companyId: string, id: string }\n    keys:\n      primary: { pk: \"COMPANY#{companyId}\", sk: \"USER#{id}\" }\n  CompanyUser:\n    attributes: { companyId: string, userId: string }\n    keys:\n      primary: { pk: \"COMPANY#{companyId}\", sk: \"MEMBER#{userId}\" }\n  UserCompany:\n    attributes: { userId: string, companyId: string }\n    keys:\n      primary: { pk: \"USER#{userId}\", sk: \"COMPANY#{companyId}\" }\nrelationships:\n  membership: { kind: many_to_many, from: Company, to: User, through: [CompanyUser, UserCompany] }\n";
    let compiled = dyngen::compile(&Source::new("m.yaml", text));
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
