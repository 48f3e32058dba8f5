//! dyngen compiles a DynamoDB single-table design, described in `schema.yaml`, into typed
//! Rust repository code, migrations and IAM policies that stay in sync.
//!
//! The pipeline, one module per stage:
//! [`parse`] (YAML → spanned [`ast`]) → [`validate`] (checks, lowering to [`ir`], with
//! [`lints`]) → [`emit`] (pure functions IR → files) → [`output`] (one in-memory
//! [`output::FileSet`], written or compared). [`pipeline`] runs the stages without I/O;
//! the CLI and [`Builder`] are the front ends that read and write. Names are decided in [`naming`]; problems
//! are data, in [`diag`].
//!
//! For build scripts, see [`Builder`].

pub mod ast;
pub mod breaking;
mod builder;
pub mod diag;
pub mod emit;
mod error;
pub mod iam;
pub mod ir;
pub mod keyspace;
pub mod lints;
pub mod migrations;
pub mod names;
pub mod naming;
pub mod output;
pub mod parse;
pub mod pipeline;
pub mod spans;
pub mod validate;

pub use builder::Builder;
pub use error::Error;

/// Pieces of the build API the CLI shares.
pub mod builder_support {
    pub use crate::builder::{display_name, read_migrations, read_schema};
    pub use crate::pipeline::{generate_files, generate_files_with};
}

pub use pipeline::{Compiled, compile};

/// The JSON Schema of `schema.yaml`, for editors (`# yaml-language-server: $schema=...`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ast::SchemaFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON schema serializes");
    text.push('\n');
    text
}
