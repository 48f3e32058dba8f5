//! The compiler pipeline with no I/O: source text → diagnostics and IR ([`compile`]), and
//! source text plus the committed migrations → one in-memory file set ([`generate_files`]).
//! The front ends (the CLI, [`crate::Builder`]) read the disk and write the result.

use crate::diag::{self, Diagnostic, Source};
use crate::emit;
use crate::error::Error;
use crate::migrations::{self, MigrationSource};
use crate::output;
use crate::{ir, parse, validate};

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

/// Source text and existing migrations to files, or the diagnostics that prevent it. Also
/// returns warnings. New migrations appear in the set under `migrations/`.
pub fn generate_files(
    source: &Source,
    migration_sources: &[MigrationSource],
    allow_destructive: bool,
) -> Result<(output::FileSet, Vec<Diagnostic>), Error> {
    generate_files_with(
        source,
        migration_sources,
        allow_destructive,
        &emit::Options::default(),
    )
}

/// [`generate_files`] with output options (the runtime path).
pub fn generate_files_with(
    source: &Source,
    migration_sources: &[MigrationSource],
    allow_destructive: bool,
    options: &emit::Options,
) -> Result<(output::FileSet, Vec<Diagnostic>), Error> {
    let request = Request {
        allow_destructive,
        new_migration: None,
        options: options.clone(),
    };
    generate_request(source, migration_sources, &request)
}

/// What a `generate` run is asked for, beyond the schema and the migrations on disk.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Scaffold migrations that delete an index.
    pub allow_destructive: bool,
    /// Also scaffold an empty code migration with this name (`--new-migration`).
    pub new_migration: Option<String>,
    pub options: emit::Options,
}

/// Whether a name can be a migration's (file name and code step): lower-case ASCII
/// letters, digits and `_`, starting with a letter, at most 64 characters.
pub fn valid_migration_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// [`generate_files`] for a whole [`Request`].
pub fn generate_request(
    source: &Source,
    migration_sources: &[MigrationSource],
    request: &Request,
) -> Result<(output::FileSet, Vec<Diagnostic>), Error> {
    let options = &request.options;
    let allow_destructive = request.allow_destructive;
    options.validate().map_err(Error::Options)?;
    if let Some(name) = &request.new_migration
        && !valid_migration_name(name)
    {
        return Err(Error::Options(format!(
            "`{name}` cannot name a migration: use lower-case letters, digits and `_`, starting with a letter (at most 64 characters), e.g. `split_user_names`"
        )));
    }
    let compiled = compile(source);
    let Some(schema) = compiled
        .schema
        .filter(|_| !compiled.diagnostics.iter().any(Diagnostic::is_error))
    else {
        return Err(Error::Schema {
            source: source.clone(),
            diagnostics: compiled.diagnostics,
        });
    };
    let plan = migrations::load(migration_sources).and_then(|existing| {
        let state = migrations::replay(&existing);
        let mut planned = migrations::plan(&schema, &state, allow_destructive)?;
        planned.extend(request.new_migration.as_deref().map(migrations::code_plan));
        Ok((migrations::number(&existing, &planned), existing))
    });
    let (planned, existing) = plan.map_err(|diagnostics| Error::Schema {
        source: source.clone(),
        diagnostics,
    })?;
    let files = emit::emit_all(&schema, &existing, &planned, options).map_err(Error::Emit)?;
    Ok((files, compiled.diagnostics))
}
