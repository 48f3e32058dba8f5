//! The write model every path shares: the item a value becomes (with empty index keys
//! dropped and empty primary keys refused), the version condition, how `createdAt` is
//! kept, and the mapping of failed conditions to typed errors.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use crate::WRITE_TOKEN_ATTRIBUTE;
use crate::deliver::{
    Call, Resend, Verdict, condition as condition_for, deliver, with_token, write_failed,
};
use crate::entity::{CreatedAtKeys, Entity};
use crate::error::{Error, sdk};
use crate::expr::{Expr, describe_key};
use crate::item::Item;
use crate::table::Table;
use crate::value::Timestamp;

/// The condition "the stored version is `expected`"; a missing version attribute counts as
/// version 0, as it reads back.
pub(crate) fn version_matches(expr: &mut Expr, attr: &str, expected: i64) -> String {
    let n = expr.name(attr);
    let v = expr.value(AttributeValue::N(expected.to_string()));
    if expected == 0 {
        format!("(attribute_not_exists({n}) OR {n} = {v})")
    } else {
        format!("{n} = {v}")
    }
}

/// The item `value` is stored as: an index key attribute that renders empty is left out
/// (the item is not in that sparse index; DynamoDB rejects empty key strings), and an
/// empty primary key is [`Error::InvalidKey`] before any request.
pub(crate) fn item_of<E: Entity>(value: &E) -> Result<Item, Error> {
    value
        .check_key_inputs()
        .map_err(|(attribute, reason)| Error::InvalidKey {
            entity: E::ENTITY_TYPE,
            attribute,
            reason,
        })?;
    value
        .check_values()
        .map_err(|(attribute, reason)| Error::InvalidValue {
            entity: E::ENTITY_TYPE,
            attribute,
            reason,
        })?;
    let item = stored_item(value);
    for key in [E::DESIGN.partition_key, E::DESIGN.sort_key] {
        if matches!(item.get(key), Some(AttributeValue::S(s)) if s.is_empty()) {
            return Err(Error::InvalidKey {
                entity: E::ENTITY_TYPE,
                attribute: key,
                reason: "a key attribute cannot be an empty string".into(),
            });
        }
    }
    Ok(item)
}

/// The item of a value [`item_of`] accepted, built again for a retry: the same item,
/// without the checks (they passed). An index key attribute that renders empty takes the
/// rest of that index's key with it: the item is out of the index, not half in it.
fn stored_item<E: Entity>(value: &E) -> Item {
    let mut item = value.to_item();
    for index in E::INDEX_KEYS {
        let out = index.iter().any(|k| match item.get(*k) {
            None => true,
            Some(AttributeValue::S(s)) => s.is_empty(),
            Some(_) => false,
        });
        if out {
            for k in *index {
                item.remove(*k);
            }
        }
    }
    item
}

/// A value as a create writes it (timestamps now, version 1), and its item: what `create`,
/// `transaction().create` and a batch put store.
pub(crate) fn as_created<E: Entity>(value: &E) -> Result<(E, Item), Error> {
    let mut stored = value.clone();
    stored.stamp(Timestamp::now(), true, E::VERSION.map(|_| 1));
    let item = item_of(&stored)?;
    Ok((stored, item))
}

/// The condition of a create, "the key is not taken", with its one attribute name.
pub(crate) fn key_not_taken<E: Entity>()
-> (String, Option<::std::collections::HashMap<String, String>>) {
    let mut expr = Expr::default();
    let cond = format!(
        "attribute_not_exists({})",
        expr.name(E::DESIGN.partition_key)
    );
    (cond, expr.into_maps().0)
}

/// Creates an item of an entity without unique constraints; fails with
/// [`Error::AlreadyExists`] if its key is taken. A retry after a lost answer that finds
/// this call's own item reports the create done.
pub(crate) async fn create_plain<E: Entity>(db: &Table, value: &E) -> Result<E, Error> {
    let (stored, item) = as_created(value)?;
    let mut call = Call::new();
    let token = call.token().clone();
    let mut parts = Parts::new(item, || stored_item(&stored));
    let res = deliver(db, &mut call, false, |client, how| {
        // The key condition alone keeps a retry from applying twice; after a lost answer
        // the item comes back with a failure, to be recognised.
        let lost = how != Resend::AsIs;
        let (cond, names) = key_not_taken::<E>();
        client
            .put_item()
            .table_name(db.table_name())
            .set_item(Some(with_token(parts.next(), &token)))
            .condition_expression(cond)
            .set_expression_attribute_names(names)
            .set_return_values_on_condition_check_failure(
                lost.then_some(ReturnValuesOnConditionCheckFailure::AllOld),
            )
            .set_return_consumed_capacity(crate::trace::capacity_mode())
            .send()
    })
    .await;
    let key = || describe_key(E::DESIGN, &stored.key_item());
    match res {
        Ok(out) => {
            crate::trace::consumed(out.consumed_capacity());
            Ok(stored)
        }
        Err(e) => {
            use ::aws_sdk_dynamodb::operation::put_item::PutItemError;
            match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(c)) => {
                    match call.verdict(c.item()) {
                        Verdict::Own => Ok(stored),
                        Verdict::Unknown => {
                            Err(call.ambiguous(E::ENTITY_TYPE, key(), "create", true, true))
                        }
                        // Described only when needed: the success path formats nothing.
                        Verdict::Refused => Err(Error::AlreadyExists {
                            entity: E::ENTITY_TYPE,
                            key: key(),
                        }),
                    }
                }
                _ => Err(write_failed(
                    &mut call,
                    e,
                    E::ENTITY_TYPE,
                    key,
                    "create",
                    true,
                )),
            }
        }
    }
}

/// Which items a put may land on, and what it does with `createdAt`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PutCase {
    /// New or existing: `createdAt` is kept if stored, else set to the stamped time.
    /// For entities whose keys do not use `createdAt`.
    KeepStored,
    /// New or existing, with the caller's `createdAt` written as given (it is part of the
    /// primary key, so it names the item).
    AsGiven,
    /// An existing item whose `createdAt` is the value's.
    ExistingWithCreated,
    /// A new item, stamped now.
    New,
    /// New (written with the caller's `createdAt`) or existing with the caller's
    /// `createdAt`: one request, for transactions.
    NewOrSameCreated,
}

/// One put as an UpdateItem: the key, the expressions, and the value as it is written.
pub(crate) struct PutParts<E> {
    pub key: Item,
    pub update: String,
    pub condition: Option<String>,
    pub expr: Expr,
    pub stored: E,
}

/// Builds the UpdateItem of a put (`value` already stamped, with the version it had).
pub(crate) fn put_parts<E: Entity>(
    value: &E,
    expected: Option<i64>,
    case: PutCase,
) -> Result<PutParts<E>, Error> {
    Ok(put_parts_of(item_of(value)?, value, expected, case))
}

/// [`put_parts`] from the value's checked item.
fn put_parts_of<E: Entity>(
    mut item: Item,
    value: &E,
    expected: Option<i64>,
    case: PutCase,
) -> PutParts<E> {
    let key: Item = [E::DESIGN.partition_key, E::DESIGN.sort_key]
        .iter()
        .filter_map(|k| item.remove_entry(*k))
        .collect();
    let mut absent: Vec<&str> = E::REMOVABLE
        .iter()
        .chain(E::INDEX_KEYS.iter().flat_map(|index| index.iter()))
        .copied()
        .filter(|a| !item.contains_key(*a))
        .collect();
    let mut expr = Expr::default();
    let mut sets = Vec::with_capacity(item.len());
    // Sorted, so the request is the same for the same value; values are moved, not copied.
    let mut attrs: Vec<(String, AttributeValue)> = item.into_iter().collect();
    attrs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in attrs {
        let n = expr.name(&name);
        let v = expr.value(value);
        let keep = Some(name.as_str()) == E::CREATED_AT && matches!(case, PutCase::KeepStored);
        if keep {
            sets.push(format!("{n} = if_not_exists({n}, {v})"));
        } else {
            sets.push(format!("{n} = {v}"));
        }
    }
    absent.sort_unstable();
    absent.dedup();
    let removes: Vec<String> = absent.into_iter().map(|a| expr.name(a)).collect();
    let mut update = format!("SET {}", sets.join(", "));
    if !removes.is_empty() {
        update.push_str(&format!(" REMOVE {}", removes.join(", ")));
    }
    let condition = put_condition::<E>(&mut expr, value, expected, case);
    PutParts {
        key,
        update,
        condition,
        expr,
        stored: value.clone(),
    }
}

fn put_condition<E: Entity>(
    expr: &mut Expr,
    value: &E,
    expected: Option<i64>,
    case: PutCase,
) -> Option<String> {
    // Names and values enter `expr` only when used: DynamoDB rejects unused ones.
    let pk = |expr: &mut Expr| expr.name(E::DESIGN.partition_key);
    let version = |expr: &mut Expr| match (E::VERSION, expected) {
        (Some(ver), Some(e)) => Some(version_matches(expr, ver, e)),
        _ => None,
    };
    let created = |expr: &mut Expr| {
        let (attr, c) = E::CREATED_AT.zip(value.created_at())?;
        let n = expr.name(attr);
        let v = expr.value(E::TIMESTAMPS_STORED_AS.to_av(&c));
        Some(format!("{n} = {v}"))
    };
    let all = |parts: [Option<String>; 2]| {
        let parts: Vec<String> = parts.into_iter().flatten().collect();
        (!parts.is_empty()).then(|| parts.join(" AND "))
    };
    match case {
        PutCase::KeepStored | PutCase::AsGiven => {
            let v = version(expr)?;
            Some(format!("attribute_not_exists({}) OR {v}", pk(expr)))
        }
        PutCase::New => Some(format!("attribute_not_exists({})", pk(expr))),
        PutCase::ExistingWithCreated => {
            let exists = format!("attribute_exists({})", pk(expr));
            let rest = all([created(expr), version(expr)]);
            Some(rest.map_or(exists.clone(), |r| format!("{exists} AND {r}")))
        }
        PutCase::NewOrSameCreated => {
            let rest = all([created(expr), version(expr)])?;
            Some(format!("attribute_not_exists({}) OR ({rest})", pk(expr)))
        }
    }
}

/// Creates or replaces an item and returns it as stored. `createdAt` is the stored one for
/// an existing item and the time of the write for a new one (unless it is part of the
/// primary key, where the value's own names the item); with a version attribute, the
/// stored version must equal the value's (a missing one counts as 0). For an entity
/// without unique constraints.
pub(crate) async fn put_plain<E: Entity>(db: &Table, value: &E) -> Result<E, Error> {
    let expected = value.version();
    let now = Timestamp::now();
    let mut stamped = value.clone();
    match E::CREATED_AT_KEYS {
        // Nothing stored needs keeping: the whole item is the value's, one PutItem.
        CreatedAtKeys::None if E::CREATED_AT.is_none() => {
            stamped.stamp(now, true, expected.map(|v| v + 1));
            put_whole(db, stamped, expected).await
        }
        CreatedAtKeys::None => {
            stamped.stamp(now, true, expected.map(|v| v + 1));
            put_once(db, &stamped, expected, PutCase::KeepStored).await
        }
        CreatedAtKeys::Primary => {
            stamped.stamp(now, false, expected.map(|v| v + 1));
            put_whole(db, stamped, expected).await
        }
        CreatedAtKeys::Index => put_keeping_created(db, stamped, expected, now).await,
    }
}

/// A put that replaces the whole item with the value (nothing stored is kept), as one
/// PutItem that returns nothing: what is stored is exactly the value.
async fn put_whole<E: Entity>(db: &Table, value: E, expected: Option<i64>) -> Result<E, Error> {
    let item = item_of(&value)?;
    let mut call = Call::new();
    let token = call.token().clone();
    let mut parts = Parts::new(item, || stored_item(&value));
    let res = deliver(db, &mut call, false, |client, how| {
        let mut expr = Expr::default();
        let condition = match (E::VERSION, expected) {
            (Some(ver), Some(e)) => {
                let pk = expr.name(E::DESIGN.partition_key);
                let v = version_matches(&mut expr, ver, e);
                Some(format!("attribute_not_exists({pk}) OR {v}"))
            }
            _ => None,
        };
        let condition = condition_for(&token, &mut expr, condition, how);
        let (names, values) = expr.into_maps();
        client
            .put_item()
            .table_name(db.table_name())
            .set_item(Some(with_token(parts.next(), &token)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .set_return_consumed_capacity(crate::trace::capacity_mode())
            .send()
    })
    .await;
    match res {
        Ok(out) => {
            crate::trace::consumed(out.consumed_capacity());
            Ok(value)
        }
        Err(e) => {
            use ::aws_sdk_dynamodb::operation::put_item::PutItemError;
            let key = || describe_key(E::DESIGN, &value.key_item());
            let Some(PutItemError::ConditionalCheckFailedException(c)) = e.as_service_error()
            else {
                return Err(write_failed(&mut call, e, E::ENTITY_TYPE, key, "put", true));
            };
            match call.verdict(c.item()) {
                Verdict::Own => Ok(value),
                Verdict::Unknown => Err(call.ambiguous(E::ENTITY_TYPE, key(), "put", true, true)),
                Verdict::Refused => Err(put_refused(c.item(), expected, &value)),
            }
        }
    }
}

/// Why a put's condition failed, from the item as it was: a version conflict, or another
/// condition.
fn put_refused<E: Entity>(old: Option<&Item>, expected: Option<i64>, value: &E) -> Error {
    if let Some(Err(e)) = old.map(|old| check_version::<E>(old, expected, value)) {
        return e;
    }
    Error::ConditionFailed {
        entity: E::ENTITY_TYPE,
        key: describe_key(E::DESIGN, &value.key_item()),
    }
}

/// A put for an entity whose index keys use `createdAt`: the keys must be built from the
/// stored `createdAt`, which a single UpdateItem cannot read. Each attempt is one atomic,
/// consistent write conditioned on what it assumed; a failed assumption is corrected from
/// the item DynamoDB returns with the failure, and the write tried again.
async fn put_keeping_created<E: Entity>(
    db: &Table,
    mut value: E,
    expected: Option<i64>,
    now: Timestamp,
) -> Result<E, Error> {
    const ATTEMPTS: usize = 4;
    let mut assume_new = false;
    // One call for every attempt: a lost answer to one of them is recognised by the next.
    let mut call = Call::new();
    for _ in 0..ATTEMPTS {
        let case = if assume_new {
            value.stamp(now, true, expected.map(|v| v + 1));
            PutCase::New
        } else {
            value.stamp(now, false, expected.map(|v| v + 1));
            PutCase::ExistingWithCreated
        };
        match put_request(db, &mut call, &value, expected, case).await? {
            Ok(stored) => return Ok(stored),
            Err(None) => assume_new = !assume_new,
            Err(Some(old)) => {
                check_version::<E>(&old, expected, &value)?;
                let created = E::CREATED_AT
                    .and_then(|c| old.get(c))
                    .and_then(|av| E::TIMESTAMPS_STORED_AS.from_av(av).ok());
                value.set_created_at(created.unwrap_or(now));
                assume_new = false;
            }
        }
    }
    Err(Error::ConditionFailed {
        entity: E::ENTITY_TYPE,
        key: describe_key(E::DESIGN, &value.key_item()),
    })
}

fn check_version<E: Entity>(old: &Item, expected: Option<i64>, value: &E) -> Result<(), Error> {
    let (Some(ver), Some(expected)) = (E::VERSION, expected) else {
        return Ok(());
    };
    let actual = stored_version(old, ver);
    if actual == Some(expected) {
        return Ok(());
    }
    Err(Error::VersionConflict {
        entity: E::ENTITY_TYPE,
        key: describe_key(E::DESIGN, &value.key_item()),
        expected,
        actual,
    })
}

/// The stored version: a missing attribute is version 0.
pub(crate) fn stored_version(old: &Item, attr: &str) -> Option<i64> {
    match old.get(attr) {
        None => Some(0),
        Some(v) => v.as_n().ok().and_then(|n| n.parse().ok()),
    }
}

async fn put_once<E: Entity>(
    db: &Table,
    value: &E,
    expected: Option<i64>,
    case: PutCase,
) -> Result<E, Error> {
    match put_request(db, &mut Call::new(), value, expected, case).await? {
        Ok(stored) => Ok(stored),
        Err(old) => Err(put_refused(old.as_ref(), expected, value)),
    }
}

/// Sends one put. `Ok(Err(old))`: its condition failed, with the item as it was (`None`:
/// there was none). A failed condition that finds this call's own write is its success.
async fn put_request<E: Entity>(
    db: &Table,
    call: &mut Call,
    value: &E,
    expected: Option<i64>,
    case: PutCase,
) -> Result<Result<E, Option<Item>>, Error> {
    // The request, and the value as written (moved out, not copied).
    let split = |p: PutParts<E>| {
        let request = UpdateRequest {
            key: p.key,
            update: p.update,
            condition: p.condition,
            expr: p.expr,
            accumulates: false,
        };
        (request, p.stored)
    };
    let (first, stored) = split(put_parts(value, expected, case)?);
    let rebuild = || split(put_parts_of(stored_item(value), value, expected, case)).0;
    let desc = || describe_key(E::DESIGN, &value.key_item());
    match send_update(db, call, first, rebuild).await {
        Ok(out) => match out.attributes {
            Some(item) => Ok(Ok(E::from_item_owned(item)?)),
            None => Ok(Ok(stored)),
        },
        Err(e) => {
            use ::aws_sdk_dynamodb::operation::update_item::UpdateItemError;
            match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                    match call.verdict(c.item()) {
                        Verdict::Own => Ok(Ok(E::from_item_owned(found(c.item()))?)),
                        Verdict::Unknown => {
                            Err(call.ambiguous(E::ENTITY_TYPE, desc(), "put", true, true))
                        }
                        Verdict::Refused => Ok(Err(c.item().cloned())),
                    }
                }
                _ => Err(write_failed(call, e, E::ENTITY_TYPE, desc, "put", true)),
            }
        }
    }
}

/// The outcome of one UpdateItem as the SDK reports it.
pub(crate) type UpdateResult = Result<
    ::aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
    ::aws_sdk_dynamodb::error::SdkError<
        ::aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        ::aws_sdk_dynamodb::config::http::HttpResponse,
    >,
>;

/// The item a failed condition returned, as this call's own write left it.
pub(crate) fn found(old: Option<&Item>) -> Item {
    old.cloned().unwrap_or_default()
}

/// One UpdateItem of a single-request write, before the write token is added.
pub(crate) struct UpdateRequest {
    pub key: Item,
    pub update: String,
    pub condition: Option<String>,
    pub expr: Expr,
    /// Whether applying it twice would count twice (an `ADD`, a list append, a version
    /// bump without an expected version).
    pub accumulates: bool,
}

/// Sends one UpdateItem that writes the call's token and returns the item as stored
/// afterwards, or, when its condition fails, the item as it was (for telling why, and
/// for recognising the call's own write after a lost answer).
pub(crate) async fn send_update(
    db: &Table,
    call: &mut Call,
    first: UpdateRequest,
    rebuild: impl Fn() -> UpdateRequest,
) -> UpdateResult {
    let accumulates = first.accumulates;
    let token = call.token().clone();
    let mut parts = Parts::new(first, rebuild);
    deliver(db, call, accumulates, |client, how| {
        let UpdateRequest {
            key,
            update,
            condition,
            mut expr,
            ..
        } = parts.next();
        let set_token = {
            let n = expr.name(WRITE_TOKEN_ATTRIBUTE);
            format!("{n} = {}", expr.value(token.clone()))
        };
        let update = match update.strip_prefix("SET ") {
            Some(rest) => format!("SET {set_token}, {rest}"),
            None => format!("SET {set_token} {update}"),
        };
        let condition = condition_for(&token, &mut expr, condition, how);
        let (names, values) = expr.into_maps();
        client
            .update_item()
            .table_name(db.table_name())
            .set_key(Some(key))
            .update_expression(update)
            .set_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .set_return_consumed_capacity(crate::trace::capacity_mode())
            .send()
    })
    .await
    .inspect(|out| crate::trace::consumed(out.consumed_capacity()))
}

/// A request's parts: moved into the first attempt and built again for a retry. Keeping
/// a copy for retries would cost every write; retries are rare.
pub(crate) struct Parts<T, F> {
    first: Option<T>,
    rebuild: F,
}

impl<T, F: Fn() -> T> Parts<T, F> {
    pub fn new(first: T, rebuild: F) -> Self {
        Parts {
            first: Some(first),
            rebuild,
        }
    }

    /// The parts of the next attempt.
    pub fn next(&mut self) -> T {
        self.first.take().unwrap_or_else(&self.rebuild)
    }
}

/// Maps a failed conditional update to NotFound, VersionConflict, KeyInputMismatch or
/// ConditionFailed, from the old item DynamoDB returns with the failure.
pub(crate) fn conflict<'g, E: Entity>(
    e: ::aws_sdk_dynamodb::error::SdkError<
        ::aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        ::aws_sdk_dynamodb::config::http::HttpResponse,
    >,
    key: &Item,
    expected: Option<i64>,
    guards: impl Iterator<Item = (&'static str, Option<&'g AttributeValue>)>,
    must_exist: bool,
) -> Error {
    use ::aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    let Some(UpdateItemError::ConditionalCheckFailedException(c)) = e.as_service_error() else {
        return sdk(e);
    };
    conflict_from_old::<E>(c.item(), key, expected, guards, must_exist).unwrap_or_else(|| {
        Error::ConditionFailed {
            entity: E::ENTITY_TYPE,
            key: describe_key(E::DESIGN, key),
        }
    })
}

/// Why a conditional update of `key` failed, from the item as it was: absent, another
/// version, or a key input that differs. `None` when the item exists and none of these
/// explains it.
pub(crate) fn conflict_from_old<'g, E: Entity>(
    old: Option<&Item>,
    key: &Item,
    expected: Option<i64>,
    mut guards: impl Iterator<Item = (&'static str, Option<&'g AttributeValue>)>,
    must_exist: bool,
) -> Option<Error> {
    let desc = || describe_key(E::DESIGN, key);
    let Some(old) = old else {
        return Some(if must_exist {
            Error::NotFound {
                entity: E::ENTITY_TYPE,
                key: desc(),
            }
        } else {
            Error::ConditionFailed {
                entity: E::ENTITY_TYPE,
                key: desc(),
            }
        });
    };
    if let (Some(ver), Some(expected)) = (E::VERSION, expected) {
        let actual = stored_version(old, ver);
        if actual != Some(expected) {
            return Some(Error::VersionConflict {
                entity: E::ENTITY_TYPE,
                key: desc(),
                expected,
                actual,
            });
        }
    }
    let (attribute, _) = guards.find(|(n, v)| old.get(*n) != *v)?;
    Some(Error::KeyInputMismatch {
        entity: E::ENTITY_TYPE,
        key: desc(),
        attribute,
    })
}
