//! Entities and their repositories: the traits every generated entity implements, and
//! the writes and reads that keep maintained attributes (timestamps, version) true.

use std::collections::HashMap;
use std::marker::PhantomData;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use crate::batch::batch_get;
use crate::entity::{Entity, EntityKey};
use crate::error::{Error, sdk};
use crate::item::{Attr, Item, key_text};
use crate::table::{Table, TableDesign};
use crate::value::Timestamp;

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
        create(self.db, value).await
    }

    /// Creates or replaces the item with this key, and returns it as stored. The
    /// creation time of an existing item is kept; with a version attribute, the value's
    /// version must match the stored one ([`Error::VersionConflict`] otherwise).
    pub async fn put(&self, value: &E) -> Result<E, Error> {
        put(self.db, value).await
    }

    /// Reads an item (eventually consistent).
    pub async fn get(&self, key: &E::Key) -> Result<Option<E>, Error> {
        get(self.db, key.to_key_item(), false).await
    }

    /// Reads an item with a strongly consistent read.
    pub async fn get_consistent(&self, key: &E::Key) -> Result<Option<E>, Error> {
        get(self.db, key.to_key_item(), true).await
    }

    /// Deletes an item; returns it as it was, if it existed.
    pub async fn delete(&self, key: &E::Key) -> Result<Option<E>, Error> {
        delete(self.db, key.to_key_item()).await
    }

    /// Reads many items by key (100 per request, unprocessed keys retried); absent keys
    /// are skipped and the order is not preserved.
    pub async fn batch_get(&self, keys: &[E::Key]) -> Result<Vec<E>, Error> {
        let items = batch_get(
            self.db,
            keys.iter().map(EntityKey::to_key_item).collect(),
            false,
        )
        .await?;
        items
            .into_iter()
            .map(|i| E::from_item_owned(i).map_err(Error::from))
            .collect()
    }
}

/// Shows a key for messages: `(pk, sk)`.
pub fn describe_key(design: &TableDesign, key: &Item) -> String {
    key_text(key, design.partition_key, design.sort_key)
}

/// Placeholder names and values for one expression; every attribute name is aliased,
/// so reserved words (`name`, `type`, `status`) never break a request.
#[derive(Default)]
pub struct Expr {
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub fn name(&mut self, attr: &str) -> String {
        if let Some((k, _)) = self.names.iter().find(|(_, v)| v.as_str() == attr) {
            return k.clone();
        }
        let k = format!("#n{}", self.names.len());
        self.names.insert(k.clone(), attr.to_string());
        k
    }
    pub fn value(&mut self, v: AttributeValue) -> String {
        let k = format!(":v{}", self.values.len());
        self.values.insert(k.clone(), v);
        k
    }
    /// The maps for a request, moved out (DynamoDB rejects empty ones, so those are `None`).
    #[allow(clippy::type_complexity)]
    pub(crate) fn into_maps(
        self,
    ) -> (
        Option<HashMap<String, String>>,
        Option<HashMap<String, AttributeValue>>,
    ) {
        (
            (!self.names.is_empty()).then_some(self.names),
            (!self.values.is_empty()).then_some(self.values),
        )
    }
}

/// Creates an item; fails with [`Error::AlreadyExists`] if its key is taken.
pub async fn create<E: Entity>(db: &Table, value: &E) -> Result<E, Error> {
    let mut stored = value.clone();
    stored.stamp(Timestamp::now(), true, E::VERSION.map(|_| 1));
    let mut expr = Expr::default();
    let cond = format!(
        "attribute_not_exists({})",
        expr.name(E::DESIGN.partition_key)
    );
    let item = stored.to_item();
    let key = describe_key(E::DESIGN, &item);
    let res = db
        .client()
        .put_item()
        .table_name(db.table_name())
        .set_item(Some(item))
        .condition_expression(cond)
        .set_expression_attribute_names(expr.into_maps().0)
        .send()
        .await;
    match res {
        Ok(_) => Ok(stored),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Err(Error::AlreadyExists {
                entity: E::ENTITY_TYPE,
                key,
            })
        }
        Err(e) => Err(sdk(e)),
    }
}

/// Creates or replaces an item. The creation time of an existing item is kept; with a
/// version attribute, the stored version must equal the value's (or the item be new).
pub async fn put<E: Entity>(db: &Table, value: &E) -> Result<E, Error> {
    let mut stored = value.clone();
    let expected = value.version();
    let now = Timestamp::now();
    stored.stamp(now, false, expected.map(|v| v + 1));
    let mut item = stored.to_item();
    let key: Item = [E::DESIGN.partition_key, E::DESIGN.sort_key]
        .iter()
        .filter_map(|k| item.remove_entry(*k))
        .collect();
    let mut expr = Expr::default();
    let mut sets = Vec::new();
    let mut names: Vec<&String> = item.keys().collect();
    names.sort();
    for name in names {
        let n = expr.name(name);
        let v = expr.value(item[name].clone());
        if Some(name.as_str()) == E::CREATED_AT {
            sets.push(format!("{n} = if_not_exists({n}, {v})"));
        } else {
            sets.push(format!("{n} = {v}"));
        }
    }
    let removes: Vec<String> = E::REMOVABLE
        .iter()
        .filter(|a| !item.contains_key(**a))
        .map(|a| expr.name(a))
        .collect();
    let mut update = format!("SET {}", sets.join(", "));
    if !removes.is_empty() {
        update.push_str(&format!(" REMOVE {}", removes.join(", ")));
    }
    let mut req = db
        .client()
        .update_item()
        .table_name(db.table_name())
        .set_key(Some(key.clone()))
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    if let (Some(ver), Some(expected)) = (E::VERSION, expected) {
        let pk = expr.name(E::DESIGN.partition_key);
        let vn = expr.name(ver);
        let ev = expr.value(AttributeValue::N(expected.to_string()));
        req = req.condition_expression(format!("attribute_not_exists({pk}) OR {vn} = {ev}"));
    }
    let (names, values) = expr.into_maps();
    let res = req
        .update_expression(update)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .send()
        .await;
    match res {
        Ok(out) => match out.attributes {
            Some(stored) => Ok(E::from_item_owned(stored)?),
            None => Ok(E::from_item(&item)?),
        },
        Err(e) => Err(write_conflict::<E>(e, &key, expected, false)),
    }
}

/// Maps a failed conditional write to NotFound, VersionConflict or ConditionFailed,
/// from the old item DynamoDB returns with the failure.
fn write_conflict<E: Entity>(
    e: ::aws_sdk_dynamodb::error::SdkError<
        ::aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        ::aws_sdk_dynamodb::config::http::HttpResponse,
    >,
    key: &Item,
    expected: Option<i64>,
    must_exist: bool,
) -> Error {
    use ::aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    let Some(UpdateItemError::ConditionalCheckFailedException(c)) = e.as_service_error() else {
        return sdk(e);
    };
    let desc = describe_key(E::DESIGN, key);
    let Some(old) = c.item() else {
        return if must_exist {
            Error::NotFound {
                entity: E::ENTITY_TYPE,
                key: desc,
            }
        } else {
            Error::ConditionFailed {
                entity: E::ENTITY_TYPE,
                key: desc,
            }
        };
    };
    match (E::VERSION, expected) {
        (Some(ver), Some(expected)) => {
            let actual = old
                .get(ver)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok());
            if actual != Some(expected) {
                return Error::VersionConflict {
                    entity: E::ENTITY_TYPE,
                    key: desc,
                    expected,
                    actual,
                };
            }
            Error::ConditionFailed {
                entity: E::ENTITY_TYPE,
                key: desc,
            }
        }
        _ => Error::ConditionFailed {
            entity: E::ENTITY_TYPE,
            key: desc,
        },
    }
}

/// Reads one item by primary key.
pub async fn get<E: Entity>(db: &Table, key: Item, consistent: bool) -> Result<Option<E>, Error> {
    let out = db
        .client()
        .get_item()
        .table_name(db.table_name())
        .set_key(Some(key))
        .consistent_read(consistent)
        .send()
        .await
        .map_err(sdk)?;
    match out.item {
        Some(item) => Ok(Some(E::from_item_owned(item)?)),
        None => Ok(None),
    }
}

/// Deletes one item; returns it as it was, if it existed.
pub async fn delete<E: Entity>(db: &Table, key: Item) -> Result<Option<E>, Error> {
    let out = db
        .client()
        .delete_item()
        .table_name(db.table_name())
        .set_key(Some(key))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .map_err(sdk)?;
    match out.attributes {
        Some(item) => Ok(Some(E::from_item_owned(item)?)),
        None => Ok(None),
    }
}

/// A generated update builder: the key of the item and the update collected so far.
pub trait IntoUpdate {
    /// The entity being updated.
    type Entity: Entity;
    /// The key attributes and the collected update.
    fn into_parts(self) -> (Item, UpdateSpec);
}

/// The parts of an update, collected by a generated typed builder.
#[derive(Debug, Clone, Default)]
pub struct UpdateSpec {
    pub set: Vec<(&'static str, AttributeValue)>,
    pub remove: Vec<&'static str>,
    pub add: Vec<(&'static str, AttributeValue)>,
    pub delete: Vec<(&'static str, AttributeValue)>,
    pub append: Vec<(&'static str, AttributeValue)>,
    pub expect_version: Option<i64>,
}

impl UpdateSpec {
    /// The expressions for this update on an existing item of `E`.
    pub fn expression<E: Entity>(&self, expr: &mut Expr) -> (String, String) {
        let mut sets: Vec<String> = Vec::new();
        for (name, v) in &self.set {
            let n = expr.name(name);
            let v = expr.value(v.clone());
            sets.push(format!("{n} = {v}"));
        }
        for (name, v) in &self.append {
            let n = expr.name(name);
            let v = expr.value(v.clone());
            let empty = expr.value(AttributeValue::L(Vec::new()));
            sets.push(format!(
                "{n} = list_append(if_not_exists({n}, {empty}), {v})"
            ));
        }
        if let Some(u) = E::UPDATED_AT {
            let n = expr.name(u);
            let v = expr.value(Timestamp::now().to_av());
            sets.push(format!("{n} = {v}"));
        }
        let mut adds: Vec<String> = Vec::new();
        for (name, v) in &self.add {
            let n = expr.name(name);
            let v = expr.value(v.clone());
            adds.push(format!("{n} {v}"));
        }
        if let Some(ver) = E::VERSION {
            let n = expr.name(ver);
            let one = expr.value(AttributeValue::N("1".into()));
            adds.push(format!("{n} {one}"));
        }
        let removes: Vec<String> = self.remove.iter().map(|r| expr.name(r)).collect();
        let deletes: Vec<String> = self
            .delete
            .iter()
            .map(|(name, v)| {
                let n = expr.name(name);
                let v = expr.value(v.clone());
                format!("{n} {v}")
            })
            .collect();
        let mut update = String::new();
        for (kw, parts) in [
            ("SET", sets),
            ("REMOVE", removes),
            ("ADD", adds),
            ("DELETE", deletes),
        ] {
            if !parts.is_empty() {
                if !update.is_empty() {
                    update.push(' ');
                }
                update.push_str(kw);
                update.push(' ');
                update.push_str(&parts.join(", "));
            }
        }
        let mut cond = format!("attribute_exists({})", expr.name(E::DESIGN.partition_key));
        if let (Some(ver), Some(v)) = (E::VERSION, self.expect_version) {
            let n = expr.name(ver);
            let v = expr.value(AttributeValue::N(v.to_string()));
            cond.push_str(&format!(" AND {n} = {v}"));
        }
        (update, cond)
    }
}

/// Applies an update to an existing item and returns the item as stored afterwards.
pub async fn update<E: Entity>(db: &Table, key: Item, spec: &UpdateSpec) -> Result<E, Error> {
    let mut expr = Expr::default();
    let (update, cond) = spec.expression::<E>(&mut expr);
    let (names, values) = expr.into_maps();
    let res = db
        .client()
        .update_item()
        .table_name(db.table_name())
        .set_key(Some(key.clone()))
        .update_expression(update)
        .condition_expression(cond)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match res {
        Ok(out) => match out.attributes {
            Some(item) => Ok(E::from_item_owned(item)?),
            None => Err(Error::NotFound {
                entity: E::ENTITY_TYPE,
                key: describe_key(E::DESIGN, &key),
            }),
        },
        Err(e) => Err(write_conflict::<E>(e, &key, spec.expect_version, true)),
    }
}
