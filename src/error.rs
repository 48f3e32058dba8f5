//! Why generation failed, as data: the build API and the CLI report it.

use std::fmt;
use std::path::PathBuf;

use crate::diag::{self, Diagnostic, Source};
use crate::emit::EmitError;

/// Why generation failed.
#[derive(Debug)]
pub enum Error {
    /// The schema has errors; Display renders them with locations.
    Schema {
        source: Source,
        diagnostics: Vec<Diagnostic>,
    },
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `OUT_DIR` is not set: not running inside a build script, and no `out_dir` given.
    NoOutDir,
    /// A builder or command-line option that cannot be used (the message says which).
    Options(String),
    Emit(EmitError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Schema {
                source,
                diagnostics,
            } => {
                f.write_str(&diag::render_all(
                    source,
                    diagnostics,
                    diag::Format::Human,
                    false,
                ))?;
                let n = diagnostics.iter().filter(|d| d.is_error()).count();
                write!(
                    f,
                    "dyngen: {} has {n} error{}",
                    source.name,
                    if n == 1 { "" } else { "s" }
                )
            }
            Error::Io { path, source } => write!(f, "dyngen: {}: {source}", path.display()),
            Error::NoOutDir => f.write_str(
                "dyngen: OUT_DIR is not set; call Builder::out_dir outside a build script",
            ),
            Error::Options(m) => write!(f, "dyngen: {m}"),
            Error::Emit(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}
