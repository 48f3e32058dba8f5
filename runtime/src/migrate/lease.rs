//! The lock: one item whose lease a runner takes with a conditional write and renews
//! while it works; a crashed runner's lease expires.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::common::{Keys, MigrateError, Options, condition_failures, now_millis, sdk, sleep};

pub(super) struct Lease {
    version: String,
    /// When the lease was last taken or renewed (as the request left).
    renewed: Mutex<Instant>,
}

/// The part of the lease after which a renewal is due: renewing at a third leaves two
/// thirds of the lease to absorb a slow or retried request.
pub(super) const RENEW_AFTER: u32 = 3;

impl Lease {
    /// One attempt at the lock (the `attempt`th of this runner): the lease, or the name of
    /// the runner holding it. The caller waits and helps between attempts (a future
    /// holding a closure over borrowed data would not be `Send`, and an application
    /// spawns its migration).
    pub(super) async fn try_acquire(
        client: &Client,
        table: &str,
        keys: &Keys,
        options: &Options,
        attempt: u32,
    ) -> Result<Result<Lease, String>, MigrateError> {
        let version = format!("{}#{attempt}", options.owner);
        let sent = Instant::now();
        Ok(
            match Lease::try_take(client, table, keys, options, &version).await? {
                None => Ok(Lease {
                    version,
                    renewed: Mutex::new(sent),
                }),
                Some(holder) => Err(holder),
            },
        )
    }

    /// The pause between two attempts at the lock.
    pub(super) async fn between_attempts(client: &Client, options: &Options) {
        sleep(client, options.poll.min(Duration::from_millis(500))).await;
    }

    /// One attempt: `None` when this runner now holds the lock, else the holder's name.
    async fn try_take(
        client: &Client,
        table: &str,
        keys: &Keys,
        options: &Options,
        version: &str,
    ) -> Result<Option<String>, MigrateError> {
        let now = now_millis();
        let mut item = keys.lock();
        item.insert("owner".into(), AttributeValue::S(options.owner.clone()));
        item.insert(
            "leaseVersion".into(),
            AttributeValue::S(version.to_string()),
        );
        item.insert(
            "leaseExpires".into(),
            AttributeValue::N((now + options.lease.as_millis() as i64).to_string()),
        );
        let res = client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #exp < :now")
            .expression_attribute_names("#pk", &keys.pk.name)
            .expression_attribute_names("#exp", "leaseExpires")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .return_values_on_condition_check_failure(
                ::aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match res {
            Ok(_) => Ok(None),
            Err(e) => match e.as_service_error() {
                Some(::aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c)) => Ok(Some(
                    c.item().and_then(|i| i.get("owner")).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default(),
                )),
                _ => Err(sdk(e)),
            },
        }
    }

    /// Renews the lease once a third of it has passed since it was last taken or renewed;
    /// sooner calls do nothing (the runner asks at every step, page and poll).
    pub(super) async fn renew(
        &self,
        client: &Client,
        table: &str,
        keys: &Keys,
        options: &Options,
    ) -> Result<(), MigrateError> {
        {
            // Claimed before the request leaves, so the workers of a pass that all find
            // the renewal due send one request, not one each.
            let mut last = self.renewed.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < options.lease / RENEW_AFTER {
                return Ok(());
            }
            *last = Instant::now();
        }
        client
            .update_item()
            .table_name(table)
            .set_key(Some(keys.lock()))
            .update_expression("SET #exp = :exp")
            .condition_expression("#ver = :ver")
            .expression_attribute_names("#exp", "leaseExpires")
            .expression_attribute_names("#ver", "leaseVersion")
            .expression_attribute_values(
                ":exp",
                AttributeValue::N((now_millis() + options.lease.as_millis() as i64).to_string()),
            )
            .expression_attribute_values(":ver", AttributeValue::S(self.version.clone()))
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception())
                {
                    MigrateError::LeaseLost
                } else {
                    sdk(e)
                }
            })?;
        Ok(())
    }

    pub(super) async fn release(
        &self,
        client: &Client,
        table: &str,
        keys: &Keys,
    ) -> Result<(), MigrateError> {
        let res = client
            .delete_item()
            .table_name(table)
            .set_key(Some(keys.lock()))
            .condition_expression("#ver = :ver")
            .expression_attribute_names("#ver", "leaseVersion")
            .expression_attribute_values(":ver", AttributeValue::S(self.version.clone()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            // Our lease expired and another runner took over: nothing of ours to release.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk(e)),
        }
    }
}

impl Lease {
    /// Writes `item` only while this runner still holds the lock (fencing): the write and
    /// a check of the lock's version are one transaction, so a runner whose lease lapsed
    /// and was taken over stops at its next ledger or checkpoint write instead of writing
    /// over the new holder's progress. `only_new` adds "the item does not exist yet".
    pub(super) async fn put_fenced(
        &self,
        client: &Client,
        table: &str,
        keys: &Keys,
        item: ::std::collections::HashMap<String, AttributeValue>,
        only_new: bool,
    ) -> Result<(), MigrateError> {
        use ::aws_sdk_dynamodb::types::{Put, TransactWriteItem};
        let mut put = Put::builder().table_name(table).set_item(Some(item));
        if only_new {
            put = put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", &keys.pk.name);
        }
        let write = TransactWriteItem::builder()
            .put(put.build().map_err(sdk)?)
            .build();
        self.fenced(client, table, keys, write).await
    }

    /// Makes `write` (a transaction action) only while this runner still holds the lock;
    /// a failed condition of `write` itself means another runner wrote first.
    pub(super) async fn fenced(
        &self,
        client: &Client,
        table: &str,
        keys: &Keys,
        write: ::aws_sdk_dynamodb::types::TransactWriteItem,
    ) -> Result<(), MigrateError> {
        use ::aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};
        let check = ConditionCheck::builder()
            .table_name(table)
            .set_key(Some(keys.lock()))
            .condition_expression("#ver = :ver")
            .expression_attribute_names("#ver", "leaseVersion")
            .expression_attribute_values(":ver", AttributeValue::S(self.version.clone()))
            .build()
            .map_err(sdk)?;
        let res = client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .transact_items(write)
            .send()
            .await;
        let Err(e) = res else { return Ok(()) };
        let failed = condition_failures(e)?;
        if failed[0] {
            return Err(MigrateError::LeaseLost);
        }
        if failed.get(1) == Some(&true) {
            return Err(MigrateError::Invalid(
                "the item was already written by another runner".into(),
            ));
        }
        Err(MigrateError::Invalid(
            "a fenced write was cancelled without a failed condition".into(),
        ))
    }
}

/// A lease this runner holds, for renewing during long waits (an index being built can
/// take hours): the lock must not lapse while the runner is still inside a migration.
pub(super) struct Held<'a> {
    pub lease: &'a Lease,
    pub keys: &'a Keys,
}

impl Held<'_> {
    pub(super) async fn renew(
        &self,
        client: &Client,
        table: &str,
        options: &Options,
    ) -> Result<(), MigrateError> {
        self.lease.renew(client, table, self.keys, options).await
    }
}
