//! The build.rs API's side effects, read from what cargo recorded of this crate's build script.

#[test]
fn build_script_asks_to_rerun_when_each_schema_changes() {
    let out_dir = std::path::Path::new(env!("OUT_DIR"));
    // Cargo stores the build script's stdout next to OUT_DIR.
    let recorded = std::fs::read_to_string(out_dir.parent().unwrap().join("output"))
        .expect("cargo keeps the build script output");
    for fixture in [
        "hostile",
        "minimal",
        "operators",
        "migrate_v1",
        "migrate_v2",
    ] {
        let line = recorded
            .lines()
            .find(|l| {
                l.starts_with("cargo:rerun-if-changed=")
                    && l.ends_with(&format!("{fixture}/schema.yaml"))
            })
            .unwrap_or_else(|| panic!("no rerun-if-changed for {fixture} in:\n{recorded}"));
        let path = line.trim_start_matches("cargo:rerun-if-changed=");
        assert!(
            std::path::Path::new(path).exists(),
            "{path} does not exist: cargo would rerun every build"
        );
    }
    assert!(out_dir.join("hostile/rust/dyngen.rs").exists());
}

#[test]
fn generated_types_are_usable() {
    use dyngen_app_tests::minimal::{Note, NoteKey};
    let note = Note {
        id: "n#1".into(),
        body: "hello".into(),
    };
    let item = note.to_item();
    assert_eq!(Note::from_item(&item).unwrap(), note);
    assert_eq!(note.key(), NoteKey { id: "n#1".into() });
    // `#` in a value is escaped in the key.
    assert_eq!(item["pk"].as_s().unwrap(), "note#n%231");
}
