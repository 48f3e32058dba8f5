//! The traits every generated entity and key implements: what the runtime needs to store,
//! read and update an entity without knowing its schema.

use crate::item::{Item, ItemError};
use crate::table::{Table, TableDesign};
use crate::value::Timestamp;

/// An entity the runtime can store; implemented by every generated entity.
pub trait Entity: Sized + Clone {
    /// The value of the entity-type attribute on this entity's items.
    const ENTITY_TYPE: &'static str;
    /// The design of the table the entity lives in.
    const DESIGN: &'static TableDesign;
    /// The entity's primary key type.
    type Key: EntityKey + Clone;
    /// The entity's typed update builder.
    type Update<'a>;
    /// Attributes an upsert removes when the value has none (optional attributes and
    /// sparse index keys).
    const REMOVABLE: &'static [&'static str];
    /// The index key attributes this entity's items carry (not the table's own key), one
    /// slice per index. An index's attributes come and go together: an item holds all of
    /// them (it is in the index) or none.
    const INDEX_KEYS: &'static [&'static [&'static str]];
    /// Which of the entity's keys are built from its `createdAt`.
    const CREATED_AT_KEYS: CreatedAtKeys;
    /// The attribute stamped when an item is created, if any.
    const CREATED_AT: Option<&'static str>;
    /// The attribute stamped on every write, if any.
    const UPDATED_AT: Option<&'static str>;
    /// The optimistic-locking version attribute, if any.
    /// How the creation and update times are stored (`timestamps: {stored_as: ..}`).
    const TIMESTAMPS_STORED_AS: crate::TimestampForm = crate::TimestampForm::Rfc3339;
    const VERSION: Option<&'static str>;
    /// The entity's unique constraints: their guard items are kept in the same transaction
    /// as every write ([`crate::unique`]).
    const UNIQUE: &'static [crate::unique::Unique] = &[];
    /// The item: attributes, every derived key attribute and the entity type.
    fn to_item(&self) -> Item;
    /// Reads an item, copying its values.
    fn from_item(item: &Item) -> Result<Self, ItemError>;
    /// Reads an item, moving its values out.
    fn from_item_owned(item: Item) -> Result<Self, ItemError>;
    /// The primary key attributes.
    fn key_item(&self) -> Item;
    /// The version attribute's value, if the entity has one.
    fn version(&self) -> Option<i64>;
    /// The creation time, if the entity keeps one.
    fn created_at(&self) -> Option<Timestamp>;
    /// Replaces the creation time (a no-op for entities without one).
    fn set_created_at(&mut self, at: Timestamp);
    /// Sets the maintained attributes before a write.
    fn stamp(&mut self, now: Timestamp, creating: bool, version: Option<i64>);
    /// Starts the typed update of the item with this key.
    fn update_builder(table: &Table, key: Self::Key) -> Self::Update<'_>;
    /// The item's time to live, if the entity has one and it is set: past it
    /// ([`ttl_passed`]), DynamoDB deletes the item within days, and reads skip it.
    fn expires_at(&self) -> Option<Timestamp> {
        None
    }
    /// Checks the values keys are built from against what a key can hold (a zero-padded
    /// number's width); `Err((attribute, why))` makes a write [`crate::Error::InvalidKey`]
    /// before the request.
    fn check_key_inputs(&self) -> Result<(), (&'static str, String)> {
        Ok(())
    }
    /// Checks values against the table's own rules (`safe_integers`); `Err((attribute,
    /// why))` makes a write [`crate::Error::InvalidValue`] before the request.
    fn check_values(&self) -> Result<(), (&'static str, String)> {
        Ok(())
    }
}

/// Whether a time to live has passed at `now`: DynamoDB compares epoch seconds, and an
/// item whose TTL is not after now is expired.
pub fn ttl_passed(ttl: Option<Timestamp>, now: Timestamp) -> bool {
    ttl.is_some_and(|t| t.unix_millis().div_euclid(1000) <= now.unix_millis().div_euclid(1000))
}

/// Where an entity's key templates use its creation time; decides how a put keeps the
/// stored `createdAt` and the keys built from it consistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreatedAtKeys {
    /// No key uses it (or the entity keeps no creation time).
    None,
    /// Only index keys use it.
    Index,
    /// The primary key uses it: the value's own creation time names the item.
    Primary,
}

/// A primary key of some entity.
pub trait EntityKey {
    /// The value of the entity-type attribute on the entity's items.
    const ENTITY_TYPE: &'static str;
    /// Whether the entity has unique constraints (its deletes must release guards).
    const GUARDED: bool = false;
    /// The key attributes as stored.
    fn to_key_item(&self) -> Item;
    /// Checks the key's values against what the key can hold (a raw key refuses the
    /// delimiter); `Err((attribute, why))` makes the request [`crate::Error::InvalidKey`]
    /// before it is sent.
    fn check_key(&self) -> Result<(), (&'static str, String)> {
        Ok(())
    }
}

/// The key attributes of `key`, or [`crate::Error::InvalidKey`] when a value cannot stand
/// in it: never a request for a different key than the one asked for.
pub fn key_item<K: EntityKey + ?Sized>(key: &K) -> Result<Item, crate::Error> {
    key.check_key()
        .map_err(|(attribute, reason)| crate::Error::InvalidKey {
            entity: K::ENTITY_TYPE,
            attribute,
            reason,
        })?;
    Ok(key.to_key_item())
}
