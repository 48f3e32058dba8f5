//! DynamoDB Streams: the records a Lambda function receives (`aws_lambda_events`), decoded
//! into the schema's entities by the generated `TableChange` (schema `rust: {streams:
//! true}`).
//!
//! A record names its change (`INSERT`, `MODIFY`, `REMOVE`) and carries the images the
//! stream's view type keeps: both for `NEW_AND_OLD_IMAGES`, one for `NEW_IMAGE` or
//! `OLD_IMAGE`, none for `KEYS_ONLY`. A change whose image the view type does not keep is
//! [`StreamError::MissingImage`], never a guess. Items of no entity (another writer's, or
//! dyngen's own ledger, lock and unique guards) are [`OtherChange`]s.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

pub use aws_lambda_events::event::dynamodb::{Event, EventRecord, StreamViewType};

use crate::entity::Entity;
use crate::item::{Item, ItemError, key_text};
use crate::table::TableDesign;

/// What happened to one item of entity `E`.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<E> {
    /// The item was written where none was.
    Inserted { new: E },
    /// The item was rewritten: as it was, and as it is.
    Modified { old: E, new: E },
    /// The item was deleted: by a caller, or (`expired`) by DynamoDB's time to live.
    Removed { old: E, expired: bool },
}

impl<E> Change<E> {
    /// The change's kind, without its images.
    pub fn kind(&self) -> ChangeKind {
        match self {
            Change::Inserted { .. } => ChangeKind::Inserted,
            Change::Modified { .. } => ChangeKind::Modified,
            Change::Removed { .. } => ChangeKind::Removed,
        }
    }
}

/// The kind of a change, as the record's `eventName` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Inserted,
    Modified,
    Removed,
}

/// A change to an item that is none of the schema's entities, with its images as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherChange {
    pub kind: ChangeKind,
    /// The item's key attributes.
    pub keys: Item,
    pub old: Option<Item>,
    pub new: Option<Item>,
    /// The value of the entity-type attribute, when an image has one (an entity this
    /// schema does not declare, such as one of another writer's).
    pub entity_type: Option<String>,
    /// dyngen's own item: the migration runner's ledger or lock, or a unique guard.
    pub internal: bool,
    /// Deleted by DynamoDB's time to live.
    pub expired: bool,
}

/// Why a stream record could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamError {
    /// `eventName` is none of `INSERT`, `MODIFY`, `REMOVE`.
    UnknownEvent {
        event_id: String,
        event_name: String,
    },
    /// The change needs an image (`"new"` or `"old"`) the stream's view type does not keep
    /// (`view`, as the record states it).
    MissingImage {
        event_id: String,
        key: String,
        kind: ChangeKind,
        image: &'static str,
        view: Option<String>,
    },
    /// An image that does not decode as its entity.
    InvalidItem { event_id: String, error: ItemError },
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::UnknownEvent {
                event_id,
                event_name,
            } => write!(f, "stream record {event_id}: unknown event `{event_name}`"),
            StreamError::MissingImage {
                event_id,
                key,
                kind,
                image,
                view,
            } => write!(
                f,
                "stream record {event_id} ({kind:?} of {key}) has no {image} image; the stream's view type ({}) does not keep it",
                view.as_deref().unwrap_or("not stated")
            ),
            StreamError::InvalidItem { event_id, error } => {
                write!(f, "stream record {event_id}: {error}")
            }
        }
    }
}

impl std::error::Error for StreamError {}

/// The parts of one record that decoding reads, with its images as SDK items.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub event_id: String,
    pub kind: ChangeKind,
    pub keys: Item,
    pub old: Option<Item>,
    pub new: Option<Item>,
    /// The stream's view type, as the record states it (`NEW_AND_OLD_IMAGES`).
    pub view: Option<String>,
    /// Deleted by DynamoDB's time to live: a `REMOVE` whose user identity is the
    /// service `dynamodb.amazonaws.com`.
    pub expired: bool,
}

/// An image as SDK attribute values; `None` when the record has none (absent or empty).
fn image(item: &serde_dynamo::Item) -> Option<Item> {
    let map: HashMap<String, AttributeValue> = item.clone().into();
    (!map.is_empty()).then_some(map)
}

impl Record {
    /// Reads a record as Lambda receives it.
    pub fn of(record: &EventRecord) -> Result<Record, StreamError> {
        let kind = match record.event_name.as_str() {
            "INSERT" => ChangeKind::Inserted,
            "MODIFY" => ChangeKind::Modified,
            "REMOVE" => ChangeKind::Removed,
            other => {
                return Err(StreamError::UnknownEvent {
                    event_id: record.event_id.clone(),
                    event_name: other.to_string(),
                });
            }
        };
        let by_ttl = record
            .user_identity
            .as_ref()
            .is_some_and(|u| u.type_ == "Service" && u.principal_id == "dynamodb.amazonaws.com");
        let change = &record.change;
        Ok(Record {
            event_id: record.event_id.clone(),
            kind,
            keys: image(&change.keys).unwrap_or_default(),
            old: image(&change.old_image),
            new: image(&change.new_image),
            view: change.stream_view_type.as_ref().map(|v| v.to_string()),
            expired: kind == ChangeKind::Removed && by_ttl,
        })
    }

    /// The entity-type value of the item, from whichever image the record has.
    pub fn entity_type(&self, design: &TableDesign) -> Option<&str> {
        [&self.new, &self.old]
            .into_iter()
            .flatten()
            .find_map(|i| crate::query::entity_type(design, i))
    }

    /// Whether the item is dyngen's own (its partition key starts with `#dyngen`, which
    /// no key template may).
    pub fn internal(&self, design: &TableDesign) -> bool {
        matches!(self.keys.get(design.partition_key), Some(AttributeValue::S(pk)) if pk.starts_with("#dyngen"))
    }

    /// Decodes the change as one of entity `E`'s.
    pub fn decode<E: Entity>(self) -> Result<Change<E>, StreamError> {
        let (event_id, kind, expired) = (self.event_id.clone(), self.kind, self.expired);
        let key = key_text(&self.keys, E::DESIGN.partition_key, E::DESIGN.sort_key);
        let missing = |image: &'static str, view: &Option<String>| StreamError::MissingImage {
            event_id: event_id.clone(),
            key: key.clone(),
            kind,
            image,
            view: view.clone(),
        };
        let read = |item: Item| {
            E::from_item_owned(item).map_err(|error| StreamError::InvalidItem {
                event_id: event_id.clone(),
                error,
            })
        };
        let Record { old, new, view, .. } = self;
        match kind {
            ChangeKind::Inserted => Ok(Change::Inserted {
                new: read(new.ok_or_else(|| missing("new", &view))?)?,
            }),
            ChangeKind::Modified => {
                let old = old.ok_or_else(|| missing("old", &view))?;
                let new = new.ok_or_else(|| missing("new", &view))?;
                Ok(Change::Modified {
                    old: read(old)?,
                    new: read(new)?,
                })
            }
            ChangeKind::Removed => Ok(Change::Removed {
                old: read(old.ok_or_else(|| missing("old", &view))?)?,
                expired,
            }),
        }
    }

    /// The change as one of an item that is no entity of the schema.
    pub fn other(self, design: &TableDesign) -> OtherChange {
        OtherChange {
            entity_type: self.entity_type(design).map(str::to_string),
            internal: self.internal(design),
            kind: self.kind,
            keys: self.keys,
            old: self.old,
            new: self.new,
            expired: self.expired,
        }
    }
}

/// The entity type that decides how a record decodes: `None` for dyngen's own items and
/// for items without one; an error when the record keeps no image (`KEYS_ONLY`), so that
/// nothing says which entity the key belongs to.
pub fn entity_of(record: &Record, design: &TableDesign) -> Result<Option<String>, StreamError> {
    if record.internal(design) {
        return Ok(None);
    }
    if record.old.is_none() && record.new.is_none() {
        return Err(StreamError::MissingImage {
            event_id: record.event_id.clone(),
            key: key_text(&record.keys, design.partition_key, design.sort_key),
            kind: record.kind,
            image: match record.kind {
                ChangeKind::Removed => "old",
                _ => "new",
            },
            view: record.view.clone(),
        });
    }
    Ok(record.entity_type(design).map(str::to_string))
}
