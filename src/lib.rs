//! dyngen compiles a DynamoDB single-table design, described in `schema.yaml`, into typed
//! Rust repository code, migrations and IAM policies that stay in sync.
//!
//! The pipeline, one module per stage:
//! [`parse`] (YAML → spanned [`ast`]) → [`validate`] (checks, lowering to [`ir`], with
//! [`lints`]) → [`emit`] (pure functions IR → files) → [`output`] (one in-memory
//! [`output::FileSet`], written or compared). Names are decided in [`naming`]; problems
//! are data, in [`diag`].
//!
//! For build scripts, see [`Builder`].

pub mod ast;
pub mod breaking;
mod builder;
pub mod diag;
pub mod emit;
pub mod iam;
pub mod ir;
pub mod lints;
pub mod migrations;
pub mod names;
pub mod naming;
pub mod output;
pub mod parse;
pub mod spans;
pub mod validate;

pub use builder::{Builder, Error};

/// Pieces of the build API the CLI shares.
pub mod builder_support {
    pub use crate::builder::{display_name, generate_files, generate_files_with, read_migrations};
}

use diag::{Diagnostic, Source};

/// The result of compiling a schema: the IR when it is valid, and every diagnostic.
pub struct Compiled {
    pub schema: Option<ir::Schema>,
    /// Where the IR's items are declared (with the schema).
    pub spans: Option<validate::Spans>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Front end to IR: parse, validate, lint. Diagnostics come back sorted.
pub fn compile(source: &Source) -> Compiled {
    let (lowered, mut diagnostics) = match parse::parse(source) {
        Err(diags) => (None, diags),
        Ok(file) => validate::check(&file, source),
    };
    diag::sort(&mut diagnostics);
    let (schema, spans) = lowered.map_or((None, None), |(s, sp)| (Some(s), Some(sp)));
    Compiled {
        schema,
        spans,
        diagnostics,
    }
}

/// The JSON Schema of `schema.yaml`, for editors (`# yaml-language-server: $schema=...`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ast::SchemaFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON schema serializes");
    text.push('\n');
    text
}
