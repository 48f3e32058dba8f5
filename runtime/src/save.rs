//! The entry points of every write of one item: an entity with unique constraints is
//! written through `guarded` (the item and its guard items in one transaction), any other
//! with a single request (`write`, `update`).

use crate::entity::Entity;
use crate::error::Error;
use crate::item::Item;
use crate::table::Table;
use crate::update::UpdateSpec;

/// Creates an item; fails with [`Error::AlreadyExists`] if its key is taken.
pub async fn create<E: Entity>(db: &Table, value: &E) -> Result<E, Error> {
    if E::UNIQUE.is_empty() {
        crate::write::create_plain(db, value).await
    } else {
        crate::guarded::create(db, value).await
    }
}

/// Creates or replaces an item and returns it as stored. `createdAt` is the stored one for
/// an existing item and the time of the write for a new one (unless it is part of the
/// primary key, where the value's own names the item); with a version attribute, the
/// stored version must equal the value's (a missing one counts as 0).
pub async fn put<E: Entity>(db: &Table, value: &E) -> Result<E, Error> {
    if E::UNIQUE.is_empty() {
        crate::write::put_plain(db, value).await
    } else {
        crate::guarded::put(db, value).await
    }
}

/// Applies an update to an existing item and returns the item as stored afterwards.
pub async fn update<E: Entity>(db: &Table, key: Item, spec: &UpdateSpec) -> Result<E, Error> {
    let op = crate::trace::OpInfo::new("update", db.table_name(), E::ENTITY_TYPE);
    crate::trace::traced(op, async {
        let changes = if E::UNIQUE.is_empty() {
            Vec::new()
        } else {
            spec.unique_changes::<E>()?
        };
        if changes.is_empty() {
            crate::update::update_plain(db, key, spec).await
        } else {
            crate::guarded::update(db, key, spec, changes).await
        }
    })
    .await
}
