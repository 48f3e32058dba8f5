//! The build.rs API, in the manner of prost-build.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diag::{self, Diagnostic, Source};
use crate::emit::{self, EmitError};
use crate::output;

/// Generates code from a schema inside a build script.
///
/// ```no_run
/// // build.rs, in `fn main`:
/// if let Err(e) = dyngen::Builder::new().schema("schema.yaml").generate() {
///     panic!("{e}");
/// }
/// // src/lib.rs:
/// // mod db { include!(concat!(env!("OUT_DIR"), "/dyngen/rust/dyngen.rs")); }
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    schema: PathBuf,
    out_dir: Option<PathBuf>,
    emit_rerun_if_changed: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Self {
        Builder {
            schema: PathBuf::from("schema.yaml"),
            out_dir: None,
            emit_rerun_if_changed: true,
        }
    }

    /// The schema file; a relative path is resolved against `CARGO_MANIFEST_DIR` when set.
    pub fn schema(mut self, path: impl Into<PathBuf>) -> Self {
        self.schema = path.into();
        self
    }

    /// Where to write; default `$OUT_DIR/dyngen`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Print `cargo:rerun-if-changed` for every file read (default on).
    pub fn emit_rerun_if_changed(mut self, on: bool) -> Self {
        self.emit_rerun_if_changed = on;
        self
    }

    /// Reads, checks and generates, writing only files whose contents changed. Warnings
    /// are printed as `cargo:warning` lines; errors are returned.
    pub fn generate(self) -> Result<output::WriteReport, Error> {
        let base = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
        let path = match &base {
            Some(b) if self.schema.is_relative() => b.join(&self.schema),
            _ => self.schema.clone(),
        };
        let out_dir = match self.out_dir {
            Some(d) => d,
            None => std::env::var_os("OUT_DIR")
                .map(|d| PathBuf::from(d).join("dyngen"))
                .ok_or(Error::NoOutDir)?,
        };
        if self.emit_rerun_if_changed {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        let source = Source::new(display_name(&self.schema), text);
        let files = generate_files(&source)?;
        for w in &files.1 {
            for line in
                diag::render_all(&source, std::slice::from_ref(w), diag::Format::Short, false)
                    .lines()
            {
                println!("cargo:warning={line}");
            }
        }
        output::write(&files.0, &out_dir).map_err(|e| Error::Io {
            path: out_dir.clone(),
            source: e,
        })
    }
}

/// The name a schema is shown by in headers and diagnostics: the path as the user wrote it
/// when relative (machine-independent), else only the file name.
pub fn display_name(path: &Path) -> String {
    let shown = if path.is_relative() {
        path.to_path_buf()
    } else {
        PathBuf::from(path.file_name().unwrap_or(path.as_os_str()))
    };
    shown
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Source text to files, or the diagnostics that prevent it. Also returns warnings.
pub fn generate_files(source: &Source) -> Result<(output::FileSet, Vec<Diagnostic>), Error> {
    let compiled = crate::compile(source);
    let Some(schema) = compiled
        .schema
        .filter(|_| !compiled.diagnostics.iter().any(Diagnostic::is_error))
    else {
        return Err(Error::Schema {
            source: source.clone(),
            diagnostics: compiled.diagnostics,
        });
    };
    let files = emit::emit_all(&schema).map_err(Error::Emit)?;
    Ok((files, compiled.diagnostics))
}

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
            Error::Emit(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}
