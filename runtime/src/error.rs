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
    /// A key input given to a setter (an attribute an index key is built from besides the
    /// one set) is not the stored value, so the rewritten key would have been wrong.
    KeyInputMismatch {
        entity: &'static str,
        key: String,
        attribute: &'static str,
    },
    /// An update with no change in it.
    EmptyUpdate { entity: &'static str },
    /// An update whose setters contradict each other (the reason says how).
    InvalidUpdate {
        entity: &'static str,
        reason: String,
    },
    /// A key value DynamoDB would reject, refused before the request.
    InvalidKey {
        entity: &'static str,
        attribute: &'static str,
        reason: String,
    },
    /// A value the table's rules refuse (an integer beyond JavaScript's exact range on a
    /// table with `safe_integers`), refused before the request.
    InvalidValue {
        entity: &'static str,
        attribute: &'static str,
        reason: String,
    },
    /// A unique constraint's value is held by another item.
    UniqueViolation {
        entity: &'static str,
        /// The constraint: its attributes joined by `+`.
        constraint: &'static str,
        attributes: &'static [&'static str],
    },
    /// A write that cannot keep an entity's unique guards, refused before any request:
    /// batches take no conditions, and a transaction cannot read the values whose guards
    /// a put, an update or a delete by key would move.
    UniqueGuardsUnsupported {
        entity: &'static str,
        operation: &'static str,
    },
    /// An item read from the table does not fit its entity.
    InvalidItem(ItemError),
    /// A cursor from another access pattern was passed to this one.
    CursorMismatch {
        expected: &'static str,
        found: String,
    },
    /// A cursor of this access pattern, but from a query with other inputs (another
    /// partition): continuing it would read someone else's items.
    CursorInputsMismatch { pattern: &'static str },
    /// A `between` whose lower bound is above its upper bound, refused before the request.
    InvalidRange { pattern: &'static str },
    /// A cursor that dyngen did not produce.
    InvalidCursor,
    /// A batch that still had unprocessed requests after every retry; exactly those are listed.
    BatchIncomplete {
        unprocessed_keys: Vec<Item>,
        unprocessed_writes: Vec<WriteRequest>,
    },
    /// A batch write stopped part-way by a failure that retries did not overcome: what was
    /// written, what may have been (the request whose answer was lost), and what was never
    /// sent. Sending `uncertain` and `unsent` again is safe: batch puts and deletes set
    /// state, they do not accumulate.
    BatchInterrupted {
        written: Vec<WriteRequest>,
        uncertain: Vec<WriteRequest>,
        unsent: Vec<WriteRequest>,
        cause: ::std::boxed::Box<::aws_sdk_dynamodb::Error>,
    },
    /// A write whose answer was lost (a timeout, a broken connection, a server error) on
    /// every attempt that could tell, and whose effect the table cannot show: it was
    /// applied once, or not at all. Never applied twice.
    Ambiguous {
        entity: &'static str,
        key: String,
        /// The operation: `create`, `put`, `update`, `delete`, `transaction`.
        operation: &'static str,
        /// Whether sending the same call again is safe: true for writes that set state
        /// (create, put, delete, an update with an expected version), false for those
        /// that accumulate (counters, appends, a version bump without an expected version)
        /// and for transactions.
        retry_safe: bool,
        /// `true`: a retry was answered, and the item held another write's token (or
        /// there was no item), so the table cannot tell whether this write came first.
        /// `false`: no attempt after the lost answer was answered (the retries ran out).
        table_checked: bool,
        /// The failure that lost the answer.
        cause: Option<::std::boxed::Box<::aws_sdk_dynamodb::Error>>,
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
            Error::KeyInputMismatch {
                entity,
                key,
                attribute,
            } => write!(
                f,
                "{entity} {key}: the `{attribute}` given to rebuild an index key is not the stored one"
            ),
            Error::EmptyUpdate { entity } => write!(f, "update of {entity} changes nothing"),
            Error::InvalidUpdate { entity, reason } => {
                write!(f, "invalid {entity} update: {reason}")
            }
            Error::InvalidKey {
                entity,
                attribute,
                reason,
            } => write!(f, "invalid key of {entity}: `{attribute}`: {reason}"),
            Error::UniqueViolation { .. } | Error::UniqueGuardsUnsupported { .. } => {
                self.fmt_unique(f)
            }
            Error::InvalidValue {
                entity,
                attribute,
                reason,
            } => write!(f, "invalid value of {entity}: `{attribute}`: {reason}"),
            Error::InvalidItem(e) => write!(f, "{e}"),
            Error::CursorMismatch { expected, found } => {
                write!(f, "cursor belongs to pattern `{found}`, not `{expected}`")
            }
            Error::CursorInputsMismatch { pattern } => {
                write!(f, "cursor belongs to a `{pattern}` query with other inputs")
            }
            Error::InvalidRange { pattern } => {
                let why = "the range's lower bound is above its upper bound";
                write!(f, "`{pattern}`: {why}")
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
            Error::BatchInterrupted { .. } | Error::Ambiguous { .. } => self.fmt_lost(f),
            Error::Migration(m) => write!(f, "migration: {m}"),
            Error::Sdk(e) => write_sdk_error(f, e),
        }
    }
}

impl Error {
    /// Whether the operation may have been applied although it failed: an answer was lost.
    /// The table shows the outcome ([`Error::Ambiguous`]) or the listed requests may have
    /// been written ([`Error::BatchInterrupted`]).
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Error::Ambiguous { .. } => true,
            Error::BatchInterrupted { uncertain, .. } => !uncertain.is_empty(),
            _ => false,
        }
    }

    /// Whether sending the same call again cannot apply its change twice. False only for
    /// an [`Error::Ambiguous`] write that accumulates (a counter, an append, a transaction):
    /// read the item and decide. Every other error left the table unchanged, or concerns
    /// writes that set state.
    pub fn is_retry_safe(&self) -> bool {
        !matches!(
            self,
            Error::Ambiguous {
                retry_safe: false,
                ..
            }
        )
    }

    fn fmt_lost(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match self {
            Error::Ambiguous {
                entity,
                key,
                operation,
                cause,
                ..
            } => {
                write!(
                    f,
                    "{operation} of {entity} {key}: the answer was lost; it was applied once or not at all"
                )?;
                match cause {
                    Some(c) => {
                        f.write_str(" (")?;
                        write_sdk_error(f, c)?;
                        f.write_str(")")
                    }
                    None => Ok(()),
                }
            }
            Error::BatchInterrupted {
                written,
                uncertain,
                unsent,
                cause,
            } => {
                write!(
                    f,
                    "batch interrupted: {} writes done, {} may be, {} not sent: ",
                    written.len(),
                    uncertain.len(),
                    unsent.len()
                )?;
                write_sdk_error(f, cause)
            }
            _ => Ok(()),
        }
    }

    fn fmt_unique(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match self {
            Error::UniqueViolation {
                entity, constraint, ..
            } => write!(
                f,
                "{entity}: the `{constraint}` value is taken by another item"
            ),
            Error::UniqueGuardsUnsupported { entity, operation } => write!(
                f,
                "{entity} has unique constraints: {operation} cannot keep their guards (use the repository's own write)"
            ),
            _ => Ok(()),
        }
    }
}

impl ::std::error::Error for Error {
    fn source(&self) -> Option<&(dyn ::std::error::Error + 'static)> {
        match self {
            Error::InvalidItem(e) => Some(e),
            Error::Sdk(e) | Error::BatchInterrupted { cause: e, .. } => Some(e.as_ref()),
            Error::Ambiguous { cause: Some(e), .. } => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<ItemError> for Error {
    fn from(e: ItemError) -> Self {
        Error::InvalidItem(e)
    }
}

/// DynamoDB's own code and message when it sent one; otherwise the SDK's description and
/// its causes (a connection refused, a timeout), which its Display alone leaves out.
pub(crate) fn write_sdk_error(
    f: &mut ::std::fmt::Formatter<'_>,
    e: &::aws_sdk_dynamodb::Error,
) -> ::std::fmt::Result {
    use ::aws_sdk_dynamodb::error::ProvideErrorMetadata;
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => return write!(f, "DynamoDB {code}: {message}"),
        (Some(code), None) => return write!(f, "DynamoDB {code}"),
        _ => write!(f, "DynamoDB: {e}")?,
    }
    let mut source = ::std::error::Error::source(e);
    while let Some(s) = source {
        write!(f, ": {s}")?;
        source = s.source();
    }
    Ok(())
}

pub(crate) fn sdk(e: impl Into<::aws_sdk_dynamodb::Error>) -> Error {
    Error::Sdk(::std::boxed::Box::new(e.into()))
}

/// An SDK error for unit tests of the paths that keep one.
#[cfg(test)]
pub(crate) fn sdk_error_for_tests() -> ::aws_sdk_dynamodb::Error {
    let e = ::aws_sdk_dynamodb::error::SdkError::<
        ::aws_sdk_dynamodb::operation::put_item::PutItemError,
        ::aws_sdk_dynamodb::config::http::HttpResponse,
    >::timeout_error("lost");
    e.into()
}
