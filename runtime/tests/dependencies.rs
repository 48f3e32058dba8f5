//! A user's tests get DynamoDB Local from the runtime alone: with features `client` and
//! `local`, nothing of the generator (dyngen, minijinja, miette, prettyplease, clap, schemars) is in the build.

use std::process::Command;

#[test]
fn the_runtime_with_local_does_not_pull_in_the_generator() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--manifest-path",
            manifest,
            "-p",
            "dyngen-runtime",
        ])
        .args([
            "--features",
            "local",
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .output()
        .expect("cargo runs");
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tree.contains("aws-sdk-dynamodb"), "{tree}");
    // (syn itself is there: serde's derive uses it.)
    for generator_only in [
        "dyngen v",
        "minijinja v",
        "miette v",
        "prettyplease v",
        "clap v",
        "schemars v",
    ] {
        assert!(
            !tree.lines().any(|l| l.starts_with(generator_only)),
            "`{generator_only}` is in the runtime's build:\n{tree}"
        );
    }
}
