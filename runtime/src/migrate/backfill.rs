//! Backfills: the key attributes of a new index written onto items that existed before
//! it, rendered from the index's templates with the runtime's key encoder.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::common::{Keys, MigrateError, Options, sdk, seq};
use super::lease::Lease;
use super::model::{Backfill, BackfillEntity, DerivedKey, Migration};
use crate::key::{KeyPart, push_escaped, push_year, render_template};
use crate::value::{Date, HasYear, Timestamp};

/// Renders a key template from an item's attributes, with the same encoding as the
/// generated code. `None` when an input is absent (the item stays out of a sparse index)
/// or unusable (never write an empty or mistyped key).
pub fn render(key: &DerivedKey, item: &HashMap<String, AttributeValue>) -> Option<AttributeValue> {
    let out = render_template(&key.template, |name, year, out| {
        let ty = key.inputs.get(name)?;
        push_stored(out, ty, item.get(name)?, year)
    })?;
    if key.numeric {
        Some(AttributeValue::N(out))
    } else if out.is_empty() {
        // As on every write path: an empty key string leaves the item out of the index.
        None
    } else {
        Some(AttributeValue::S(out))
    }
}

/// Pushes a stored value in its key form, exactly as generated code encodes the Rust value
/// it reads back: the stored value is decoded first, so a value generated code could not
/// read never becomes a key.
fn push_stored(out: &mut String, ty: &str, value: &AttributeValue, year: bool) -> Option<()> {
    match (ty, value) {
        ("string" | "enum", AttributeValue::S(s)) if !year => push_escaped(out, s),
        ("date", AttributeValue::S(s)) => push_dated(out, &Date::parse(s)?, year),
        ("timestamp", AttributeValue::S(s)) => push_dated(out, &Timestamp::parse(s)?, year),
        ("integer", AttributeValue::N(n)) if !year => n.parse::<i64>().ok()?.push_key(out),
        ("bool", AttributeValue::Bool(b)) if !year => b.push_key(out),
        _ => return None,
    }
    Some(())
}

fn push_dated(out: &mut String, value: &(impl KeyPart + HasYear), year: bool) {
    if year {
        push_year(out, value)
    } else {
        value.push_key(out)
    }
}

/// Scans the table (in parallel segments), and for each item of a listed entity writes the
/// new key attributes with a conditional update: only if the item still exists, is still
/// that entity, and does not have the attribute yet (so a rerun, or a write by new code
/// meanwhile, is never overwritten). Progress is checkpointed per page, so a crashed run
/// resumes where it stopped.
pub(super) async fn backfill(
    client: &Client,
    table: &str,
    keys: &Keys,
    m: &Migration,
    b: &Backfill,
    options: &Options,
    lease: &Lease,
) -> Result<u64, MigrateError> {
    backfill_as(client, table, keys, &m.name, b, options, lease).await
}

/// A backfill whose checkpoints are kept under `run` (the migration's name for its own
/// run; another name for a catch-up rerun, which must not resume a finished pass).
#[allow(clippy::too_many_arguments)]
pub(super) async fn backfill_as(
    client: &Client,
    table: &str,
    keys: &Keys,
    run: &str,
    b: &Backfill,
    options: &Options,
    lease: &Lease,
) -> Result<u64, MigrateError> {
    let segments = options.segments.max(1);
    let futures: Vec<_> = (0..segments)
        .map(|s| {
            ::std::boxed::Box::pin(backfill_segment(
                client, table, keys, run, b, options, lease, s, segments,
            ))
        })
        .collect();
    let mut total = 0;
    for r in join_all(futures).await {
        total += r?;
    }
    Ok(total)
}

#[allow(clippy::too_many_arguments)]
async fn backfill_segment(
    client: &Client,
    table: &str,
    keys: &Keys,
    run: &str,
    b: &Backfill,
    options: &Options,
    lease: &Lease,
    segment: u32,
    segments: u32,
) -> Result<u64, MigrateError> {
    let checkpoint_key = keys.checkpoint(run, seq(run), segment);
    let saved = client
        .get_item()
        .table_name(table)
        .set_key(Some(checkpoint_key.clone()))
        .consistent_read(true)
        .send()
        .await
        .map_err(sdk)?;
    if saved.item().and_then(|i| i.get("done")).is_some() {
        return Ok(0);
    }
    let mut start: Option<HashMap<String, AttributeValue>> = saved
        .item()
        .and_then(|i| i.get("lastKey"))
        .and_then(|v| v.as_m().ok())
        .cloned();
    let mut updated = 0u64;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .segment(segment as i32)
            .total_segments(segments as i32)
            .consistent_read(true)
            .set_limit(options.page_size)
            .set_exclusive_start_key(start.clone())
            .send()
            .await
            .map_err(sdk)?;
        for item in page.items() {
            let Some(kind) = item.get(&b.type_attribute).and_then(|v| v.as_s().ok()) else {
                continue;
            };
            let Some(entity) = b.entities.iter().find(|e| &e.entity == kind) else {
                continue;
            };
            if write_keys(client, table, keys, b, entity, item).await? {
                updated += 1;
            }
        }
        start = page.last_evaluated_key().cloned();
        let mut cp = checkpoint_key.clone();
        match &start {
            Some(k) => cp.insert("lastKey".into(), AttributeValue::M(k.clone())),
            None => cp.insert("done".into(), AttributeValue::Bool(true)),
        };
        // Fenced: a runner that lost the lock must not move the shared checkpoint.
        lease.put_fenced(client, table, keys, cp, false).await?;
        if let Some(p) = &options.progress {
            p(run, updated);
        }
        if start.is_none() {
            return Ok(updated);
        }
        lease.renew(client, table, keys, options).await?;
    }
}

async fn write_keys(
    client: &Client,
    table: &str,
    keys: &Keys,
    b: &Backfill,
    entity: &BackfillEntity,
    item: &HashMap<String, AttributeValue>,
) -> Result<bool, MigrateError> {
    let mut values = Vec::new();
    for k in &entity.set {
        match render(k, item) {
            Some(v) => values.push((k.attribute.as_str(), v)),
            // A sparse member without its inputs stays out of the index.
            None => return Ok(false),
        }
    }
    let (Some(pk), Some(sk)) = (item.get(&keys.pk.name), item.get(&keys.sk.name)) else {
        return Ok(false);
    };
    let mut req = client
        .update_item()
        .table_name(table)
        .key(&keys.pk.name, pk.clone())
        .key(&keys.sk.name, sk.clone())
        .expression_attribute_names("#pk", &keys.pk.name)
        .expression_attribute_names("#t", &b.type_attribute)
        .expression_attribute_values(":t", AttributeValue::S(entity.entity.clone()));
    let mut sets = Vec::new();
    for (i, (attr, v)) in values.into_iter().enumerate() {
        req = req
            .expression_attribute_names(format!("#k{i}"), attr)
            .expression_attribute_values(format!(":k{i}"), v);
        sets.push(format!("#k{i} = :k{i}"));
    }
    let cond = "attribute_exists(#pk) AND #t = :t AND attribute_not_exists(#k0)";
    match req
        .update_expression(format!("SET {}", sets.join(", ")))
        .condition_expression(cond)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(sdk(e)),
    }
}

/// Polls several futures to completion on the current task (no runtime needed).
async fn join_all<F: ::core::future::Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut results: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    ::core::future::poll_fn(move |cx| {
        let mut pending = false;
        for (i, f) in futures.iter_mut().enumerate() {
            if results[i].is_none() {
                match ::core::pin::Pin::new(f).poll(cx) {
                    ::core::task::Poll::Ready(v) => results[i] = Some(v),
                    ::core::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            ::core::task::Poll::Pending
        } else {
            ::core::task::Poll::Ready(
                results
                    .iter_mut()
                    .map(|r| r.take().expect("every future finished"))
                    .collect(),
            )
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(template: &str) -> DerivedKey {
        DerivedKey {
            attribute: "gsi4pk".into(),
            template: template.into(),
            numeric: false,
            inputs: [("award".to_string(), "string".to_string())].into(),
        }
    }

    #[test]
    fn an_empty_whole_value_key_is_not_rendered() {
        let item = |v: &str| HashMap::from([("award".to_string(), AttributeValue::S(v.into()))]);
        assert_eq!(render(&key("{award}"), &item("")), None);
        assert_eq!(
            render(&key("{award}"), &item("gold")),
            Some(AttributeValue::S("gold".into()))
        );
        // A literal around an empty value is a key like any other.
        assert_eq!(
            render(&key("award#{award}"), &item("")),
            Some(AttributeValue::S("award#".into()))
        );
    }
}
