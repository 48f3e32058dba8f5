//! Emitters: pure functions from the IR to files. No I/O here.

mod docs;
mod iam_json;
pub mod migrations;
mod raw_keys;
mod restamp;
pub mod rust;
mod rust_exprs;
mod rust_ops;
mod rust_query;
mod safe_integers;
mod templates;
mod terraform;

pub use templates::md_code;

use crate::ir::Schema;
use crate::migrations::{DIR, Migration, MigrationFile, Planned};
use crate::output::FileSet;

/// Every generated file for a schema, in one set: the Rust module, and a file for each
/// newly planned migration (existing migrations are the team's and are not in the set).
pub fn emit_all(
    schema: &Schema,
    existing: &[Migration],
    planned: &[(String, Planned)],
    options: &Options,
) -> Result<FileSet, EmitError> {
    let mut files = FileSet::default();
    let mut all = existing.to_vec();
    for (name, p) in planned {
        let text = migrations::file_text(schema, name, p)?;
        let parsed =
            MigrationFile::parse(&format!("{name}.yaml"), &text).map_err(|e| EmitError {
                what: format!("{DIR}/{name}.yaml"),
                detail: format!("the scaffolded file does not read back: {e}"),
            })?;
        all.push(Migration {
            file: format!("{name}.yaml"),
            checksum: crate::migrations::checksum(&text),
            text: text.clone(),
            parsed,
            new: true,
        });
        files.insert(&format!("{DIR}/{name}.yaml"), text);
    }
    files.insert(rust::PATH, rust::emit(schema, &all, options)?);
    let steps: Vec<&crate::migrations::Step> = all.iter().flat_map(|m| &m.parsed.steps).collect();
    let policies = crate::iam::policies(schema, &steps);
    files.insert(terraform::PATH, terraform::emit(schema, &policies)?);
    for p in &policies {
        files.insert(&iam_json::path(p), iam_json::emit(p));
    }
    files.insert(docs::PATH, docs::emit(schema, &policies)?);
    Ok(files)
}

/// How the output is shaped, beyond the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The path generated Rust uses for the runtime crate (like prost-build's
    /// `prost_path`): `::dyngen_runtime` unless the crate is renamed or re-exported.
    pub runtime_path: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            runtime_path: DEFAULT_RUNTIME_PATH.to_string(),
        }
    }
}

/// The runtime crate's path when nothing else is configured.
pub const DEFAULT_RUNTIME_PATH: &str = "::dyngen_runtime";

impl Options {
    /// Checks that the runtime path is a Rust path (it is printed as code).
    pub fn validate(&self) -> Result<(), String> {
        match syn::parse_str::<syn::Path>(&self.runtime_path) {
            Ok(_) => Ok(()),
            Err(_) => Err(format!(
                "the runtime path `{}` is not a Rust path such as `::dyngen_runtime` or `crate::rt`",
                self.runtime_path
            )),
        }
    }
}

/// A bug in dyngen (a template or an emitter produced something unusable), never a
/// problem with the user's schema: those are diagnostics.
#[derive(Debug)]
pub struct EmitError {
    pub what: String,
    pub detail: String,
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "internal error while generating {}: {}\nplease report this as a dyngen bug",
            self.what, self.detail
        )
    }
}

impl std::error::Error for EmitError {}
