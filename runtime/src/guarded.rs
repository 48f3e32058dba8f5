//! The writes of entities with unique constraints: each is one transaction of the item's
//! own write and the guard moves it implies ([`crate::unique`]). A put, an update that
//! changes a constrained value, and a delete first read the item (strongly consistent) to
//! know which guards it holds, and the transaction requires those values to be unchanged;
//! when another writer changed them in between, the write reads again and retries.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use crate::entity::{CreatedAtKeys, Entity};
use crate::error::{Error, sdk};
use crate::expr::{Expr, describe_key};
use crate::item::Item;
use crate::table::Table;
use crate::unique::{
    GuardTable, Role, Unique, build_action, guard_moves, guard_text, release_if_stale,
    unchanged_since,
};
use crate::update::UpdateSpec;
use crate::value::Timestamp;
use crate::write::{as_created, conflict_from_old, item_of, stored_version, version_matches};

/// How often a guarded write reads again after a concurrent change before giving up.
const ATTEMPTS: usize = 4;

/// How a guarded transaction ended.
enum Outcome {
    Done,
    /// The item's own condition failed: it changed since it was read.
    ItemChanged,
    /// A value is held by another item.
    Taken(Unique),
    /// A released guard belongs to another item: the guards are not what the item says.
    Inconsistent,
}

/// Sends a guarded transaction. One cancelled only by a conflict with another transaction
/// on the same items (`TransactionConflict`) is sent again after a backoff, as batches
/// retry: its conditions are evaluated anew each time.
async fn transact(db: &Table, actions: Vec<(TransactWriteItem, Role)>) -> Result<Outcome, Error> {
    let (items, roles): (Vec<_>, Vec<_>) = actions.into_iter().unzip();
    let mut attempt = 0;
    loop {
        match send_once(db, items.clone(), &roles).await? {
            Sent::Outcome(o) => return Ok(o),
            Sent::Conflict(e) if attempt + 1 >= db.batch_retry().max_attempts => return Err(e),
            Sent::Conflict(_) => {
                attempt += 1;
                db.backoff(attempt).await;
            }
        }
    }
}

/// How one attempt of a guarded transaction ended.
enum Sent {
    Outcome(Outcome),
    /// Cancelled only because a concurrent transaction touched the same items.
    Conflict(Error),
}

async fn send_once(
    db: &Table,
    items: Vec<TransactWriteItem>,
    roles: &[Role],
) -> Result<Sent, Error> {
    use ::aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let res = db
        .client()
        .transact_write_items()
        .set_transact_items(Some(items))
        .set_return_consumed_capacity(crate::trace::capacity_mode())
        .send()
        .await;
    let e = match res {
        Ok(out) => {
            crate::trace::consumed(out.consumed_capacity());
            return Ok(Sent::Outcome(Outcome::Done));
        }
        Err(e) => e,
    };
    let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error()
    else {
        let what = format!("an item and its {} unique guard changes", roles.len() - 1);
        return Err(crate::deliver::transaction_failed(e, what));
    };
    let reasons = c.cancellation_reasons();
    let failed = reasons
        .iter()
        .zip(roles)
        .filter(|(r, _)| r.code() == Some("ConditionalCheckFailed"))
        .map(|(_, role)| *role);
    let mut outcome = None;
    for role in failed {
        // The item's own failure decides first: guards computed from a stale read may fail
        // for that reason alone.
        outcome = match (role, outcome) {
            (Role::Item, _) => Some(Outcome::ItemChanged),
            (_, Some(Outcome::ItemChanged)) => Some(Outcome::ItemChanged),
            (Role::Claim(u), _) => Some(Outcome::Taken(u)),
            (Role::Release, None) => Some(Outcome::Inconsistent),
            (Role::Release, o) => o,
        };
    }
    if let Some(o) = outcome {
        return Ok(Sent::Outcome(o));
    }
    let conflict = reasons
        .iter()
        .any(|r| r.code() == Some("TransactionConflict"));
    // Cancelled for another reason (throttling, a validation error): reported as it is.
    if conflict {
        Ok(Sent::Conflict(sdk(e)))
    } else {
        Err(sdk(e))
    }
}

fn taken<E: Entity>(u: Unique) -> Error {
    Error::UniqueViolation {
        entity: E::ENTITY_TYPE,
        constraint: u.name,
        attributes: u.attributes,
    }
}

fn condition_failed<E: Entity>(key: &Item) -> Error {
    Error::ConditionFailed {
        entity: E::ENTITY_TYPE,
        key: describe_key(E::DESIGN, key),
    }
}

/// Reads the stored item, strongly consistent.
async fn read(db: &Table, key: &Item) -> Result<Option<Item>, Error> {
    let out = db
        .client()
        .get_item()
        .table_name(db.table_name())
        .set_key(Some(key.clone()))
        .consistent_read(true)
        .set_return_consumed_capacity(crate::trace::capacity_mode())
        .send()
        .await
        .map_err(sdk)?;
    crate::trace::consumed(out.consumed_capacity());
    Ok(out.item)
}

fn put_action(db: &Table, item: Item, cond: String, expr: Expr) -> TransactWriteItem {
    let (names, values) = expr.into_maps();
    let put = Put::builder()
        .table_name(db.table_name())
        .set_item(Some(item))
        .condition_expression(cond)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .build();
    build_action(put.map(|p| TransactWriteItem::builder().put(p).build()))
}

/// The item's own write first, then the guard moves from `old` to `new` values (the
/// owner is the item's key, the same in both).
fn with_guards<E: Entity>(
    db: &Table,
    own: TransactWriteItem,
    old: Option<&Item>,
    new: Option<&Item>,
) -> Vec<(TransactWriteItem, Role)> {
    let gt = GuardTable::of(E::DESIGN, db.table_name());
    let owner = new.or(old).map(|i| gt.owner(i)).unwrap_or_default();
    let mut actions = vec![(own, Role::Item)];
    actions.extend(guard_moves(
        &gt,
        E::ENTITY_TYPE,
        E::UNIQUE,
        &owner,
        old,
        new,
    ));
    actions
}

/// Creates an item and claims its guards; [`Error::AlreadyExists`] or
/// [`Error::UniqueViolation`] otherwise.
pub(crate) async fn create<E: Entity>(db: &Table, value: &E) -> Result<E, Error> {
    let (stored, item) = as_created(value)?;
    for _ in 0..ATTEMPTS {
        let mut expr = Expr::default();
        let cond = format!(
            "attribute_not_exists({})",
            expr.name(E::DESIGN.partition_key)
        );
        let own = put_action(db, item.clone(), cond, expr);
        let actions = with_guards::<E>(db, own, None, Some(&item));
        match transact(db, actions).await? {
            Outcome::Done => return Ok(stored),
            Outcome::ItemChanged => {
                return Err(Error::AlreadyExists {
                    entity: E::ENTITY_TYPE,
                    key: describe_key(E::DESIGN, &stored.key_item()),
                });
            }
            Outcome::Taken(u) => retry_if_stale::<E>(db, u, &item).await?,
            Outcome::Inconsistent => return Err(condition_failed::<E>(&stored.key_item())),
        }
    }
    Err(condition_failed::<E>(&stored.key_item()))
}

/// After a claim failed: releases the guard if its owner no longer holds the value (so the
/// write is tried again), else the value is taken: [`Error::UniqueViolation`].
async fn retry_if_stale<E: Entity>(db: &Table, u: Unique, item: &Item) -> Result<(), Error> {
    let gt = GuardTable::of(E::DESIGN, db.table_name());
    let Some(text) = guard_text(E::ENTITY_TYPE, u.name, u.attributes, item) else {
        return Err(taken::<E>(u));
    };
    let stale = release_if_stale(
        db.client(),
        &gt,
        E::ENTITY_TYPE,
        u.name,
        u.attributes,
        &text,
    )
    .await
    .map_err(|e| Error::Sdk(Box::new(e)))?;
    if stale { Ok(()) } else { Err(taken::<E>(u)) }
}

/// Creates or replaces an item, as [`crate::Repo::put`] does, moving its guards.
pub(crate) async fn put<E: Entity>(db: &Table, value: &E) -> Result<E, Error> {
    let expected = value.version();
    let key = value.key_item();
    for _ in 0..ATTEMPTS {
        let old = read(db, &key).await?;
        if let (Some(old), Some(ver), Some(e)) = (&old, E::VERSION, expected)
            && stored_version(old, ver) != Some(e)
        {
            return Err(Error::VersionConflict {
                entity: E::ENTITY_TYPE,
                key: describe_key(E::DESIGN, &key),
                expected: e,
                actual: stored_version(old, ver),
            });
        }
        let stored = stamped_for_put(value, old.as_ref());
        let item = item_of(&stored)?;
        let mut expr = Expr::default();
        let cond = same_as_read::<E>(&mut expr, old.as_ref());
        let own = put_action(db, item.clone(), cond, expr);
        let actions = with_guards::<E>(db, own, old.as_ref(), Some(&item));
        match transact(db, actions).await? {
            Outcome::Done => return Ok(stored),
            Outcome::ItemChanged => continue,
            Outcome::Taken(u) => retry_if_stale::<E>(db, u, &item).await?,
            Outcome::Inconsistent => return Err(condition_failed::<E>(&key)),
        }
    }
    Err(condition_failed::<E>(&key))
}

/// The value a put stores: stamped now, the stored creation time kept (unless it is part
/// of the primary key, where the value's own names the item), the version bumped.
fn stamped_for_put<E: Entity>(value: &E, old: Option<&Item>) -> E {
    let mut stored = value.clone();
    let next = value.version().map(|v| v + 1);
    let now = Timestamp::now();
    let kept = old
        .zip(E::CREATED_AT)
        .and_then(|(o, c)| o.get(c))
        .and_then(|av| E::TIMESTAMPS_STORED_AS.from_av(av).ok());
    match (E::CREATED_AT_KEYS, old) {
        (CreatedAtKeys::Primary, _) => stored.stamp(now, false, next),
        (_, None) => stored.stamp(now, true, next),
        (_, Some(_)) => {
            stored.stamp(now, false, next);
            stored.set_created_at(kept.unwrap_or(now));
        }
    }
    stored
}

/// The condition that the item is as it was read: absent, or present with the same
/// constrained values and version.
fn same_as_read<E: Entity>(expr: &mut Expr, old: Option<&Item>) -> String {
    let pk = expr.name(E::DESIGN.partition_key);
    let Some(old) = old else {
        return format!("attribute_not_exists({pk})");
    };
    let mut parts = vec![format!("attribute_exists({pk})")];
    parts.extend(unchanged_since(expr, E::UNIQUE, old));
    if let Some(ver) = E::VERSION
        && let Some(v) = stored_version(old, ver)
    {
        parts.push(version_matches(expr, ver, v));
    }
    parts.join(" AND ")
}

/// Deletes an item and releases its guards; returns it as it was, if it existed.
pub(crate) async fn delete<E: Entity>(db: &Table, key: Item) -> Result<Option<E>, Error> {
    for _ in 0..ATTEMPTS {
        let Some(old) = read(db, &key).await? else {
            return Ok(None);
        };
        let mut expr = Expr::default();
        let cond = same_as_read::<E>(&mut expr, Some(&old));
        let (names, values) = expr.into_maps();
        let del = Delete::builder()
            .table_name(db.table_name())
            .set_key(Some(key.clone()))
            .condition_expression(cond)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build();
        let del = build_action(del.map(|d| TransactWriteItem::builder().delete(d).build()));
        let actions = with_guards::<E>(db, del, Some(&old), None);
        match transact(db, actions).await? {
            Outcome::Done => return Ok(Some(E::from_item_owned(old)?)),
            Outcome::ItemChanged => continue,
            // A delete claims nothing.
            Outcome::Taken(u) => return Err(taken::<E>(u)),
            Outcome::Inconsistent => return Err(condition_failed::<E>(&key)),
        }
    }
    Err(condition_failed::<E>(&key))
}

/// Applies an update that changes constrained values, moving their guards, and returns the
/// item as stored afterwards (read again: a transaction returns no item).
pub(crate) async fn update<E: Entity>(
    db: &Table,
    key: Item,
    spec: &UpdateSpec,
    changes: Vec<(&'static str, Option<AttributeValue>)>,
) -> Result<E, Error> {
    for _ in 0..ATTEMPTS {
        let old = read(db, &key).await?;
        let Some(old) = old else {
            return Err(Error::NotFound {
                entity: E::ENTITY_TYPE,
                key: describe_key(E::DESIGN, &key),
            });
        };
        let mut expr = Expr::default();
        let extra = unchanged_since(&mut expr, E::UNIQUE, &old);
        let (update, cond) = spec.expression_with::<E>(&mut expr, &extra)?;
        let mut new = old.clone();
        for (name, value) in &changes {
            match value {
                Some(v) => new.insert(name.to_string(), v.clone()),
                None => new.remove(*name),
            };
        }
        let (names, values) = expr.into_maps();
        let up = Update::builder()
            .table_name(db.table_name())
            .set_key(Some(key.clone()))
            .update_expression(update)
            .condition_expression(cond)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build();
        let up = build_action(up.map(|u| TransactWriteItem::builder().update(u).build()));
        let actions = with_guards::<E>(db, up, Some(&old), Some(&new));
        match transact(db, actions).await? {
            Outcome::Done => {
                return match read(db, &key).await? {
                    Some(item) => Ok(E::from_item_owned(item)?),
                    None => Err(Error::NotFound {
                        entity: E::ENTITY_TYPE,
                        key: describe_key(E::DESIGN, &key),
                    }),
                };
            }
            Outcome::ItemChanged => explain_change::<E>(db, &key, spec).await?,
            Outcome::Taken(u) => retry_if_stale::<E>(db, u, &new).await?,
            Outcome::Inconsistent => return Err(condition_failed::<E>(&key)),
        }
    }
    Err(condition_failed::<E>(&key))
}

/// Why an update's condition failed, from the item as it is now: gone, another version, a
/// key input that differs (the error); or only a constrained value changed since it was
/// read (`Ok`: read again and retry).
async fn explain_change<E: Entity>(db: &Table, key: &Item, spec: &UpdateSpec) -> Result<(), Error> {
    let now = read(db, key).await?;
    let why = conflict_from_old::<E>(
        now.as_ref(),
        key,
        spec.expected_version(),
        spec.guarded(),
        true,
    );
    match why {
        None => Ok(()),
        Some(e) => Err(e),
    }
}
