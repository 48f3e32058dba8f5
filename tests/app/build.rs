//! Generates code for the fixture schemas with dyngen's build.rs API, exactly as a user's
//! crate would, so the crate proves the API and the output compile together.

fn main() {
    for fixture in [
        "hostile",
        "minimal",
        "operators",
        "migrate_v1",
        "migrate_v2",
        "docs_and_names",
        "write_model",
    ] {
        let result = dyngen::Builder::new()
            .schema(format!("../fixtures/valid/{fixture}/schema.yaml"))
            .migrations_dir(format!("../fixtures/valid/{fixture}/expected/migrations"))
            .out_dir(
                std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
                    .join(fixture),
            )
            .generate();
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}
