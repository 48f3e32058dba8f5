//! The ledger: which migrations the table records as applied, with their checksums. In a
//! table with a sort key, one item per migration in the `#dyngen#migrations` partition
//! (read with one Query); in a table with a partition key only, one item whose attributes
//! `migration:<name>` hold the checksums (read with one GetItem). Writes are fenced by the
//! lock and never overwrite an entry.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::common::{Keys, MigrateError, now_millis, sdk, seq};
use super::lease::Lease;
use super::model::Migration;

/// Prefix of the single ledger item's attributes, one per applied migration.
const ENTRY: &str = "migration:";

/// Whether a failed read means "the table does not exist".
fn missing_table<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

/// The applied migrations recorded in the table, in name order: name → checksum. `None`
/// if the table does not exist.
pub(super) async fn applied(
    client: &Client,
    table: &str,
    keys: &Keys,
) -> Result<Option<Vec<(String, String)>>, MigrateError> {
    let mut out = match keys.sk {
        Some(_) => match ledger_items(client, table, keys).await? {
            Some(items) => items,
            None => return Ok(None),
        },
        None => match single_item(client, table, keys).await? {
            Some(item) => entries(&item),
            None => return Ok(None),
        },
    };
    out.sort();
    Ok(Some(out))
}

async fn ledger_items(
    client: &Client,
    table: &str,
    keys: &Keys,
) -> Result<Option<Vec<(String, String)>>, MigrateError> {
    let text = |item: &HashMap<String, AttributeValue>, k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let res = client
            .query()
            .table_name(table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", &keys.pk.name)
            .expression_attribute_values(":pk", Keys::value(&keys.pk, "#dyngen#migrations", -1))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await;
        let page = match res {
            Ok(p) => p,
            Err(e) if e.as_service_error().is_some_and(missing_table) => return Ok(None),
            Err(e) => return Err(sdk(e)),
        };
        for item in page.items() {
            out.push((text(item, "migration"), text(item, "checksum")));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(Some(out));
        }
    }
}

/// The single ledger item of a table with a partition key only (`Some(empty)` when the
/// table exists without one).
async fn single_item(
    client: &Client,
    table: &str,
    keys: &Keys,
) -> Result<Option<HashMap<String, AttributeValue>>, MigrateError> {
    let res = client
        .get_item()
        .table_name(table)
        .set_key(Some(keys.ledger_item()))
        .consistent_read(true)
        .send()
        .await;
    match res {
        Ok(out) => Ok(Some(out.item().cloned().unwrap_or_default())),
        Err(e) if e.as_service_error().is_some_and(missing_table) => Ok(None),
        Err(e) => Err(sdk(e)),
    }
}

fn entries(item: &HashMap<String, AttributeValue>) -> Vec<(String, String)> {
    item.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(ENTRY)?.to_string(), v.as_s().ok()?.clone())))
        .collect()
}

/// Records `m` as applied, fenced by the lock; an entry already there is an error (another
/// runner applied it).
pub(super) async fn record(
    client: &Client,
    table: &str,
    keys: &Keys,
    m: &Migration,
    lease: &Lease,
) -> Result<(), MigrateError> {
    if keys.sk.is_some() {
        let mut item = keys.ledger(seq(&m.name), &m.name);
        item.insert("migration".into(), AttributeValue::S(m.name.clone()));
        item.insert("checksum".into(), AttributeValue::S(m.checksum.clone()));
        item.insert(
            "appliedAt".into(),
            AttributeValue::N(now_millis().to_string()),
        );
        return lease.put_fenced(client, table, keys, item, true).await;
    }
    use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(keys.ledger_item()))
        .update_expression("SET #m = :c")
        .condition_expression("attribute_not_exists(#m)")
        .expression_attribute_names("#m", format!("{ENTRY}{}", m.name))
        .expression_attribute_values(":c", AttributeValue::S(m.checksum.clone()))
        .build()
        .map_err(sdk)?;
    let write = TransactWriteItem::builder().update(update).build();
    lease.fenced(client, table, keys, write).await
}
