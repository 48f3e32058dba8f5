//! `dyngen breaking`: findings with both locations, against a file or a git revision.

mod common;

use std::fs;
use std::process::Command;

use common::{dyngen, root, text};

fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::copy(root().join("schema.yaml"), tmp.path().join("schema.yaml")).unwrap();
    tmp
}

fn edit(dir: &std::path::Path, from: &str, to: &str) {
    let path = dir.join("schema.yaml");
    let s = fs::read_to_string(&path).unwrap();
    assert!(s.contains(from), "fixture text `{from}` not found");
    fs::write(path, s.replace(from, to)).unwrap();
}

#[test]
fn an_unchanged_or_additive_schema_breaks_nothing() {
    let tmp = project();
    fs::copy(tmp.path().join("schema.yaml"), tmp.path().join("old.yaml")).unwrap();
    edit(
        tmp.path(),
        "      industry: { type: string, optional: true }\n",
        "      industry: { type: string, optional: true }\n      website: { type: string, optional: true }\n",
    );
    let out = dyngen(tmp.path(), &["breaking", "--against", "old.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn each_rule_reports_both_locations() {
    let tmp = project();
    fs::copy(tmp.path().join("schema.yaml"), tmp.path().join("old.yaml")).unwrap();
    let dir = tmp.path();
    edit(
        dir,
        "sk: \"user#{email}\" }\n      gsi1",
        "sk: \"person#{email}\" }\n      gsi1",
    );
    edit(
        dir,
        "loginCount: { type: integer, default: 0 }",
        "loginCount: { type: string, default: \"0\" }",
    );
    edit(dir, "      invitedBy: string\n", "");
    edit(
        dir,
        "sk: \"member#{email}\" }\n",
        "sk: \"member#{email}\" }\n    unique: [[companyName, email]]\n",
    );
    edit(
        dir,
        "    index: gsi1\n    inputs: [email]\n",
        "    index: gsi1\n    inputs: [email]\n    filter: [{ attribute: role, op: eq }]\n",
    );
    let out = dyngen(dir, &["breaking", "--against", "old.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    for expected in [
        "[KEY KEY_TEMPLATE_CHANGED] `User` keys on `primary` changed from",
        "person#{email})",
        "[STORAGE ATTRIBUTE_RETYPED] `User.loginCount` changed from integer to string",
        "[API ATTRIBUTE_REMOVED] `Invitation.invitedBy` was removed",
        "[API PATTERN_SIGNATURE_CHANGED] access pattern `userByEmail` takes other parameters",
        "[STORAGE UNIQUE_ADDED] `CompanyMember` values must now be unique in `companyName+email`",
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("before: old.yaml:58:"),
        "the old location is named:\n{stdout}"
    );
    assert!(
        stdout.contains("schema.yaml:58:"),
        "the new location is shown:\n{stdout}"
    );
}

#[test]
fn a_rename_with_the_same_keys_is_reported_as_a_rename() {
    let tmp = project();
    fs::copy(tmp.path().join("schema.yaml"), tmp.path().join("old.yaml")).unwrap();
    edit(tmp.path(), "  UserCompany:", "  Affiliation:");
    edit(tmp.path(), "entity: UserCompany", "entity: Affiliation");
    edit(
        tmp.path(),
        "through: [CompanyMember, UserCompany]",
        "through: [CompanyMember, Affiliation]",
    );
    let out = dyngen(tmp.path(), &["breaking", "--against", "old.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout)
            .contains("[STORAGE ENTITY_RENAMED] entity `UserCompany` was renamed to `Affiliation`"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn against_a_git_revision() {
    let tmp = project();
    let dir = tmp.path();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .unwrap();
        assert!(ok.status.success(), "git {args:?}: {}", text(&ok.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "schema.yaml"]);
    git(&["commit", "-q", "-m", "v1"]);
    edit(
        dir,
        "    gsi2:\n      partition_key: gsi2pk\n      sort_key: gsi2sk\n",
        "    gsi2:\n      partition_key: gsi2pk\n      sort_key: gsi2sk2\n",
    );
    let out = dyngen(dir, &["breaking", "--against", "HEAD"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("[KEY INDEX_CHANGED] index `gsi2` changed its keys or projection"),
        "{stdout}"
    );
    assert!(stdout.contains("before: schema.yaml@HEAD:"), "{stdout}");
    assert_eq!(
        dyngen(dir, &["breaking", "--against", "no-such-rev"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_required_attribute_added_without_a_default_breaks_stored_items() {
    let tmp = project();
    fs::copy(tmp.path().join("schema.yaml"), tmp.path().join("old.yaml")).unwrap();
    let dir = tmp.path();
    edit(
        dir,
        "      industry: { type: string, optional: true }\n",
        "      industry: { type: string, optional: true }\n      country: string\n      size: { type: integer, default: 1 }\n      vat: { type: string, optional: true }\n",
    );
    let out = dyngen(
        dir,
        &[
            "breaking",
            "--against",
            "old.yaml",
            "--error-format",
            "short",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let findings: Vec<&str> = stdout.lines().filter(|l| l.contains("error[")).collect();
    assert_eq!(findings.len(), 1, "only `country` breaks:\n{stdout}");
    assert!(
        findings[0]
            .contains("[STORAGE ATTRIBUTE_ADDED_REQUIRED] `Company.country` was added as required"),
        "{stdout}"
    );
    // Both locations: the new attribute, and where the entity was before.
    let line = stdout.lines().position(|l| l.contains("country")).unwrap();
    assert!(findings[0].starts_with("schema.yaml:"), "{stdout}");
    assert!(stdout.contains("before: old.yaml:"), "{stdout} ({line})");
}

#[test]
fn a_multi_attribute_key_that_changes_a_middle_attribute_is_an_index_change() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let fixture = root().join("tests/fixtures/valid/composite/schema.yaml");
    let before = fs::read_to_string(fixture).unwrap();
    fs::write(dir.join("old.yaml"), &before).unwrap();
    // Same first and last attribute: only the list tells the keys apart.
    let after = before.replace(
        "sort_keys: [tournament, round]",
        "sort_keys: [tournament, region, round]",
    );
    assert_ne!(after, before);
    fs::write(dir.join("schema.yaml"), after).unwrap();
    let out = dyngen(dir, &["breaking", "--against", "old.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("[KEY INDEX_CHANGED] index `byPlayer` changed its keys or projection"),
        "{stdout}"
    );
}

/// Turning escaping off changes how stored keys are spelled (`a%23b` becomes `a#b`, `50%25`
/// becomes `50%`): every key of the table moves, which `breaking` must say.
#[test]
fn turning_key_escaping_off_is_a_key_change() {
    let tmp = project();
    fs::copy(tmp.path().join("schema.yaml"), tmp.path().join("old.yaml")).unwrap();
    edit(
        tmp.path(),
        "  partition_key: pk\n",
        "  partition_key: pk\n  escape: false\n",
    );
    let out = dyngen(tmp.path(), &["breaking", "--against", "old.yaml"]);
    let report = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains(":raw}"), "{report}");
}

/// A timestamp that changes its stored form still reads, but a filter then compares a
/// number with text: `breaking` says so.
#[test]
fn a_timestamp_stored_in_another_form_is_reported() {
    let tmp = project();
    fs::copy(tmp.path().join("schema.yaml"), tmp.path().join("old.yaml")).unwrap();
    edit(
        tmp.path(),
        "timestamps: { created: createdAt, updated: updatedAt }\n    version: version\n\n  User:",
        "timestamps: { created: createdAt, updated: updatedAt, stored_as: epoch_millis }\n    version: version\n\n  User:",
    );
    let out = dyngen(tmp.path(), &["breaking", "--against", "old.yaml"]);
    let report = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("TIMESTAMP_FORM_CHANGED"), "{report}");
    assert!(report.contains("Company.createdAt"), "{report}");
}
