//! Planning migrations from schema changes (pure), and the CLI's handling of them.

mod common;

use std::fs;
use std::path::Path;

use common::{dyngen, root, text};
use dyngen::builder_support::{generate_files, read_migrations};
use dyngen::diag::Source;
use dyngen::migrations::MigrationSource;

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/valid").join(name)
}

fn v2_schema() -> String {
    fs::read_to_string(fixture("migrate_v2/schema.yaml")).unwrap()
}

fn migrations_of(name: &str) -> Vec<MigrationSource> {
    read_migrations(&fixture(name).join("expected/migrations")).unwrap()
}

fn codes(e: dyngen::Error) -> Vec<String> {
    match e {
        dyngen::Error::Schema { diagnostics, .. } => diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect(),
        other => panic!("expected diagnostics, got {other}"),
    }
}

#[test]
fn a_new_index_becomes_one_migration_with_its_backfill() {
    let (files, _) = generate_files(
        &Source::new("schema.yaml", v2_schema()),
        &migrations_of("migrate_v1"),
        false,
    )
    .unwrap();
    let new: Vec<&String> = files
        .files
        .keys()
        .filter(|f| f.starts_with("migrations/"))
        .collect();
    assert_eq!(new, ["migrations/0002_add_index_gsi2.yaml"]);
    // Exactly what the committed v2 fixture holds.
    let committed = fs::read_to_string(fixture(
        "migrate_v2/expected/migrations/0002_add_index_gsi2.yaml",
    ))
    .unwrap();
    assert_eq!(
        files.files["migrations/0002_add_index_gsi2.yaml"],
        committed
    );
}

#[test]
fn two_new_indexes_become_two_migrations_in_schema_order() {
    let schema = v2_schema().replace("    gsi2: { partition_key: gsi2pk, sort_key: gsi2sk }\n", "    gsi2: { partition_key: gsi2pk, sort_key: gsi2sk }\n    gsi3: { partition_key: gsi3pk }\n").replace(
        "      gsi2: { pk: \"born#{born:year}\", sk: \"{born}#{id}\" }\n",
        "      gsi2: { pk: \"born#{born:year}\", sk: \"{born}#{id}\" }\n      gsi3: { pk: \"name#{name}\" }\n",
    );
    let (files, _) = generate_files(
        &Source::new("schema.yaml", schema),
        &migrations_of("migrate_v1"),
        false,
    )
    .unwrap();
    let new: Vec<&String> = files
        .files
        .keys()
        .filter(|f| f.starts_with("migrations/"))
        .collect();
    assert_eq!(
        new,
        [
            "migrations/0002_add_index_gsi2.yaml",
            "migrations/0003_add_index_gsi3.yaml"
        ]
    );
    assert!(
        files.files["migrations/0003_add_index_gsi3.yaml"].contains("template: \"name#{name}\"")
    );
}

#[test]
fn removing_or_changing_an_index_is_refused_unless_allowed() {
    let without_gsi1 = v2_schema()
        .replace(
            "    gsi1: { partition_key: gsi1pk, sort_key: gsi1sk }\n",
            "",
        )
        .replace(
            "      gsi1: { pk: \"team#{team}\", sk: \"person#{id}\" }\n",
            "",
        )
        .replace(
            "  peopleOfTeam: { entity: Person, index: gsi1, inputs: [team] }\n",
            "",
        );
    let source = Source::new("schema.yaml", without_gsi1);
    let err = codes(generate_files(&source, &migrations_of("migrate_v2"), false).unwrap_err());
    assert_eq!(err.len(), 1);
    assert!(
        err[0].starts_with("dyngen::destructive_change: index `gsi1` would have to be deleted"),
        "{err:?}"
    );
    let (files, _) = generate_files(&source, &migrations_of("migrate_v2"), true).unwrap();
    let delete = &files.files["migrations/0003_delete_index_gsi1.yaml"];
    assert!(
        delete.contains("delete_index:\n    name: \"gsi1\""),
        "{delete}"
    );

    // A changed projection means delete, then create again.
    let changed = v2_schema().replace("    gsi2: { partition_key: gsi2pk, sort_key: gsi2sk }", "    gsi2: { partition_key: gsi2pk, sort_key: gsi2sk, projection: { include: [name] } }").replace(
        "  peopleBornIn: { entity: Person, index: gsi2, inputs: [\"born:year\"] }",
        "  peopleBornIn: { entity: Person, index: gsi2, inputs: [\"born:year\"], projection: [name] }",
    );
    let source = Source::new("schema.yaml", changed);
    let err = codes(generate_files(&source, &migrations_of("migrate_v2"), false).unwrap_err());
    assert!(
        err.iter()
            .any(|e| e.contains("delete it, then create it again")
                && e.contains("projection changed")),
        "{err:?}"
    );
    let (files, _) = generate_files(&source, &migrations_of("migrate_v2"), true).unwrap();
    let new: Vec<&String> = files
        .files
        .keys()
        .filter(|f| f.starts_with("migrations/"))
        .collect();
    assert_eq!(
        new,
        [
            "migrations/0003_delete_index_gsi2.yaml",
            "migrations/0004_add_index_gsi2.yaml"
        ]
    );
}

#[test]
fn a_changed_table_key_is_an_error() {
    let schema = v2_schema().replace("  sort_key: sk\n", "  sort_key: sortKey\n");
    let err = codes(
        generate_files(
            &Source::new("schema.yaml", schema),
            &migrations_of("migrate_v2"),
            false,
        )
        .unwrap_err(),
    );
    assert!(
        err.iter()
            .any(|e| e.starts_with("dyngen::table_key_changed")),
        "{err:?}"
    );
}

#[test]
fn migrations_from_two_branches_with_one_number_are_reported() {
    let mut sources = migrations_of("migrate_v2");
    let mut twin = sources[1].clone();
    twin.file = "0002_add_index_other.yaml".into();
    twin.text = twin
        .text
        .replace("0002_add_index_gsi2", "0002_add_index_other");
    sources.push(twin);
    let err = codes(
        generate_files(&Source::new("schema.yaml", v2_schema()), &sources, false).unwrap_err(),
    );
    assert!(
        err.iter().any(|e| e.contains(
            "0002_add_index_other.yaml: has the same number as 0002_add_index_gsi2.yaml"
        )),
        "{err:?}"
    );
}

fn project_with(dir: &Path, schema: &str, migrations_from: &str) {
    fs::write(dir.join("schema.yaml"), schema).unwrap();
    fs::create_dir_all(dir.join("generated/migrations")).unwrap();
    for m in migrations_of(migrations_from) {
        fs::write(dir.join("generated/migrations").join(&m.file), &m.text).unwrap();
    }
}

#[test]
fn check_fails_when_the_schema_needs_a_migration_and_generate_never_rewrites_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project_with(dir, &v2_schema(), "migrate_v1");
    let out = dyngen(dir, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("missing: generated/migrations/0002_add_index_gsi2.yaml"),
        "{}",
        text(&out.stdout)
    );

    assert!(dyngen(dir, &["generate"]).status.success());
    assert_eq!(dyngen(dir, &["check"]).status.code(), Some(0));

    // A reviewer's edit to a migration stays; the Rust embeds the edited text (whose
    // checksum the runner records).
    let path = dir.join("generated/migrations/0002_add_index_gsi2.yaml");
    let edited = fs::read_to_string(&path)
        .unwrap()
        .replace("# Review it before merging.", "# Reviewed by Sam.");
    fs::write(&path, &edited).unwrap();
    let out = dyngen(dir, &["generate"]);
    assert!(out.status.success());
    assert_eq!(fs::read_to_string(&path).unwrap(), edited);
    let rust = fs::read_to_string(dir.join("generated/rust/dyngen.rs")).unwrap();
    assert!(rust.contains(&format!("{edited:?}")));
}

#[test]
fn new_migration_scaffolds_one_code_step_and_a_bad_name_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project_with(dir, &v2_schema(), "migrate_v2");
    assert!(dyngen(dir, &["generate"]).status.success());
    let before = fs::read_dir(dir.join("generated/migrations"))
        .unwrap()
        .count();
    for bad in ["Split", "split-names", "1st", "", "a/b", &"x".repeat(65)] {
        let out = dyngen(dir, &["generate", "--new-migration", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            text(&out.stderr).contains("cannot name a migration"),
            "{bad:?}"
        );
        let after = fs::read_dir(dir.join("generated/migrations"))
            .unwrap()
            .count();
        assert_eq!(after, before, "{bad:?} wrote a file");
    }
    let out = dyngen(dir, &["generate", "--new-migration", "split_names"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = dir.join("generated/migrations/0003_split_names.yaml");
    let parsed = dyngen::migrations::MigrationFile::parse(
        "0003_split_names.yaml",
        &fs::read_to_string(&file).unwrap(),
    )
    .unwrap();
    assert_eq!(
        parsed.steps,
        [dyngen::migrations::Step::Code {
            name: "split_names".into()
        }]
    );
    // The generated module embeds it, and `check` is satisfied without the flag.
    let rust = fs::read_to_string(dir.join("generated/rust/dyngen.rs")).unwrap();
    assert!(rust.contains("0003_split_names.yaml"));
    assert_eq!(dyngen(dir, &["check"]).status.code(), Some(0));
}

#[test]
fn each_changed_setting_is_one_migration_and_replaying_them_needs_no_more() {
    let base = v2_schema();
    let with = |extra: &str| base.replace("  sort_key: sk\n", &format!("  sort_key: sk\n{extra}"));
    let mut existing = migrations_of("migrate_v2");
    let steps = [
        ("  ttl_attribute: ttl\n", "set_ttl"),
        ("  ttl_attribute: ttl\n  stream: keys_only\n", "set_stream"),
        ("  ttl_attribute: ttl\n  stream: new_image\n", "set_stream"),
        ("  stream: new_image\n", "set_ttl"),
        (
            "  stream: new_image\n  point_in_time_recovery: true\n",
            "set_point_in_time_recovery",
        ),
        (
            "  stream: new_image\n  point_in_time_recovery: true\n  deletion_protection: true\n",
            "set_deletion_protection",
        ),
        (
            "  stream: new_image\n  point_in_time_recovery: true\n  deletion_protection: true\n  billing_mode: provisioned\n  capacity: { read: 2, write: 1 }\n",
            "set_billing",
        ),
    ];
    for (extra, slug) in steps {
        let schema = with(extra);
        let (files, _) = generate_files(
            &Source::new("schema.yaml", schema.clone()),
            &existing,
            false,
        )
        .unwrap();
        let new: Vec<(&String, &String)> = files
            .files
            .iter()
            .filter(|(f, _)| f.starts_with("migrations/"))
            .collect();
        assert_eq!(
            new.len(),
            1,
            "{extra}: {:?}",
            new.iter().map(|f| f.0).collect::<Vec<_>>()
        );
        let (path, text) = new[0];
        assert!(path.ends_with(&format!("_{slug}.yaml")), "{path}");
        existing.push(MigrationSource {
            file: path.trim_start_matches("migrations/").to_string(),
            text: text.clone(),
        });
        // With it on disk, the schema needs nothing more.
        let (again, _) =
            generate_files(&Source::new("schema.yaml", schema), &existing, false).unwrap();
        assert!(
            !again.files.keys().any(|f| f.starts_with("migrations/")),
            "{extra}: still planning after {path}"
        );
    }
}

#[test]
fn a_local_index_is_created_with_the_table_and_cannot_be_added_later() {
    let base = fs::read_to_string(fixture("local_index/schema.yaml")).unwrap();
    let committed = migrations_of("local_index");
    // As committed: nothing to scaffold.
    let (files, _) =
        generate_files(&Source::new("schema.yaml", base.clone()), &committed, false).unwrap();
    assert!(!files.files.keys().any(|f| f.starts_with("migrations/")));
    // A new local index, or one removed, on the existing table: refused with the reason.
    let added = base.replace(
        "    gsi1: { partition_key: gsi1pk, sort_key: gsi1sk }",
        "    gsi1: { partition_key: gsi1pk, sort_key: gsi1sk }\n    byName: { local: true, sort_key: lsi3sk }",
    );
    let removed = base
        .replace("    byFinish:\n      local: true\n      sort_key: lsi2sk\n      projection: { include: [player, game] }\n", "")
        .replace("      byFinish: { pk: \"PLAYER#{player}\", sk: \"{finishedAt}\" }\n", "")
        .replace("  finishedGames:\n    entity: Score\n    index: byFinish\n    inputs: [player]\n    projection: [player, game]\n", "");
    for (what, schema) in [("added", added), ("removed", removed)] {
        assert_ne!(schema, base, "{what}: the edit applied");
        let err = codes(
            generate_files(&Source::new("schema.yaml", schema), &committed, false).unwrap_err(),
        );
        assert!(
            err.iter()
                .any(|c| c.starts_with("dyngen::local_index_changed")),
            "{what}: {err:?}"
        );
    }
}
