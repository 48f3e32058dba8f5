//! Emitters: pure functions from the IR to files. No I/O here.

pub mod rust;
mod rust_ops;
mod templates;

use crate::ir::Schema;
use crate::output::FileSet;

/// Every generated file for a schema, in one set.
pub fn emit_all(schema: &Schema) -> Result<FileSet, EmitError> {
    let mut files = FileSet::default();
    files.insert(rust::PATH, rust::emit(schema)?);
    Ok(files)
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
