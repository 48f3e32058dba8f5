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
///     eprintln!("{e}");
///     std::process::exit(1);
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
    scaffold_migrations: bool,
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
            scaffold_migrations: false,
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
    /// `CARGO_MANIFEST_DIR`). When the schema needs a migration that is not there, the
    /// build still succeeds, embedding it, and warns; see [`Builder::scaffold_migrations`].
    pub fn migrations_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.migrations_dir = dir.into();
        self
    }

    /// Write new migrations into the migrations directory during the build (default off:
    /// a build does not change the source tree unless asked). They are scaffolds to review
    /// and commit, exactly as `dyngen generate` writes them.
    pub fn scaffold_migrations(mut self, on: bool) -> Self {
        self.scaffold_migrations = on;
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
        let out_dir = match self.out_dir.clone() {
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
        self.new_migrations(&files, &migrations_dir)?;
        for line in diag::render_all(&source, &warnings, diag::Format::Short, false).lines() {
            println!("cargo:warning={line}");
        }
        output::write(&files, &out_dir).map_err(|e| Error::Io {
            path: e.path,
            source: e.source,
        })
    }
}

impl Builder {
    /// Migrations the schema needs that are not committed yet. The build goes on: the
    /// generated code embeds them (from the output directory) and a `cargo:warning` says
    /// to write them with `dyngen generate`, whose `check` fails in CI until they are
    /// committed. With [`Builder::scaffold_migrations`] the build writes them itself.
    fn new_migrations(&self, files: &output::FileSet, migrations_dir: &Path) -> Result<(), Error> {
        let mut new = output::FileSet::default();
        for (rel, text) in &files.files {
            if let Some(file) = rel.strip_prefix(crate::migrations::DIR) {
                new.insert(file.trim_start_matches('/'), text.clone());
            }
        }
        for file in new.files.keys() {
            let shown = self.migrations_dir.join(file);
            if self.scaffold_migrations {
                println!(
                    "cargo:warning=dyngen: wrote the new migration {}; review it and commit it",
                    shown.display()
                );
            } else {
                println!(
                    "cargo:warning=dyngen: the schema needs the new migration {}; run `dyngen generate` to write it for review (this build embeds it; `dyngen check` fails until it is committed)",
                    shown.display()
                );
            }
        }
        if self.scaffold_migrations && !new.files.is_empty() {
            output::write(&new, migrations_dir).map_err(|e| Error::Io {
                path: e.path,
                source: e.source,
            })?;
        }
        Ok(())
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
