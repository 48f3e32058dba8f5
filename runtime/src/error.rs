//! The one error type of every repository operation.

use aws_sdk_dynamodb::types::WriteRequest;

use crate::item::{Item, ItemError};

/// Everything that can go wrong in a generated operation. Match on the variants; the
/// SDK's own error is kept whole in [`Error::Sdk`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The item to update does not exist.
    NotFound { entity: &'static str, key: String },
    /// `create` found an item with the same key.
    AlreadyExists { entity: &'static str, key: String },
    /// A condition of the write did not hold (other than existence or version).
    ConditionFailed { entity: &'static str, key: String },
    /// The stored version is not the one the write expected: someone else wrote first.
    VersionConflict {
        entity: &'static str,
        key: String,
        expected: i64,
        actual: Option<i64>,
    },
    /// An item read from the table does not fit its entity.
    InvalidItem(ItemError),
    /// A cursor from another access pattern was passed to this one.
    CursorMismatch {
        expected: &'static str,
        found: String,
    },
    /// A cursor that dyngen did not produce.
    InvalidCursor,
    /// A batch that still had unprocessed requests after every retry; exactly those are listed.
    BatchIncomplete {
        unprocessed_keys: Vec<Item>,
        unprocessed_writes: Vec<WriteRequest>,
    },
    /// The transaction was cancelled; one reason per action, in the order they were added.
    TransactionCanceled { reasons: Vec<CancellationReason> },
    /// A table operation of the migration runner failed for a reason of its own.
    Migration(String),
    /// Any other failure reported by DynamoDB or the SDK.
    Sdk(::std::boxed::Box<::aws_sdk_dynamodb::Error>),
}

/// Why one action of a cancelled transaction failed (code `None` for actions that did not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationReason {
    /// Position of the action in the transaction.
    pub index: usize,
    /// What the action was, e.g. `create User`.
    pub action: String,
    /// DynamoDB's code, e.g. `ConditionalCheckFailed`; `None` if this action was fine.
    pub code: Option<String>,
    pub message: Option<String>,
}

impl ::std::fmt::Display for Error {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match self {
            Error::NotFound { entity, key } => write!(f, "{entity} {key} not found"),
            Error::AlreadyExists { entity, key } => write!(f, "{entity} {key} already exists"),
            Error::ConditionFailed { entity, key } => {
                write!(f, "condition failed on {entity} {key}")
            }
            Error::VersionConflict {
                entity,
                key,
                expected,
                actual,
            } => write!(
                f,
                "{entity} {key}: expected version {expected}, found {actual:?}"
            ),
            Error::InvalidItem(e) => write!(f, "{e}"),
            Error::CursorMismatch { expected, found } => {
                write!(f, "cursor belongs to pattern `{found}`, not `{expected}`")
            }
            Error::InvalidCursor => f.write_str("the cursor is not one dyngen produced"),
            Error::BatchIncomplete {
                unprocessed_keys,
                unprocessed_writes,
            } => write!(
                f,
                "batch incomplete after retries: {} keys and {} writes unprocessed",
                unprocessed_keys.len(),
                unprocessed_writes.len()
            ),
            Error::TransactionCanceled { reasons } => {
                f.write_str("transaction cancelled:")?;
                for r in reasons.iter().filter(|r| r.code.is_some()) {
                    write!(
                        f,
                        " [{} {}: {}]",
                        r.index,
                        r.action,
                        r.code.as_deref().unwrap_or_default()
                    )?;
                }
                Ok(())
            }
            Error::Migration(m) => write!(f, "migration: {m}"),
            Error::Sdk(e) => write!(f, "DynamoDB: {e}"),
        }
    }
}

impl ::std::error::Error for Error {
    fn source(&self) -> Option<&(dyn ::std::error::Error + 'static)> {
        match self {
            Error::InvalidItem(e) => Some(e),
            Error::Sdk(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<ItemError> for Error {
    fn from(e: ItemError) -> Self {
        Error::InvalidItem(e)
    }
}

pub(crate) fn sdk(e: impl Into<::aws_sdk_dynamodb::Error>) -> Error {
    Error::Sdk(::std::boxed::Box::new(e.into()))
}
