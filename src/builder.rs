//! The build.rs API, in the manner of prost-build, and the front-end pieces the CLI shares.

use std::path::{Path, PathBuf};

use crate::diag::{self, Source};
use crate::emit;
use crate::error::Error;
use crate::migrations::MigrationSource;
use crate::output;
use crate::pipeline::generate_files_with;

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
    migrations_dir: PathBuf,
    emit_rerun_if_changed: bool,
    options: emit::Options,
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
            migrations_dir: PathBuf::from("generated/migrations"),
            emit_rerun_if_changed: true,
            options: emit::Options::default(),
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

    /// The committed migrations (default `generated/migrations`, relative to
    /// `CARGO_MANIFEST_DIR`). A build never writes migrations: when the schema needs a new
    /// one, it fails and asks for `dyngen generate`, which scaffolds it for review.
    pub fn migrations_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.migrations_dir = dir.into();
        self
    }

    /// Print `cargo:rerun-if-changed` for every file read (default on).
    /// The path generated code uses for the runtime crate, `::dyngen_runtime` by default
    /// (set it when the crate is renamed in `Cargo.toml` or re-exported, e.g. `crate::rt`).
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.options.runtime_path = path.into();
        self
    }

    pub fn emit_rerun_if_changed(mut self, on: bool) -> Self {
        self.emit_rerun_if_changed = on;
        self
    }

    /// Reads, checks and generates, writing only files whose contents changed. Warnings
    /// are printed as `cargo:warning` lines; errors are returned.
    pub fn generate(self) -> Result<output::WriteReport, Error> {
        let base = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
        let resolve = |p: &Path| match &base {
            Some(b) if p.is_relative() => b.join(p),
            _ => p.to_path_buf(),
        };
        let path = resolve(&self.schema);
        let migrations_dir = resolve(&self.migrations_dir);
        let out_dir = match self.out_dir {
            Some(d) => d,
            None => std::env::var_os("OUT_DIR")
                .map(|d| PathBuf::from(d).join("dyngen"))
                .ok_or(Error::NoOutDir)?,
        };
        if self.emit_rerun_if_changed {
            println!("cargo:rerun-if-changed={}", path.display());
            println!("cargo:rerun-if-changed={}", migrations_dir.display());
        }
        let source = read_schema(&path, display_name(&self.schema)).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        let existing = read_migrations(&migrations_dir).map_err(|e| Error::Io {
            path: migrations_dir.clone(),
            source: e,
        })?;
        if self.emit_rerun_if_changed {
            for m in &existing {
                println!(
                    "cargo:rerun-if-changed={}",
                    migrations_dir.join(&m.file).display()
                );
            }
        }
        let (files, warnings) = generate_files_with(&source, &existing, false, &self.options)?;
        let new: Vec<String> = files
            .files
            .keys()
            .filter(|f| f.starts_with(crate::migrations::DIR))
            .cloned()
            .collect();
        if !new.is_empty() {
            return Err(Error::MigrationsNeeded { files: new });
        }
        for line in diag::render_all(&source, &warnings, diag::Format::Short, false).lines() {
            println!("cargo:warning={line}");
        }
        output::write(&files, &out_dir).map_err(|e| Error::Io {
            path: e.path,
            source: e.source,
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

/// Reads a schema file. A file that is not UTF-8 is an error that says where: the line and
/// column of the first byte that does not decode.
pub fn read_schema(path: &Path, shown: String) -> std::io::Result<Source> {
    let bytes = std::fs::read(path)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source::new(shown, text)),
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let col = before
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count()
                + 1;
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{shown}:{line}:{col}: the file is not UTF-8 (byte 0x{:02x}); save it as UTF-8",
                    bytes[at]
                ),
            ))
        }
    }
}

/// Reads the migration files of a directory (none if it does not exist), sorted by name.
pub fn read_migrations(dir: &Path) -> std::io::Result<Vec<MigrationSource>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_file() && file.ends_with(".yaml") {
            out.push(MigrationSource {
                text: std::fs::read_to_string(entry.path())?,
                file,
            });
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}
