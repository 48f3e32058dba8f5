//! The scan-pass work of unique-constraint steps: every existing item claims the guard of
//! its value (two items with one value stop the migration, naming both), or a removed
//! constraint's guards are deleted.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::common::{Keys, MigrateError, sdk};
use super::model::UniqueDef;
use crate::unique::{
    GUARD_TYPE, GuardTable, OWNER_ATTRIBUTE, guard_prefix, guard_text, release_if_stale,
};

fn guard_table<'a>(table: &'a str, keys: &'a Keys, def: &'a UniqueDef) -> GuardTable<'a> {
    GuardTable {
        table,
        partition_key: &keys.pk.name,
        sort_key: keys.sk.as_ref().map_or("", |s| s.name.as_str()),
        entity_type_attribute: &def.type_attribute,
    }
}

/// Claims the guard of one item's value; `true` when the item has a value to guard.
pub(super) async fn claim(
    client: &Client,
    table: &str,
    keys: &Keys,
    def: &UniqueDef,
    migration: &str,
    item: &HashMap<String, AttributeValue>,
) -> Result<bool, MigrateError> {
    let kind = item.get(&def.type_attribute).and_then(|v| v.as_s().ok());
    if kind != Some(&def.entity) {
        return Ok(false);
    }
    let Some(text) = guard_text(&def.entity, &def.name, &def.attributes, item) else {
        return Ok(false);
    };
    let gt = guard_table(table, keys, def);
    let owner = gt.owner(item);
    for _ in 0..ATTEMPTS {
        let Some(holder) = put_guard(client, &gt, &text, &owner).await? else {
            return Ok(true);
        };
        let stale = release_if_stale(client, &gt, &def.entity, &def.name, &def.attributes, &text)
            .await
            .map_err(|e| MigrateError::Sdk(Box::new(e)))?;
        if !stale {
            let other = holder.map_or("another item".into(), |k| {
                format!("the item {}", keys.describe(&k))
            });
            return Err(MigrateError::Step {
                migration: migration.to_string(),
                key: keys.describe(&keys.key_of(item)),
                message: format!(
                    "{} values must be unique in `{}`, and {other} holds this item's too: change one of them, then run the migrations again",
                    def.entity, def.name
                ),
            });
        }
    }
    Err(MigrateError::Step {
        migration: migration.to_string(),
        key: keys.describe(&keys.key_of(item)),
        message: format!(
            "the `{}` guard kept changing ({ATTEMPTS} attempts)",
            def.name
        ),
    })
}

/// How often a claim is tried again after a stale guard was released.
const ATTEMPTS: usize = 4;

/// The key of another item holding a guard.
type Holder = Option<HashMap<String, AttributeValue>>;

/// Puts a guard owned by `owner`; `Some(holder)` when another item holds it.
async fn put_guard(
    client: &Client,
    gt: &GuardTable<'_>,
    text: &str,
    owner: &str,
) -> Result<Option<Holder>, MigrateError> {
    let (cond, expr) = gt.owned_or_free(owner);
    let (names, values) = expr.into_maps();
    let res = client
        .put_item()
        .table_name(gt.table)
        .set_item(Some(gt.item(text.to_string(), owner)))
        .condition_expression(cond)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match res {
        Ok(_) => Ok(None),
        Err(e) => {
            use ::aws_sdk_dynamodb::operation::put_item::PutItemError;
            let Some(PutItemError::ConditionalCheckFailedException(c)) = e.as_service_error()
            else {
                return Err(sdk(e));
            };
            let other = c
                .item()
                .and_then(|g| g.get(OWNER_ATTRIBUTE))
                .and_then(|o| o.as_s().ok())
                .and_then(|o| gt.owner_key(o));
            Ok(Some(other))
        }
    }
}

/// Deletes one item if it is a guard of the removed constraint; `true` when it was.
pub(super) async fn release(
    client: &Client,
    table: &str,
    keys: &Keys,
    def: &UniqueDef,
    item: &HashMap<String, AttributeValue>,
) -> Result<bool, MigrateError> {
    let kind = item.get(&def.type_attribute).and_then(|v| v.as_s().ok());
    let pk = item.get(&keys.pk.name).and_then(|v| v.as_s().ok());
    let prefix = guard_prefix(&def.entity, &def.name);
    if kind.map(String::as_str) != Some(GUARD_TYPE) || !pk.is_some_and(|p| p.starts_with(&prefix)) {
        return Ok(false);
    }
    client
        .delete_item()
        .table_name(table)
        .set_key(Some(keys.key_of(item)))
        .send()
        .await
        .map_err(sdk)?;
    Ok(true)
}
