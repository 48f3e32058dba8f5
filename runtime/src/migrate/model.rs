//! The migration file model: what `dyngen generate` writes to `migrations/NNNN_*.yaml`,
//! what the runner applies, and what the generated code embeds. One set of types, read
//! by one parser ([`Migration::parse`]), so a file means the same to the generator, to
//! `dyngen migrate` and to `Db::migrate`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A parsed migration file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationFile {
    pub migration: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    CreateTable(TableDef),
    CreateIndex(IndexDef),
    DeleteIndex {
        name: String,
    },
    Backfill(Backfill),
    /// TTL on this attribute, or off (`attribute` absent).
    SetTtl {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attribute: Option<String>,
    },
    /// Billing mode `on_demand`, or `provisioned` with `capacity` (also given to every
    /// index, as DynamoDB requires when a table becomes provisioned).
    SetBilling {
        billing_mode: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        capacity: Option<Capacity>,
    },
    /// A stream with this view type, or none (`view_type` absent).
    SetStream {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        view_type: Option<StreamView>,
    },
    SetPointInTimeRecovery {
        enabled: bool,
    },
    SetDeletionProtection {
        enabled: bool,
    },
    /// A Rust step the application registers with the runner under this name
    /// ([`super::CodeStep`]).
    Code {
        name: String,
    },
    /// A new unique constraint: every existing item of the entity claims the guard of its
    /// value; two items with one value stop the migration, naming both.
    AddUnique(UniqueDef),
    /// A unique constraint removed from the schema: its guard items are deleted.
    DropUnique(UniqueDef),
}

/// A unique constraint as the runner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UniqueDef {
    /// The entity's name, its items' entity-type value.
    pub entity: String,
    /// The attribute naming each item's entity.
    pub type_attribute: String,
    /// The constraint: its attributes joined by `+`.
    pub name: String,
    pub attributes: Vec<String>,
}

/// What a table's stream records carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamView {
    NewAndOldImages,
    NewImage,
    OldImage,
    KeysOnly,
}

impl StreamView {
    /// DynamoDB's name for it (`NEW_AND_OLD_IMAGES`, ...).
    pub fn as_dynamodb(self) -> &'static str {
        match self {
            StreamView::NewAndOldImages => "NEW_AND_OLD_IMAGES",
            StreamView::NewImage => "NEW_IMAGE",
            StreamView::OldImage => "OLD_IMAGE",
            StreamView::KeysOnly => "KEYS_ONLY",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TableDef {
    pub partition_key: KeyAttr,
    /// Absent: a partition key only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<KeyAttr>,
    pub billing_mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamView>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub point_in_time_recovery: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deletion_protection: bool,
    /// Global secondary indexes.
    #[serde(default)]
    pub indexes: Vec<IndexDef>,
    /// Local secondary indexes (the table's partition key, their own sort key): DynamoDB
    /// creates them with the table only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_indexes: Vec<IndexDef>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    pub read: u32,
    pub write: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyAttr {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
}

impl KeyAttr {
    pub fn numeric(&self) -> bool {
        self.ty == "N"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IndexDef {
    pub name: String,
    /// The partition key; of a multi-attribute key, its first attribute.
    pub partition_key: KeyAttr,
    /// The sort key; of a multi-attribute key, its last attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<KeyAttr>,
    /// A multi-attribute partition key's attributes, in order (up to four); empty for a
    /// single-attribute key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_keys: Vec<KeyAttr>,
    /// A multi-attribute sort key's attributes, in order (up to four).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort_keys: Vec<KeyAttr>,
    /// `all`, `keys_only`, or the attribute names of an INCLUDE projection.
    pub projection: ProjectionDef,
}

impl IndexDef {
    /// The key schema: each attribute and whether it is part of the sort key (`RANGE`),
    /// partition attributes first, each part in order.
    pub fn key_elements(&self) -> Vec<(&KeyAttr, bool)> {
        let partition: Vec<&KeyAttr> = if self.partition_keys.is_empty() {
            vec![&self.partition_key]
        } else {
            self.partition_keys.iter().collect()
        };
        let sort: Vec<&KeyAttr> = if self.sort_keys.is_empty() {
            self.sort_key.iter().collect()
        } else {
            self.sort_keys.iter().collect()
        };
        let hash = partition.into_iter().map(|k| (k, false));
        hash.chain(sort.into_iter().map(|k| (k, true))).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectionDef {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Backfill {
    pub index: String,
    pub type_attribute: String,
    pub entities: Vec<BackfillEntity>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackfillEntity {
    pub entity: String,
    pub set: Vec<DerivedKey>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DerivedKey {
    pub attribute: String,
    pub template: String,
    #[serde(default)]
    pub numeric: bool,
    /// Attribute name → type (`string`, `integer`, `bool`, `date`, `timestamp`, `enum`).
    pub inputs: BTreeMap<String, String>,
}

impl TableDef {
    /// The table as one more step leaves it: an index added or removed, or a setting
    /// changed. Steps that change items (backfills, code, unique guards) leave it as it is.
    pub fn apply(&mut self, step: &Step) {
        match step {
            Step::CreateTable(t) => *self = t.clone(),
            Step::CreateIndex(ix) => {
                self.indexes.retain(|i| i.name != ix.name);
                self.indexes.push(ix.clone());
            }
            Step::DeleteIndex { name } => self.indexes.retain(|i| &i.name != name),
            Step::SetTtl { attribute } => self.ttl_attribute = attribute.clone(),
            Step::SetBilling {
                billing_mode,
                capacity,
            } => {
                self.billing_mode = billing_mode.clone();
                self.capacity = *capacity;
            }
            Step::SetStream { view_type } => self.stream = *view_type,
            Step::SetPointInTimeRecovery { enabled } => self.point_in_time_recovery = *enabled,
            Step::SetDeletionProtection { enabled } => self.deletion_protection = *enabled,
            Step::Backfill(_) | Step::Code { .. } | Step::AddUnique(_) | Step::DropUnique(_) => {}
        }
    }

    /// The table a sequence of steps leaves: `None` until one creates it.
    pub fn after<'a>(steps: impl IntoIterator<Item = &'a Step>) -> Option<TableDef> {
        let mut table: Option<TableDef> = None;
        for step in steps {
            match (&mut table, step) {
                (None, Step::CreateTable(t)) => table = Some(t.clone()),
                (Some(t), step) => t.apply(step),
                (None, _) => {}
            }
        }
        table
    }

    /// Reads a table definition from the YAML that generated code embeds for
    /// `Db::create_table`.
    pub fn from_yaml(text: &str) -> Result<TableDef, ModelError> {
        serde_saphyr::from_str(text).map_err(|e| ModelError {
            file: "<table definition>".into(),
            message: first_line(&e.to_string()),
        })
    }
}

/// One migration ready to apply: its name, the checksum of its file, and its steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// The file name without `.yaml`, e.g. `0002_add_index_gsi4`; names sort in order.
    pub name: String,
    /// sha256 of the file's text, hex: what the ledger records.
    pub checksum: String,
    pub steps: Vec<Step>,
}

/// A migration file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    /// The file at fault.
    pub file: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for ModelError {}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

impl MigrationFile {
    /// Parses a migration file's text.
    pub fn parse(file: &str, text: &str) -> Result<MigrationFile, ModelError> {
        serde_saphyr::from_str(text).map_err(|e| ModelError {
            file: file.to_string(),
            message: format!("cannot be read: {}", first_line(&e.to_string())),
        })
    }
}

impl Migration {
    /// Parses one migration file (`0002_add_index_gsi4.yaml` and its text); the name
    /// inside must be the file name without `.yaml`.
    pub fn parse(file: &str, text: &str) -> Result<Migration, ModelError> {
        let parsed = MigrationFile::parse(file, text)?;
        if format!("{}.yaml", parsed.migration) != file {
            return Err(ModelError {
                file: file.to_string(),
                message: format!("says `migration: {}`", parsed.migration),
            });
        }
        Ok(Migration {
            name: parsed.migration,
            checksum: checksum(text),
            steps: parsed.steps,
        })
    }

    /// Parses every file of a list of (file name, text), as generated code embeds them,
    /// in the order given.
    pub fn parse_all(files: &[(&str, &str)]) -> Result<Vec<Migration>, ModelError> {
        files.iter().map(|(f, t)| Migration::parse(f, t)).collect()
    }
}

/// sha256 of a file's bytes, hex: what the ledger records.
pub fn checksum(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
