//! The README's "Use in your project" recipe works outside this workspace: `examples/app`
//! (a lib and a bin that include the generated module, a build.rs that generates it) builds
//! with zero warnings. It has its own target directory under `target/examples`, so it is a
//! clean build the first time (as in CI) and shares nothing with the workspace's build.

mod common;

use common::{root, text};

#[test]
fn the_example_crate_builds_with_zero_warnings() {
    let dir = root().join("examples/app");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["build", "--offline", "--lib", "--bins"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root().join("target/examples"))
        // Debug info and incremental caches are not what this build checks; without
        // them its target directory is a fraction of the size.
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Cargo replays the warnings of crates it does not rebuild, so none can hide.
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert!(warnings.is_empty(), "{stderr}");
}
