//! Entities and their repositories: the traits every generated entity implements, and
//! the writes and reads that keep maintained attributes (timestamps, version) true.

use std::marker::PhantomData;

use aws_sdk_dynamodb::types::ReturnValue;

use crate::batch::batch_get;
use crate::deliver::write_failed;
use crate::deliver::{Call, deliver};
use crate::entity::{Entity, key_item};
use crate::error::{Error, sdk};
use crate::expr::describe_key;
use crate::item::Item;
use crate::query::decode_entity;
use crate::save::{create, put};
use crate::table::Table;
use crate::trace::{OpInfo, traced};

/// Create, read, update and delete items of one entity; from `Db::<entity>()`.
pub struct Repo<'a, E> {
    db: &'a Table,
    entity: PhantomData<fn() -> E>,
}

impl<E> Clone for Repo<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Repo<'_, E> {}

impl<E: Entity> std::fmt::Debug for Repo<'_, E> {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.debug_struct("Repo")
            .field("table", &self.db.table_name())
            .field("entity", &E::ENTITY_TYPE)
            .finish()
    }
}

impl<'a, E: Entity> Repo<'a, E> {
    /// The repository of `E` on this table.
    pub fn new(db: &'a Table) -> Self {
        Repo {
            db,
            entity: PhantomData,
        }
    }

    /// The span description of one of this repository's operations.
    fn op(&self, op: &'static str) -> OpInfo<'a> {
        OpInfo::new(op, self.db.table_name(), E::ENTITY_TYPE)
    }

    /// The table this repository writes to.
    pub fn table(&self) -> &'a Table {
        self.db
    }

    /// Starts a typed update of an existing item; [`Error::NotFound`] if there is none.
    pub fn update(&self, key: &E::Key) -> E::Update<'a> {
        E::update_builder(self.db, key.clone())
    }

    /// Writes a new item; [`Error::AlreadyExists`] if one has this key. Timestamps are
    /// set and a version attribute starts at 1.
    pub async fn create(&self, value: &E) -> Result<E, Error> {
        traced(self.op("create"), create(self.db, value)).await
    }

    /// Creates or replaces the item with this key, and returns it as stored. The
    /// creation time of an existing item is kept; with a version attribute, the value's
    /// version must match the stored one ([`Error::VersionConflict`] otherwise).
    pub async fn put(&self, value: &E) -> Result<E, Error> {
        traced(self.op("put"), put(self.db, value)).await
    }

    /// Reads an item (eventually consistent). An item whose time to live has passed reads
    /// as absent: DynamoDB deletes it only within days.
    pub async fn get(&self, key: &E::Key) -> Result<Option<E>, Error> {
        traced(self.op("get"), get(self.db, key_item(key)?, false)).await
    }

    /// Reads an item with a strongly consistent read.
    pub async fn get_consistent(&self, key: &E::Key) -> Result<Option<E>, Error> {
        traced(self.op("get"), get(self.db, key_item(key)?, true)).await
    }

    /// Deletes an item; returns it as it was, if it existed.
    pub async fn delete(&self, key: &E::Key) -> Result<Option<E>, Error> {
        traced(self.op("delete"), delete(self.db, key_item(key)?)).await
    }

    /// Reads many items by key (100 per request, unprocessed keys retried); absent keys
    /// and items whose time to live has passed are skipped, and the order is not
    /// preserved.
    pub async fn batch_get(&self, keys: &[E::Key]) -> Result<Vec<E>, Error> {
        let keys = keys.iter().map(key_item).collect::<Result<_, _>>()?;
        let items = traced(self.op("batch_get"), batch_get(self.db, keys, false)).await?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            // An item of another entity at this key (another writer's) is absent, as
            // patterns skip it.
            if let Some(value) = decode_entity::<E>(item)?.filter(|v| !expired(v)) {
                out.push(value);
            }
        }
        Ok(out)
    }
}

/// Whether a read value's time to live has passed (the clock is read only for a value that
/// has one).
fn expired<E: Entity>(value: &E) -> bool {
    value
        .expires_at()
        .is_some_and(|t| crate::entity::ttl_passed(Some(t), crate::value::Timestamp::now()))
}

/// Reads one item by primary key.
pub async fn get<E: Entity>(db: &Table, key: Item, consistent: bool) -> Result<Option<E>, Error> {
    let out = db
        .client()
        .get_item()
        .table_name(db.table_name())
        .set_key(Some(key))
        .consistent_read(consistent)
        .set_return_consumed_capacity(crate::trace::capacity_mode())
        .send()
        .await
        .map_err(sdk)?;
    crate::trace::consumed(out.consumed_capacity());
    // An item of another entity at this key (another writer's) is absent, as patterns
    // skip it.
    match out.item {
        Some(item) => Ok(decode_entity::<E>(item)?.filter(|v| !expired(v))),
        None => Ok(None),
    }
}

/// Deletes one item; returns it as it was, if it existed. If an attempt's answer was lost
/// and the retry finds no item, the delete may have removed it or found it gone:
/// [`Error::Ambiguous`] (safe to retry; the item is absent either way at that moment).
pub async fn delete<E: Entity>(db: &Table, key: Item) -> Result<Option<E>, Error> {
    if !E::UNIQUE.is_empty() {
        return crate::guarded::delete(db, key).await;
    }
    let mut call = Call::new();
    // A delete carries no token (it leaves no item to hold one), and sending it again
    // cannot remove more than the item: every retry is the same request.
    let res = deliver(db, &mut call, false, |client, _| {
        client
            .delete_item()
            .table_name(db.table_name())
            .set_key(Some(key.clone()))
            .return_values(ReturnValue::AllOld)
            .set_return_consumed_capacity(crate::trace::capacity_mode())
            .send()
    })
    .await;
    let desc = || describe_key(E::DESIGN, &key);
    let out = match res {
        Ok(out) => out,
        Err(e) => {
            return Err(write_failed(
                &mut call,
                e,
                E::ENTITY_TYPE,
                desc,
                "delete",
                true,
            ));
        }
    };
    crate::trace::consumed(out.consumed_capacity());
    match out.attributes {
        Some(item) => Ok(Some(E::from_item_owned(item)?)),
        None if call.maybe_applied() => {
            Err(call.ambiguous(E::ENTITY_TYPE, desc(), "delete", true, true))
        }
        None => Ok(None),
    }
}
