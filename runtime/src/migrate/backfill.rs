//! Backfills: the key attributes of a new index written onto items that existed before
//! it, rendered from the index's templates with the runtime's key encoder.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::common::{Keys, MigrateError, settled};
use super::model::{Backfill, BackfillEntity, DerivedKey};
use crate::key::{
    Format, KeyPart, fits_padded, push_escaped, push_padded, push_year, raw_refusal,
    render_template,
};
use crate::stored_time::TimestampForm;
use crate::value::{Date, HasYear, Timestamp};

/// Renders a key template from an item's attributes, with the same encoding as the
/// generated code. `None` when an input is absent (the item stays out of a sparse index)
/// or unusable (never write an empty or mistyped key).
pub fn render(key: &DerivedKey, item: &HashMap<String, AttributeValue>) -> Option<AttributeValue> {
    let out = render_template(&key.template, |name, format, out| {
        let ty = key.inputs.get(name)?;
        push_stored(out, ty, item.get(name)?, format)
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
/// read (or write: a number too wide for its padding) never becomes a key.
fn push_stored(out: &mut String, ty: &str, value: &AttributeValue, format: Format) -> Option<()> {
    let year = format == Format::Year;
    match (ty, value) {
        ("string" | "enum", AttributeValue::S(s)) if format == Format::Value => {
            push_escaped(out, s)
        }
        // Stored raw, as writes store it: a value holding the delimiter never became a key.
        ("string" | "enum", AttributeValue::S(s)) if format == Format::Raw => {
            if raw_refusal(s).is_some() {
                return None;
            }
            out.push_str(s)
        }
        ("date", AttributeValue::S(s)) => push_dated(out, &Date::parse(s)?, year),
        ("timestamp", AttributeValue::S(s)) => push_dated(out, &Timestamp::parse(s)?, year),
        // Stored as an epoch number (or, by another writer, as text): read as generated
        // code reads it, then rendered as every timestamp in a key is.
        ("timestamp:epoch_seconds", v) => {
            push_dated(out, &TimestampForm::EpochSeconds.from_av(v).ok()?, year)
        }
        ("timestamp:epoch_millis", v) => {
            push_dated(out, &TimestampForm::EpochMillis.from_av(v).ok()?, year)
        }
        ("integer", AttributeValue::N(n)) => {
            let n = n.parse::<i64>().ok()?;
            match format {
                Format::Value => n.push_key(out),
                Format::Padded(width) => {
                    fits_padded(n, width).ok()?;
                    push_padded(out, &n, width)
                }
                Format::Year | Format::Raw => return None,
            }
        }
        ("bool", AttributeValue::Bool(b)) if format == Format::Value => b.push_key(out),
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

/// Writes a new index's key attributes onto one scanned item of a listed entity, with a
/// conditional update: only if the item still exists, is still that entity, and does not
/// have the attribute yet (so a rerun, or a write by new code meanwhile, is never
/// overwritten). `true` when the item was updated.
pub(super) async fn write_keys(
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
    let key = keys.key_of(item);
    if key.len() != 1 + usize::from(keys.sk.is_some()) {
        return Ok(false);
    }
    let mut req = client
        .update_item()
        .table_name(table)
        .set_key(Some(key))
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
    let res = req
        .update_expression(format!("SET {}", sets.join(", ")))
        .condition_expression(cond)
        .send()
        .await;
    settled(res)
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

    #[test]
    fn a_raw_placeholder_backfills_the_value_as_it_is_and_never_one_holding_the_delimiter() {
        let item = |v: &str| HashMap::from([("award".to_string(), AttributeValue::S(v.into()))]);
        assert_eq!(
            render(&key("a#{award:raw}"), &item("50%")),
            Some(AttributeValue::S("a#50%".into()))
        );
        assert_eq!(
            render(&key("a#{award}"), &item("50%")),
            Some(AttributeValue::S("a#50%25".into()))
        );
        // Writes refuse such a value, so no backfill may make it a key either.
        assert_eq!(render(&key("a#{award:raw}"), &item("x#y")), None);
    }

    #[test]
    fn an_epoch_timestamp_backfills_as_the_text_generated_code_renders() {
        let key = |ty: &str| DerivedKey {
            attribute: "gsi4pk".into(),
            template: "seen#{at:year}#{at}".into(),
            numeric: false,
            inputs: [("at".to_string(), ty.to_string())].into(),
        };
        let item = |v: AttributeValue| HashMap::from([("at".to_string(), v)]);
        let want = Some(AttributeValue::S(
            "seen#2024#2024-02-29T12:00:00.000Z".into(),
        ));
        let millis = AttributeValue::N("1709208000000".into());
        assert_eq!(
            render(&key("timestamp:epoch_millis"), &item(millis.clone())),
            want
        );
        let secs = AttributeValue::N("1709208000".into());
        assert_eq!(render(&key("timestamp:epoch_seconds"), &item(secs)), want);
        // Text another writer stored is read too; a number under a text timestamp is not.
        let text = AttributeValue::S("2024-02-29T13:00:00+01:00".into());
        assert_eq!(render(&key("timestamp:epoch_millis"), &item(text)), want);
        assert_eq!(render(&key("timestamp"), &item(millis)), None);
    }
}
