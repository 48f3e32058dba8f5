//! Batches: reads of up to 100 keys and writes of up to 25 requests per call, with the
//! unprocessed remainder retried.

use aws_sdk_dynamodb::types::WriteRequest;

use crate::entity::{Entity, EntityKey};
use crate::error::{Error, sdk};
use crate::item::Item;
use crate::table::Table;
use crate::write::as_created;

/// Reads items by key in requests of at most 100 keys, retrying unprocessed keys, and
/// keeping every item already read. Order is not preserved; missing keys are skipped.
pub async fn batch_get(db: &Table, keys: Vec<Item>, consistent: bool) -> Result<Vec<Item>, Error> {
    use ::aws_sdk_dynamodb::types::KeysAndAttributes;
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        let mut pending: Vec<Item> = chunk.to_vec();
        let mut attempt = 0;
        while !pending.is_empty() {
            if attempt > 0 {
                if attempt >= db.batch_retry().max_attempts {
                    return Err(Error::BatchIncomplete {
                        unprocessed_keys: pending,
                        unprocessed_writes: Vec::new(),
                    });
                }
                db.backoff(attempt).await;
            }
            attempt += 1;
            let req = KeysAndAttributes::builder()
                .set_keys(Some(::std::mem::take(&mut pending)))
                .consistent_read(consistent)
                .build()
                .map_err(sdk)?;
            let mut out = db
                .client()
                .batch_get_item()
                .request_items(db.table_name(), req)
                .set_return_consumed_capacity(crate::trace::capacity_mode())
                .send()
                .await
                .map_err(sdk)?;
            crate::trace::consumed(out.consumed_capacity());
            if let Some(mut responses) = out.responses.take() {
                found.extend(responses.remove(db.table_name()).unwrap_or_default());
            }
            if let Some(mut unprocessed) = out.unprocessed_keys.take() {
                pending = unprocessed
                    .remove(db.table_name())
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
        }
    }
    Ok(found)
}

/// Puts and deletes for [`Table::batch_write`].
pub struct BatchWrite<'a> {
    db: &'a Table,
    requests: Vec<WriteRequest>,
    /// A put that could not be built (a value DynamoDB would reject).
    refused: Option<Error>,
}

impl Table {
    /// Writes puts and deletes of any entities in batches of 25, retrying unprocessed
    /// requests. Puts replace whole items and take no conditions (DynamoDB's rule).
    pub fn batch_write(&self) -> BatchWrite<'_> {
        BatchWrite {
            db: self,
            requests: Vec::new(),
            refused: None,
        }
    }
}

impl BatchWrite<'_> {
    /// Writes a whole item as a create would: timestamps stamped now, version 1. DynamoDB
    /// batches take no conditions, so an existing item is replaced whole, creation time and
    /// version included: use batches for new items and bulk loads, and `put` or a
    /// transaction where an item may exist.
    pub fn put<E: Entity>(mut self, value: &E) -> Self {
        if !E::UNIQUE.is_empty() {
            self.refused.get_or_insert(Error::UniqueGuardsUnsupported {
                entity: E::ENTITY_TYPE,
                operation: "a batch put",
            });
            return self;
        }
        let item = match as_created(value) {
            Ok((_, item)) => item,
            Err(e) => {
                self.refused.get_or_insert(e);
                return self;
            }
        };
        let put = ::aws_sdk_dynamodb::types::PutRequest::builder()
            .set_item(Some(item))
            .build();
        if let Ok(put) = put {
            self.requests
                .push(WriteRequest::builder().put_request(put).build());
        }
        self
    }
    /// Deletes an item (no error if it is absent).
    pub fn delete<K: EntityKey>(mut self, key: &K) -> Self {
        if K::GUARDED {
            self.refused.get_or_insert(Error::UniqueGuardsUnsupported {
                entity: K::ENTITY_TYPE,
                operation: "a batch delete",
            });
            return self;
        }
        let key = match crate::entity::key_item(key) {
            Ok(key) => key,
            Err(e) => {
                self.refused.get_or_insert(e);
                return self;
            }
        };
        let del = ::aws_sdk_dynamodb::types::DeleteRequest::builder()
            .set_key(Some(key))
            .build();
        if let Ok(del) = del {
            self.requests
                .push(WriteRequest::builder().delete_request(del).build());
        }
        self
    }
    pub fn len(&self) -> usize {
        self.requests.len()
    }
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }
    /// Sends the requests in batches of 25; unprocessed ones are retried with backoff.
    pub async fn send(self) -> Result<(), Error> {
        let op = crate::trace::OpInfo::new("batch_write", self.db.table_name(), "");
        crate::trace::traced(op, self.send_untraced()).await
    }

    async fn send_untraced(self) -> Result<(), Error> {
        if let Some(e) = self.refused {
            return Err(e);
        }
        let db = self.db;
        let mut failed = Vec::new();
        let mut written = Vec::new();
        let mut requests = self.requests.into_iter();
        loop {
            // The requests are moved into each batch of 25; the copy kept says what was
            // written if a later request fails.
            let mut pending: Vec<WriteRequest> = requests.by_ref().take(25).collect();
            if pending.is_empty() {
                break;
            }
            let mut attempt = 0;
            while !pending.is_empty() {
                if attempt > 0 {
                    if attempt >= db.batch_retry().max_attempts {
                        failed.append(&mut pending);
                        break;
                    }
                    db.backoff(attempt).await;
                }
                attempt += 1;
                let sent = pending.clone();
                let res = db
                    .client()
                    .batch_write_item()
                    .request_items(db.table_name(), ::std::mem::take(&mut pending))
                    .set_return_consumed_capacity(crate::trace::capacity_mode())
                    .send()
                    .await;
                let out = match res {
                    Ok(out) => out,
                    Err(e) => return Err(interrupted(e, written, sent, requests.collect())),
                };
                crate::trace::consumed(out.consumed_capacity());
                if let Some(mut unprocessed) = out.unprocessed_items {
                    pending = unprocessed.remove(db.table_name()).unwrap_or_default();
                }
                written.extend(sent.into_iter().filter(|r| !pending.contains(r)));
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(Error::BatchIncomplete {
                unprocessed_keys: Vec::new(),
                unprocessed_writes: failed,
            })
        }
    }
}

/// A batch stopped by a failed request: the SDK's error if nothing was written and the
/// request surely was not, else [`Error::BatchInterrupted`] with what was written, what
/// may have been, and what was never sent.
fn interrupted(
    e: ::aws_sdk_dynamodb::error::SdkError<
        ::aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemError,
        ::aws_sdk_dynamodb::config::http::HttpResponse,
    >,
    written: Vec<WriteRequest>,
    sent: Vec<WriteRequest>,
    unsent: Vec<WriteRequest>,
) -> Error {
    let lost = crate::deliver::answer_lost(&e);
    if written.is_empty() && !lost {
        return sdk(e);
    }
    let (uncertain, unsent) = if lost {
        (sent, unsent)
    } else {
        (Vec::new(), sent.into_iter().chain(unsent).collect())
    };
    Error::BatchInterrupted {
        written,
        uncertain,
        unsent,
        cause: Box::new(e.into()),
    }
}
