//! Migrations: the files, the table state they produce, and the plan that brings the
//! table from that state to the schema.
//!
//! Migration files live in `<out>/migrations/NNNN_<what>.yaml`. They are scaffolded once
//! and then belong to the team: dyngen never rewrites one. The state of the table is
//! derived by replaying them, so there is no lock file to keep in sync. Everything here is
//! pure; reading the directory is the front end's job.

use std::collections::BTreeMap;

pub use dyngen_runtime::migrate::{
    Backfill, BackfillEntity, Capacity, DerivedKey, IndexDef, KeyAttr, MigrationFile,
    ProjectionDef, Step, StreamView, TableDef, checksum,
};

use crate::diag::{Diagnostic, Span};
use crate::ir::template_is_numeric;
use crate::ir::{self, IndexRef, Schema, Type};

mod unique;

/// Where migration files go, relative to the output directory.
pub const DIR: &str = "migrations";

/// A migration file as read from disk.
#[derive(Debug, Clone)]
pub struct MigrationSource {
    /// File name, e.g. `0002_add_index_gsi4.yaml`.
    pub file: String,
    pub text: String,
}

/// A migration ready for the emitters: its file, parsed, with its checksum.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    pub file: String,
    pub text: String,
    pub parsed: MigrationFile,
    pub checksum: String,
    /// Written by this run (not yet on disk).
    pub new: bool,
}

/// The table as the migrations leave it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableState {
    pub table: Option<TableDef>,
    pub indexes: Vec<IndexDef>,
    /// Unique constraints whose guards the migrations keep.
    pub uniques: Vec<dyngen_runtime::migrate::UniqueDef>,
}

/// The sequence number a file name starts with.
pub fn sequence(file: &str) -> Option<u32> {
    let digits: String = file.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() != 4 || !file[4..].starts_with('_') {
        return None;
    }
    digits.parse().ok()
}

fn file_error(file: &str, message: impl Into<String>, help: &str) -> Diagnostic {
    Diagnostic::error(
        "dyngen::migration",
        format!("{DIR}/{file}: {}", message.into()),
    )
    .help(help)
}

/// Parses the existing migration files and checks that they form one line: names
/// `NNNN_...yaml`, numbers unique (two branches that each added `0003_...` are reported
/// here, not merged silently), the name inside matching the file.
pub fn load(sources: &[MigrationSource]) -> Result<Vec<Migration>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut out: Vec<Migration> = Vec::new();
    let mut by_seq: BTreeMap<u32, String> = BTreeMap::new();
    for s in sources {
        let Some(seq) = sequence(&s.file).filter(|_| s.file.ends_with(".yaml")) else {
            diags.push(file_error(
                &s.file,
                "is not named NNNN_<name>.yaml",
                "rename it, or move it out of the migrations directory",
            ));
            continue;
        };
        if let Some(other) = by_seq.insert(seq, s.file.clone()) {
            diags.push(file_error(
                &s.file,
                format!("has the same number as {other}"),
                "two branches each added a migration: renumber the one that has not been applied anywhere yet (and its `migration:` name)",
            ));
            continue;
        }
        // The runtime's parser: the file means here what it means to the runner.
        let parsed = match MigrationFile::parse(&s.file, &s.text) {
            Ok(p) => p,
            Err(e) => {
                diags.push(file_error(
                    &s.file,
                    e.message,
                    "fix the file by hand, or restore it from version control",
                ));
                continue;
            }
        };
        if format!("{}.yaml", parsed.migration) != s.file {
            diags.push(file_error(
                &s.file,
                format!("says `migration: {}`", parsed.migration),
                "the name inside must be the file name without `.yaml`",
            ));
            continue;
        }
        out.push(Migration {
            file: s.file.clone(),
            checksum: checksum(&s.text),
            text: s.text.clone(),
            parsed,
            new: false,
        });
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    if let Some(first) = out.first()
        && !matches!(first.parsed.steps.first(), Some(Step::CreateTable(_)))
    {
        diags.push(file_error(
            &first.file,
            "does not start with `create_table`",
            "the first migration creates the table",
        ));
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

/// Replays migrations into the table state they produce (the table by the runtime's
/// model, which the runner's plan replays too).
pub fn replay(migrations: &[Migration]) -> TableState {
    let steps = || migrations.iter().flat_map(|m| &m.parsed.steps);
    let table = TableDef::after(steps());
    let mut uniques = Vec::new();
    for step in steps() {
        if matches!(step, Step::AddUnique(_) | Step::DropUnique(_)) {
            unique::replay_step(&mut uniques, step);
        }
    }
    TableState {
        indexes: table
            .as_ref()
            .map(|t| t.indexes.clone())
            .unwrap_or_default(),
        table,
        uniques,
    }
}

// ---------------------------------------------------------------------------------------
// The schema's view of the table

/// Whether a key attribute holds numbers: some entity's template for it is a single
/// integer placeholder (the validator made all templates of one attribute agree).
pub fn key_is_numeric(schema: &Schema, attr: &str) -> bool {
    let in_composite = schema.table.indexes.iter().any(|ix| {
        ix.composite
            .as_ref()
            .is_some_and(|c| c.partition.iter().chain(&c.sort).any(|a| a == attr))
    });
    if in_composite {
        // The attribute itself is the key: its type decides (one type in every entity).
        return schema.entities.iter().any(|e| {
            e.attributes
                .iter()
                .any(|a| a.name == attr && a.ty == Type::Integer)
        });
    }
    schema.entities.iter().any(|e| {
        e.keys.iter().any(|k| {
            let (pk, sk) = schema.key_attributes(k.index);
            (pk == attr && template_is_numeric(&k.pk, &e.attributes))
                || (sk == Some(attr)
                    && k.sk
                        .as_ref()
                        .is_some_and(|t| template_is_numeric(t, &e.attributes)))
        })
    })
}

fn key_attr(schema: &Schema, name: &str) -> KeyAttr {
    KeyAttr {
        name: name.to_string(),
        ty: if key_is_numeric(schema, name) {
            "N"
        } else {
            "S"
        }
        .into(),
    }
}

pub fn index_def(schema: &Schema, ix: &ir::Index) -> IndexDef {
    IndexDef {
        name: ix.name.clone(),
        partition_key: key_attr(schema, &ix.partition_key),
        sort_key: ix.sort_key.as_deref().map(|s| key_attr(schema, s)),
        partition_keys: ix
            .composite
            .iter()
            .flat_map(|c| &c.partition)
            .map(|a| key_attr(schema, a))
            .collect(),
        sort_keys: ix
            .composite
            .iter()
            .flat_map(|c| &c.sort)
            .map(|a| key_attr(schema, a))
            .collect(),
        projection: match &ix.projection {
            ir::Projection::All => ProjectionDef::All,
            ir::Projection::KeysOnly => ProjectionDef::KeysOnly,
            ir::Projection::Include(list) => ProjectionDef::Include(list.clone()),
        },
    }
}

pub fn table_def(schema: &Schema) -> TableDef {
    TableDef {
        partition_key: key_attr(schema, &schema.table.partition_key),
        sort_key: schema
            .table
            .sort_key
            .as_deref()
            .map(|sk| key_attr(schema, sk)),
        billing_mode: match schema.table.billing {
            ir::Billing::OnDemand => "on_demand".into(),
            ir::Billing::Provisioned { .. } => "provisioned".into(),
        },
        capacity: match schema.table.billing {
            ir::Billing::OnDemand => None,
            ir::Billing::Provisioned { read, write } => Some(Capacity { read, write }),
        },
        ttl_attribute: schema.table.ttl_attribute.clone(),
        stream: schema.table.stream.map(stream_view),
        point_in_time_recovery: schema.table.point_in_time_recovery,
        deletion_protection: schema.table.deletion_protection,
        indexes: (schema.table.indexes.iter())
            .filter(|ix| !ix.local)
            .map(|ix| index_def(schema, ix))
            .collect(),
        local_indexes: (schema.table.indexes.iter())
            .filter(|ix| ix.local)
            .map(|ix| index_def(schema, ix))
            .collect(),
    }
}

fn stream_view(v: crate::ast::StreamView) -> StreamView {
    use crate::ast::StreamView as S;
    match v {
        S::NewAndOldImages => StreamView::NewAndOldImages,
        S::NewImage => StreamView::NewImage,
        S::OldImage => StreamView::OldImage,
        S::KeysOnly => StreamView::KeysOnly,
    }
}

/// The type of a key input as the runner reads it from a stored item; a timestamp stored
/// as an epoch number names its unit, which the stored number does not.
fn input_type(attr: &ir::Attribute) -> &'static str {
    match &attr.ty {
        Type::String => "string",
        Type::Integer => "integer",
        Type::Bool => "bool",
        Type::Date => "date",
        Type::Timestamp => match attr.stored_as {
            crate::ast::StoredAs::Rfc3339 => "timestamp",
            crate::ast::StoredAs::EpochSeconds => "timestamp:epoch_seconds",
            crate::ast::StoredAs::EpochMillis => "timestamp:epoch_millis",
        },
        Type::Enum(_) => "enum",
        _ => unreachable!("the validator allows only key-compatible types in templates"),
    }
}

fn derived_key(attribute: &str, t: &ir::Template, e: &ir::Entity) -> DerivedKey {
    DerivedKey {
        attribute: attribute.to_string(),
        template: t.source.clone(),
        numeric: template_is_numeric(t, &e.attributes),
        inputs: t
            .placeholders()
            .map(|ph| {
                (
                    e.attributes[ph.attr].name.clone(),
                    input_type(&e.attributes[ph.attr]).to_string(),
                )
            })
            .collect(),
    }
}

/// The backfill for a new index: each entity with keys on it gets them computed.
fn backfill_for(schema: &Schema, gsi: usize) -> Option<Backfill> {
    let entities: Vec<BackfillEntity> = schema
        .entities
        .iter()
        .filter_map(|e| {
            let key = e.key_for(IndexRef::Gsi(gsi))?;
            // Attribute keys are on the items already; a local index's partition key is
            // the table's.
            let (pk, sk) = schema.written_key_attributes(e, key);
            let set: Vec<DerivedKey> = (pk.map(|pk| derived_key(pk, &key.pk, e)).into_iter())
                .chain(sk.zip(key.sk.as_ref()).map(|(sk, t)| derived_key(sk, t, e)))
                .collect();
            if set.is_empty() {
                return None;
            }
            Some(BackfillEntity {
                entity: e.type_value.clone(),
                set,
            })
        })
        .collect();
    (!entities.is_empty()).then(|| Backfill {
        index: schema.table.indexes[gsi].name.clone(),
        type_attribute: schema.table.entity_type_attribute.clone(),
        entities,
    })
}

// ---------------------------------------------------------------------------------------
// Planning

/// One migration to scaffold.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub slug: String,
    pub steps: Vec<Step>,
    /// What it does, in sentences, for the file's header.
    pub summary: Vec<String>,
}

/// A change the migrations cannot make without destroying something.
#[derive(Debug, Clone, PartialEq)]
pub struct Destructive {
    pub index: String,
    pub what: String,
}

/// What it takes to bring the table from the migrations' state to the schema: new
/// migrations (one index each), or the destructive changes that need `--allow-destructive`.
pub fn plan(
    schema: &Schema,
    state: &TableState,
    allow_destructive: bool,
) -> Result<Vec<Planned>, Vec<Diagnostic>> {
    let wanted = table_def(schema);
    let uniques = unique::plans(&state.uniques, &unique::wanted(schema));
    let Some(current) = &state.table else {
        let mut out = vec![create_table_plan(wanted)];
        out.extend(uniques);
        return Ok(out);
    };
    let mut diags = table_changes(current, &wanted);
    let destructive = destructive_changes(state, &wanted);
    // Settings first: an index created afterwards gets the table's new capacity.
    let mut out = settings_plans(current, &wanted);
    if allow_destructive {
        out.extend(destructive.iter().map(delete_index_plan));
    } else {
        diags.extend(destructive.iter().map(destructive_diagnostic));
    }
    for w in &wanted.indexes {
        let exists = state.indexes.iter().any(|ix| ix.name == w.name && ix == w);
        let recreated = destructive.iter().any(|d| d.index == w.name);
        let gi = schema.table.indexes.iter().position(|ix| ix.name == w.name);
        if let (false, true, Some(gi)) = (exists, allow_destructive || !recreated, gi) {
            out.push(add_index_plan(schema, gi, w));
        }
    }
    out.extend(uniques);
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

fn create_table_plan(wanted: TableDef) -> Planned {
    let mut summary = vec![format!(
        "CreateTable: key ({}, {}), billing {}, then wait until it is ACTIVE",
        show(&wanted.partition_key),
        show_sort(wanted.sort_key.as_ref()),
        wanted.billing_mode
    )];
    summary.extend(
        wanted
            .indexes
            .iter()
            .map(|ix| format!("   with index {}", index_shape(ix))),
    );
    summary.extend(
        wanted
            .local_indexes
            .iter()
            .map(|ix| format!("   with local index {}", index_shape(ix))),
    );
    if let Some(ttl) = &wanted.ttl_attribute {
        summary.push(format!("UpdateTimeToLive: enable TTL on `{ttl}`"));
    }
    if let Some(v) = wanted.stream {
        summary.push(format!("   with a stream of {}", v.as_dynamodb()));
    }
    if wanted.point_in_time_recovery {
        summary.push("UpdateContinuousBackups: point-in-time recovery on".into());
    }
    if wanted.deletion_protection {
        summary.push("   with deletion protection".into());
    }
    Planned {
        slug: "create_table".into(),
        steps: vec![Step::CreateTable(wanted)],
        summary,
    }
}

/// Changes to the table itself that no migration can make.
fn table_changes(current: &TableDef, wanted: &TableDef) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if current.local_indexes != wanted.local_indexes {
        let names = |t: &TableDef| {
            t.local_indexes
                .iter()
                .map(|i| i.name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        diags.push(
            Diagnostic::error("dyngen::local_index_changed", format!("the table's local indexes changed from [{}] to [{}]", names(current), names(wanted)))
                .label(Span { offset: 0, len: 0 }, "schema")
                .help("DynamoDB creates local secondary indexes with the table only, and never changes or removes them: restore them, use a global index, or create a new table"),
        );
    }
    if current.partition_key != wanted.partition_key || current.sort_key != wanted.sort_key {
        diags.push(
            Diagnostic::error("dyngen::table_key_changed", format!("the table's key changed from ({}, {}) to ({}, {})", show(&current.partition_key), show_sort(current.sort_key.as_ref()), show(&wanted.partition_key), show_sort(wanted.sort_key.as_ref())))
                .label(Span { offset: 0, len: 0 }, "schema")
                .help("DynamoDB cannot change a table's primary key: create a new table and copy the data, or restore the old key"),
        );
    }
    diags
}

/// One migration per table setting that differs from what the migrations left.
fn settings_plans(current: &TableDef, wanted: &TableDef) -> Vec<Planned> {
    let mut out = Vec::new();
    let mut add = |slug: &str, step: Step, summary: String| {
        out.push(Planned {
            slug: slug.into(),
            steps: vec![step],
            summary: vec![summary],
        })
    };
    if current.ttl_attribute != wanted.ttl_attribute {
        let summary = match (&current.ttl_attribute, &wanted.ttl_attribute) {
            (None, Some(a)) => format!("UpdateTimeToLive: enable TTL on `{a}`"),
            (Some(_), None) => "UpdateTimeToLive: disable TTL (items stop expiring)".to_string(),
            (Some(old), Some(a)) => format!(
                "UpdateTimeToLive: disable TTL on `{old}`, then enable it on `{a}`; DynamoDB may refuse the second call for up to an hour, and the runner completes the step on a later run"
            ),
            (None, None) => String::new(),
        };
        let step = Step::SetTtl {
            attribute: wanted.ttl_attribute.clone(),
        };
        add("set_ttl", step, summary);
    }
    if current.billing_mode != wanted.billing_mode || current.capacity != wanted.capacity {
        let summary = match wanted.capacity {
            Some(c) => format!(
                "UpdateTable: billing provisioned, {} read and {} write capacity units for the table and each index, then wait until it is ACTIVE",
                c.read, c.write
            ),
            None => "UpdateTable: billing on demand, then wait until it is ACTIVE".to_string(),
        };
        let step = Step::SetBilling {
            billing_mode: wanted.billing_mode.clone(),
            capacity: wanted.capacity,
        };
        add("set_billing", step, summary);
    }
    if current.stream != wanted.stream {
        let summary = match wanted.stream {
            Some(v) if current.stream.is_some() => format!(
                "UpdateTable: end the stream and start a new one with {} (consumers move to the new stream's ARN)",
                v.as_dynamodb()
            ),
            Some(v) => format!("UpdateTable: enable the stream with {}", v.as_dynamodb()),
            None => "UpdateTable: disable the stream (its records stay readable for 24 hours)"
                .to_string(),
        };
        let step = Step::SetStream {
            view_type: wanted.stream,
        };
        add("set_stream", step, summary);
    }
    if current.point_in_time_recovery != wanted.point_in_time_recovery {
        let enabled = wanted.point_in_time_recovery;
        let summary = format!(
            "UpdateContinuousBackups: point-in-time recovery {}",
            on_off(enabled)
        );
        let step = Step::SetPointInTimeRecovery { enabled };
        add("set_point_in_time_recovery", step, summary);
    }
    if current.deletion_protection != wanted.deletion_protection {
        let enabled = wanted.deletion_protection;
        let summary = format!("UpdateTable: deletion protection {}", on_off(enabled));
        let step = Step::SetDeletionProtection { enabled };
        add("set_deletion_protection", step, summary);
    }
    out
}

fn on_off(enabled: bool) -> &'static str {
    if enabled { "on" } else { "off" }
}

/// An empty code migration, for `dyngen generate --new-migration NAME`: one `code` step
/// named `name`, which the application registers with the runner.
pub fn code_plan(name: &str) -> Planned {
    Planned {
        slug: name.to_string(),
        steps: vec![Step::Code {
            name: name.to_string(),
        }],
        summary: vec![format!(
            "Code: the step the application registers as `{name}` (Options::code_step); it runs once, under the lock, and is recorded like every migration"
        )],
    }
}

/// Indexes the migrations created that the schema no longer has, or has changed.
fn destructive_changes(state: &TableState, wanted: &TableDef) -> Vec<Destructive> {
    let mut destructive = Vec::new();
    for ix in &state.indexes {
        match wanted.indexes.iter().find(|w| w.name == ix.name) {
            None => destructive.push(Destructive {
                index: ix.name.clone(),
                what: "delete it (the schema no longer has it)".into(),
            }),
            Some(w) if w != ix => destructive.push(Destructive {
                index: ix.name.clone(),
                what: format!(
                    "delete it, then create it again with the new definition ({})",
                    diff_index(ix, w)
                ),
            }),
            Some(_) => {}
        }
    }
    destructive
}

fn delete_index_plan(d: &Destructive) -> Planned {
    Planned {
        slug: format!("delete_index_{}", d.index),
        steps: vec![Step::DeleteIndex {
            name: d.index.clone(),
        }],
        summary: vec![format!(
            "UpdateTable: delete index `{}`; queries on it fail until it is created again",
            d.index
        )],
    }
}

fn destructive_diagnostic(d: &Destructive) -> Diagnostic {
    Diagnostic::error("dyngen::destructive_change", format!("index `{}` would have to be deleted: dyngen would {}", d.index, d.what))
        .label(Span { offset: 0, len: 0 }, "schema")
        .help("queries on the index fail while it is rebuilt; prefer adding an index under a new name, moving the code to it, then removing the old one. To proceed anyway, run `dyngen generate --allow-destructive`")
}

/// One index: backfill the existing items' key attributes, then create it.
fn add_index_plan(schema: &Schema, gi: usize, w: &IndexDef) -> Planned {
    let mut steps = Vec::new();
    let mut summary = Vec::new();
    if let Some(b) = backfill_for(schema, gi) {
        for e in &b.entities {
            summary.push(format!(
                "Backfill: existing `{}` items get {}",
                e.entity,
                e.set
                    .iter()
                    .map(|k| format!("`{}` = \"{}\"", k.attribute, k.template))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ));
        }
        steps.push(Step::Backfill(b));
    }
    summary.push(describe_index(w));
    steps.push(Step::CreateIndex(w.clone()));
    Planned {
        slug: format!("add_index_{}", w.name),
        steps,
        summary,
    }
}

fn show(k: &KeyAttr) -> String {
    format!("{} {}", k.name, k.ty)
}

fn show_sort(k: Option<&KeyAttr>) -> String {
    k.map_or_else(|| "no sort key".to_string(), show)
}

fn describe_index(ix: &IndexDef) -> String {
    format!(
        "UpdateTable: create index {}, then wait until it is ACTIVE",
        index_shape(ix)
    )
}

fn index_shape(ix: &IndexDef) -> String {
    // A multi-attribute key reads `(a S + b S, c N + d N)`.
    let part = |range: bool| {
        let names: Vec<String> = (ix.key_elements().into_iter())
            .filter(|(_, r)| *r == range)
            .map(|(k, _)| show(k))
            .collect();
        names.join(" + ")
    };
    let keys = match part(true) {
        sort if sort.is_empty() => part(false),
        sort => format!("{}, {sort}", part(false)),
    };
    let projection = match &ix.projection {
        ProjectionDef::All => "all attributes".to_string(),
        ProjectionDef::KeysOnly => "keys only".to_string(),
        ProjectionDef::Include(l) => format!("keys and {}", l.join(", ")),
    };
    format!("`{}` ({keys}; projecting {projection})", ix.name)
}

fn diff_index(old: &IndexDef, new: &IndexDef) -> String {
    let mut parts = Vec::new();
    if old.key_elements() != new.key_elements() {
        parts.push("keys changed");
    }
    if old.projection != new.projection {
        parts.push("projection changed");
    }
    parts.join(", ")
}

/// Numbers and names the planned migrations after the existing ones.
pub fn number(existing: &[Migration], planned: &[Planned]) -> Vec<(String, Planned)> {
    let next = existing
        .iter()
        .filter_map(|m| sequence(&m.file))
        .max()
        .unwrap_or(0)
        + 1;
    planned
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("{:04}_{}", next + i as u32, p.slug), p.clone()))
        .collect()
}
