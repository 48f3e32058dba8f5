//! Transactions: actions over any entities of one table, applied all or nothing.

use crate::entity::{CreatedAtKeys, Entity, EntityKey};
use crate::error::{CancellationReason, Error};
use crate::expr::Expr;
use crate::item::Item;
use crate::table::Table;
use crate::unique::{GuardTable, Role, Unique, guard_moves, unchanged_since};
use crate::update::IntoUpdate;
use crate::value::Timestamp;
use crate::write::{PutCase, as_created, item_of, key_not_taken, put_parts};

/// Actions over any entities, applied all or nothing.
pub struct Transaction<'a> {
    db: &'a Table,
    items: Vec<::aws_sdk_dynamodb::types::TransactWriteItem>,
    labels: Vec<String>,
    /// The unique constraint each action claims a guard for, if it does.
    claims: Vec<Option<(&'static str, Unique)>>,
    /// An action that could not be built (a value DynamoDB would reject).
    refused: Option<Error>,
}

impl Table {
    /// Starts a transaction of up to 100 actions over any entities.
    pub fn transaction(&self) -> Transaction<'_> {
        Transaction {
            db: self,
            items: Vec::new(),
            labels: Vec::new(),
            claims: Vec::new(),
            refused: None,
        }
    }
}

impl<'a> Transaction<'a> {
    fn push(
        &mut self,
        label: String,
        item: Result<
            ::aws_sdk_dynamodb::types::TransactWriteItem,
            ::aws_sdk_dynamodb::error::BuildError,
        >,
    ) {
        // The builders fail only when a required field is unset, which never happens here.
        if let Ok(item) = item {
            self.items.push(item);
            self.labels.push(label);
            self.claims.push(None);
        }
    }

    /// Adds the guard writes of a value's unique constraints (claims when `claim`,
    /// releases otherwise).
    fn guards<E: Entity>(mut self, item: &Item, claim: bool) -> Self {
        let owner = GuardTable::of(E::DESIGN, self.db.table_name()).owner(item);
        let (old, new) = if claim {
            (None, Some(item))
        } else {
            (Some(item), None)
        };
        let moves = guard_moves(
            &GuardTable::of(E::DESIGN, self.db.table_name()),
            E::ENTITY_TYPE,
            E::UNIQUE,
            &owner,
            old,
            new,
        );
        for (action, role) in moves {
            let (label, claim) = match role {
                Role::Claim(u) => (
                    format!("claim unique {}.{}", E::ENTITY_TYPE, u.name),
                    Some((E::ENTITY_TYPE, u)),
                ),
                _ => (format!("release unique guard of {}", E::ENTITY_TYPE), None),
            };
            self.items.push(action);
            self.labels.push(label);
            self.claims.push(claim);
        }
        self
    }

    /// Creates an item; cancels the transaction if its key is taken.
    pub fn create<E: Entity>(mut self, value: &E) -> Self {
        let item = match as_created(value) {
            Ok((_, item)) => item,
            Err(e) => return self.refuse(e),
        };
        if !E::UNIQUE.is_empty() {
            self = self.guards::<E>(&item, true);
        }
        let (cond, names) = key_not_taken::<E>();
        let put = ::aws_sdk_dynamodb::types::Put::builder()
            .table_name(self.db.table_name())
            .set_item(Some(item))
            .condition_expression(cond)
            .set_expression_attribute_names(names)
            .build();
        let item = put.map(|p| {
            ::aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .put(p)
                .build()
        });
        self.push(format!("create {}", E::ENTITY_TYPE), item);
        self
    }

    /// Creates or replaces an item, as [`crate::Repo::put`] does: the stored version must
    /// be the value's (a missing one counts as 0), and `createdAt` is kept. One exception,
    /// because a transaction cannot read first: when index keys are built from
    /// `createdAt`, the value's `createdAt` must equal the stored one (the action fails
    /// otherwise) and a new item is written with the value's.
    pub fn put<E: Entity>(self, value: &E) -> Self {
        if !E::UNIQUE.is_empty() {
            return self.refuse(Error::UniqueGuardsUnsupported {
                entity: E::ENTITY_TYPE,
                operation: "a transaction's put",
            });
        }
        let expected = value.version();
        let mut stamped = value.clone();
        let case = match E::CREATED_AT_KEYS {
            CreatedAtKeys::None => {
                stamped.stamp(Timestamp::now(), true, expected.map(|v| v + 1));
                PutCase::KeepStored
            }
            CreatedAtKeys::Primary => {
                stamped.stamp(Timestamp::now(), false, expected.map(|v| v + 1));
                PutCase::AsGiven
            }
            CreatedAtKeys::Index => {
                stamped.stamp(Timestamp::now(), false, expected.map(|v| v + 1));
                PutCase::NewOrSameCreated
            }
        };
        match put_parts(&stamped, expected, case) {
            Ok(parts) => self.update_item(
                format!("put {}", E::ENTITY_TYPE),
                parts.key,
                parts.update,
                parts.condition,
                parts.expr,
            ),
            Err(e) => self.refuse(e),
        }
    }

    /// Applies a typed update: a generated update builder, with its setters called.
    pub fn update<U: IntoUpdate>(self, update: U) -> Self {
        let (key, spec) = update.into_parts();
        match spec.unique_changes::<U::Entity>() {
            Ok(changes) if changes.is_empty() => {}
            Ok(_) => {
                return self.refuse(Error::UniqueGuardsUnsupported {
                    entity: <U::Entity as Entity>::ENTITY_TYPE,
                    operation: "a transaction's update of a unique attribute",
                });
            }
            Err(e) => return self.refuse(e),
        }
        let mut expr = Expr::default();
        match spec.expression::<U::Entity>(&mut expr) {
            Ok((update, cond)) => self.update_item(
                format!("update {}", <U::Entity as Entity>::ENTITY_TYPE),
                key,
                update,
                Some(cond),
                expr,
            ),
            Err(e) => self.refuse(e),
        }
    }

    fn update_item(
        mut self,
        label: String,
        key: Item,
        update: String,
        condition: Option<String>,
        expr: Expr,
    ) -> Self {
        let (names, values) = expr.into_maps();
        let up = ::aws_sdk_dynamodb::types::Update::builder()
            .table_name(self.db.table_name())
            .set_key(Some(key))
            .update_expression(update)
            .set_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build();
        let item = up.map(|u| {
            ::aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .update(u)
                .build()
        });
        self.push(label, item);
        self
    }

    /// Keeps the first error found while adding actions; `send` returns it without
    /// sending anything.
    fn refuse(mut self, e: Error) -> Self {
        self.refused.get_or_insert(e);
        self
    }

    /// Deletes an item (no error if it is absent). An entity with unique constraints is
    /// deleted with [`Transaction::delete_value`], which knows the guards to release.
    pub fn delete<K: EntityKey>(self, key: &K) -> Self {
        self.delete_by_key(key, false)
    }

    /// Deletes an item that must exist: the transaction is cancelled (the action's code
    /// `ConditionalCheckFailed`) if it does not.
    pub fn delete_existing<K: EntityKey>(self, key: &K) -> Self {
        self.delete_by_key(key, true)
    }

    fn delete_by_key<K: EntityKey>(mut self, key: &K, existing: bool) -> Self {
        if K::GUARDED {
            return self.refuse(Error::UniqueGuardsUnsupported {
                entity: K::ENTITY_TYPE,
                operation: "a transaction's delete by key",
            });
        }
        let key = match crate::entity::key_item(key) {
            Ok(key) => key,
            Err(e) => return self.refuse(e),
        };
        let mut del = ::aws_sdk_dynamodb::types::Delete::builder()
            .table_name(self.db.table_name())
            .set_key(Some(key));
        if existing {
            let mut expr = Expr::default();
            let pk = expr.name(self.db.design().partition_key);
            del = del
                .condition_expression(format!("attribute_exists({pk})"))
                .set_expression_attribute_names(expr.into_maps().0);
        }
        let item = del.build().map(|d| {
            ::aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .delete(d)
                .build()
        });
        self.push(format!("delete {}", K::ENTITY_TYPE), item);
        self
    }

    /// Deletes the item `value` was read as, releasing the guards of its unique values: the
    /// action fails (cancelling the transaction) unless the stored item still holds those
    /// values.
    pub fn delete_value<E: Entity>(mut self, value: &E) -> Self {
        let item = match item_of(value) {
            Ok(item) => item,
            Err(e) => return self.refuse(e),
        };
        let mut expr = Expr::default();
        let mut parts = vec![format!(
            "attribute_exists({})",
            expr.name(E::DESIGN.partition_key)
        )];
        parts.extend(unchanged_since(&mut expr, E::UNIQUE, &item));
        let (names, values) = expr.into_maps();
        let del = ::aws_sdk_dynamodb::types::Delete::builder()
            .table_name(self.db.table_name())
            .set_key(Some(value.key_item()))
            .condition_expression(parts.join(" AND "))
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build();
        let action = del.map(|d| {
            ::aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .delete(d)
                .build()
        });
        self.push(format!("delete {}", E::ENTITY_TYPE), action);
        self.guards::<E>(&item, false)
    }

    /// Requires an item to exist (`true`) or not (`false`) for the transaction to apply.
    pub fn condition_check<K: EntityKey>(mut self, key: &K, exists: bool) -> Self {
        let key = match crate::entity::key_item(key) {
            Ok(key) => key,
            Err(e) => return self.refuse(e),
        };
        let mut expr = Expr::default();
        let pk = expr.name(self.db.design().partition_key);
        let cond = if exists {
            format!("attribute_exists({pk})")
        } else {
            format!("attribute_not_exists({pk})")
        };
        let check = ::aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(self.db.table_name())
            .set_key(Some(key))
            .condition_expression(cond)
            .set_expression_attribute_names(expr.into_maps().0)
            .build();
        let item = check.map(|c| {
            ::aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .condition_check(c)
                .build()
        });
        self.push(format!("condition check {}", K::ENTITY_TYPE), item);
        self
    }

    /// The number of actions so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// Whether no action was added.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Applies every action or none; a cancellation names each failed action.
    pub async fn send(self) -> Result<(), Error> {
        let op = crate::trace::OpInfo::new("transaction", self.db.table_name(), "");
        crate::trace::traced(op, self.send_untraced()).await
    }

    async fn send_untraced(self) -> Result<(), Error> {
        if let Some(e) = self.refused {
            return Err(e);
        }
        use ::aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        let res = self
            .db
            .client()
            .transact_write_items()
            .set_transact_items(Some(self.items))
            .set_return_consumed_capacity(crate::trace::capacity_mode())
            .send()
            .await;
        match res {
            Ok(out) => {
                crate::trace::consumed(out.consumed_capacity());
                Ok(())
            }
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    let taken = c
                        .cancellation_reasons()
                        .iter()
                        .zip(&self.claims)
                        .find(|(r, claim)| {
                            claim.is_some() && r.code() == Some("ConditionalCheckFailed")
                        })
                        .and_then(|(_, claim)| *claim);
                    if let Some((entity, u)) = taken {
                        return Err(Error::UniqueViolation {
                            entity,
                            constraint: u.name,
                            attributes: u.attributes,
                        });
                    }
                    let reasons = c
                        .cancellation_reasons()
                        .iter()
                        .enumerate()
                        .map(|(index, r)| CancellationReason {
                            index,
                            action: self.labels.get(index).cloned().unwrap_or_default(),
                            code: r.code().filter(|c| *c != "None").map(str::to_string),
                            message: r.message().map(str::to_string),
                        })
                        .collect();
                    Err(Error::TransactionCanceled { reasons })
                }
                _ => Err(crate::deliver::transaction_failed(
                    e,
                    self.labels.join(", "),
                )),
            },
        }
    }
}

/// Removes the two items of a link: sends `checked` (their deletes, each requiring its
/// item) and reports `true`. When it is cancelled only because an item was missing, the
/// link did not exist whole: `fallback` (the same deletes, unconditional) removes any half
/// another writer left, and the answer is `false`. The SDK resends a transaction with its
/// idempotency token, so a resent `checked` that had applied still reports `true`.
pub async fn unlink(checked: Transaction<'_>, fallback: Transaction<'_>) -> Result<bool, Error> {
    match checked.send().await {
        Ok(()) => Ok(true),
        Err(Error::TransactionCanceled { reasons }) if only_missing(&reasons) => {
            fallback.send().await.map(|()| false)
        }
        Err(e) => Err(e),
    }
}

/// Whether every failed action of a cancelled transaction failed its condition.
fn only_missing(reasons: &[CancellationReason]) -> bool {
    let mut failed = reasons.iter().filter_map(|r| r.code.as_deref()).peekable();
    failed.peek().is_some() && failed.all(|c| c == "ConditionalCheckFailed")
}
