//! Generates code for every fixture schema under `tests/fixtures/valid/` with dyngen's
//! build.rs API, exactly as a user's crate would, so the crate proves the API and the
//! output compile together (`src/lib.rs` includes each one).

use std::path::{Path, PathBuf};

#[path = "../support/mutator.rs"]
mod mutator;

/// Accepted schema mutants compiled here (see `tests/fuzz_schemas.rs`).
const FUZZ_SAMPLE: usize = 8;
const FUZZ_SEED: u64 = 0xc0de;

fn main() {
    let fixtures = Path::new("../fixtures/valid");
    println!("cargo:rerun-if-changed={}", fixtures.display());
    println!("cargo:rerun-if-changed=../support/mutator.rs");
    println!("cargo:rerun-if-changed=../../schema.yaml");
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
    fuzz_sample(&out.join("fuzz"));
}

/// Generates the first accepted, distinct mutants of the seed schemas, as modules
/// `m0`, `m1`, ... of `fuzz/mod.rs`: "dyngen accepts it" must mean "rustc accepts it".
fn fuzz_sample(dir: &Path) {
    std::fs::create_dir_all(dir).expect("fuzz output directory");
    let seeds = mutator::seeds(Path::new("../.."));
    let mut r = mutator::Rng(FUZZ_SEED);
    let mut seen = std::collections::BTreeSet::new();
    let mut modules = String::new();
    for _ in 0..10_000 {
        if seen.len() == FUZZ_SAMPLE {
            break;
        }
        let text = mutator::mutant(&seeds, &mut r);
        let source = dyngen::diag::Source::new("mutant.yaml", text);
        let Ok((files, _)) = dyngen::builder_support::generate_files(&source, &[], false) else {
            continue;
        };
        let rust = &files.files["rust/dyngen.rs"];
        if !seen.insert(rust.clone()) {
            continue;
        }
        let i = seen.len() - 1;
        let file = dir.join(format!("m{i}.rs"));
        std::fs::write(&file, rust).expect("write a fuzz module");
        modules.push_str(&format!(
            "/// Accepted mutant {i}.\npub mod m{i} {{ include!({:?}); }}\n",
            file.display().to_string()
        ));
    }
    assert_eq!(seen.len(), FUZZ_SAMPLE, "too few accepted mutants");
    std::fs::write(dir.join("mod.rs"), modules).expect("write the fuzz module list");
}
