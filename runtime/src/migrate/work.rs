//! What a scan pass does with each item: write a new index's keys (a backfill), or run an
//! application's code step. Every write is conditional, so an item is changed once however
//! often a resumed or shared pass reads it.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::backfill::repair_keys;
use super::code::{EachItem, ItemChange};
use super::common::{Keys, MigrateError, condition_failures, read_item, sdk, settled};
use super::guards;
use super::model::{Backfill, UniqueDef};

/// The attribute a code step's writes carry: the name of the last code migration that
/// changed the item. Names sort in order, so "this migration or a later one changed it"
/// is one comparison, and a resumed pass skips what it already did.
pub const MIGRATED_ATTRIBUTE: &str = "_dyngenMigration";

/// How often a pass reads an item again after a concurrent write before giving up on it.
pub(super) const ATTEMPTS: usize = 5;

/// What a pass did with one scanned item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Not an item this work is about (another entity, the runner's own items).
    Ignored,
    /// Checked and already right.
    Unchanged,
    /// Written (keys added, repaired or removed; a guard claimed; a code step's change).
    Changed,
    /// Checked and left as it is: deleted meanwhile, holding a value no generated code
    /// could have written, or changing faster than the pass could follow.
    Skipped,
}

impl Outcome {
    fn of(changed: bool) -> Outcome {
        if changed {
            Outcome::Changed
        } else {
            Outcome::Unchanged
        }
    }
}

pub(super) enum Work<'a> {
    Backfill(&'a Backfill),
    /// Claim the guards of a new unique constraint.
    AddUnique {
        def: &'a UniqueDef,
        migration: &'a str,
    },
    /// Delete the guards of a removed unique constraint.
    DropUnique(&'a UniqueDef),
    Code {
        step: &'a EachItem,
        /// The migration's name, written to [`MIGRATED_ATTRIBUTE`].
        migration: &'a str,
    },
}

impl Work<'_> {
    /// Applies the work to one scanned item.
    pub(super) async fn apply(
        &self,
        client: &Client,
        table: &str,
        keys: &Keys,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<Outcome, MigrateError> {
        match self {
            Work::Backfill(b) => {
                let kind = item.get(&b.type_attribute).and_then(|v| v.as_s().ok());
                match b.entities.iter().find(|e| Some(&e.entity) == kind) {
                    Some(entity) => repair_keys(client, table, keys, b, entity, item).await,
                    None => Ok(Outcome::Ignored),
                }
            }
            Work::AddUnique { def, migration } => {
                guards::claim(client, table, keys, def, migration, item)
                    .await
                    .map(Outcome::of)
            }
            Work::DropUnique(def) => guards::release(client, table, keys, def, item)
                .await
                .map(Outcome::of),
            Work::Code { step, migration } => {
                let kind = item.get(&step.type_attribute).and_then(|v| v.as_s().ok());
                if kind != Some(&step.entity_type) {
                    return Ok(Outcome::Ignored);
                }
                run_code(client, table, keys, step, migration, item.clone())
                    .await
                    .map(Outcome::of)
            }
        }
    }
}

fn already_done(item: &HashMap<String, AttributeValue>, migration: &str) -> bool {
    item.get(MIGRATED_ATTRIBUTE)
        .and_then(|v| v.as_s().ok())
        .is_some_and(|m| m.as_str() >= migration)
}

async fn run_code(
    client: &Client,
    table: &str,
    keys: &Keys,
    step: &EachItem,
    migration: &str,
    mut item: HashMap<String, AttributeValue>,
) -> Result<bool, MigrateError> {
    for _ in 0..ATTEMPTS {
        if already_done(&item, migration) {
            return Ok(false);
        }
        let key = keys.key_of(&item);
        let change = (step.f)(item.clone())
            .await
            .map_err(|e| MigrateError::Step {
                migration: migration.to_string(),
                key: keys.describe(&key),
                message: e.to_string(),
            })?;
        let write = Write {
            keys,
            step,
            migration,
            old: &item,
        };
        let written = match change {
            ItemChange::Keep => return Ok(false),
            ItemChange::Delete => write.delete(client, table).await?,
            ItemChange::Put(new) => write.put(client, table, new).await?,
        };
        if written {
            return Ok(true);
        }
        // Changed or deleted meanwhile: read it again and decide again.
        match read_item(client, table, key).await? {
            Some(fresh) => item = fresh,
            None => return Ok(false),
        }
    }
    Err(MigrateError::Step {
        migration: migration.to_string(),
        key: keys.describe(&keys.key_of(&item)),
        message: format!("the item kept changing under the step ({ATTEMPTS} attempts)"),
    })
}

/// One conditional write of a code step: only if the item is still there, not yet changed
/// by this migration, and (with a version attribute) still at the version read.
struct Write<'a> {
    keys: &'a Keys,
    step: &'a EachItem,
    migration: &'a str,
    old: &'a HashMap<String, AttributeValue>,
}

/// A condition expression with its names and values.
struct Condition {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Write<'_> {
    fn condition(&self) -> Condition {
        let mut names = HashMap::from([
            ("#pk".to_string(), self.keys.pk.name.clone()),
            ("#mig".to_string(), MIGRATED_ATTRIBUTE.to_string()),
        ]);
        let mut values = HashMap::from([(
            ":mig".to_string(),
            AttributeValue::S(self.migration.to_string()),
        )]);
        let mut expression =
            "attribute_exists(#pk) AND (attribute_not_exists(#mig) OR #mig < :mig)".to_string();
        if let Some(v) = &self.step.version_attribute {
            names.insert("#ver".into(), v.clone());
            match self.old.get(v) {
                Some(read) => {
                    values.insert(":ver".into(), read.clone());
                    expression.push_str(" AND #ver = :ver");
                }
                None => expression.push_str(" AND attribute_not_exists(#ver)"),
            }
        }
        Condition {
            expression,
            names,
            values,
        }
    }

    async fn delete(&self, client: &Client, table: &str) -> Result<bool, MigrateError> {
        let c = self.condition();
        let res = client
            .delete_item()
            .table_name(table)
            .set_key(Some(self.keys.key_of(self.old)))
            .condition_expression(c.expression)
            .set_expression_attribute_names(Some(c.names))
            .set_expression_attribute_values(Some(c.values))
            .send()
            .await;
        settled(res)
    }

    async fn put(
        &self,
        client: &Client,
        table: &str,
        mut new: HashMap<String, AttributeValue>,
    ) -> Result<bool, MigrateError> {
        new.insert(
            MIGRATED_ATTRIBUTE.into(),
            AttributeValue::S(self.migration.to_string()),
        );
        let old_key = self.keys.key_of(self.old);
        if self.keys.key_of(&new) == old_key {
            let c = self.condition();
            let res = client
                .put_item()
                .table_name(table)
                .set_item(Some(new))
                .condition_expression(c.expression)
                .set_expression_attribute_names(Some(c.names))
                .set_expression_attribute_values(Some(c.values))
                .send()
                .await;
            return settled(res);
        }
        self.move_item(client, table, new, old_key).await
    }

    /// A new key: the new item and the old item's deletion in one transaction.
    async fn move_item(
        &self,
        client: &Client,
        table: &str,
        new: HashMap<String, AttributeValue>,
        old_key: HashMap<String, AttributeValue>,
    ) -> Result<bool, MigrateError> {
        use ::aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
        let c = self.condition();
        let delete = Delete::builder()
            .table_name(table)
            .set_key(Some(old_key))
            .condition_expression(c.expression)
            .set_expression_attribute_names(Some(c.names))
            .set_expression_attribute_values(Some(c.values))
            .build()
            .map_err(sdk)?;
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(new))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", &self.keys.pk.name)
            .build()
            .map_err(sdk)?;
        let res = client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        let Err(e) = res else { return Ok(true) };
        if condition_failures(e)?[0] {
            return Ok(false);
        }
        Err(MigrateError::Step {
            migration: self.migration.to_string(),
            key: self.keys.describe(&self.keys.key_of(self.old)),
            message: "the step moves the item to a key another item already has".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(m: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([(MIGRATED_ATTRIBUTE.to_string(), AttributeValue::S(m.into()))])
    }

    /// The mark compares migration names, which sort in sequence order (zero-padded).
    #[test]
    fn an_item_marked_by_this_or_a_later_migration_is_done() {
        assert!(!already_done(&HashMap::new(), "0005_x"));
        assert!(!already_done(&marked("0004_z"), "0005_x"));
        assert!(already_done(&marked("0005_x"), "0005_x"));
        assert!(already_done(&marked("0012_a"), "0005_x"));
    }
}
