//! Generates code for every fixture schema under `tests/fixtures/valid/` with dyngen's
//! build.rs API, exactly as a user's crate would, so the crate proves the API and the
//! output compile together (`src/lib.rs` includes each one).

use std::path::{Path, PathBuf};

fn main() {
    let fixtures = Path::new("../fixtures/valid");
    println!("cargo:rerun-if-changed={}", fixtures.display());
    let mut names: Vec<String> = std::fs::read_dir(fixtures)
        .expect("the fixtures directory")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| fixtures.join(name).join("schema.yaml").is_file())
        .collect();
    names.sort();
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for fixture in names {
        let dir = fixtures.join(&fixture);
        let result = dyngen::Builder::new()
            .schema(dir.join("schema.yaml"))
            .migrations_dir(dir.join("expected/migrations"))
            .out_dir(out.join(&fixture))
            .generate();
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}
