//! Backfills: the key attributes of an index made what the index's templates derive from
//! each item's stored values, with the runtime's key encoder. The first pass writes them
//! onto items that existed before the index; a catch-up pass (`rerun`) also repairs keys
//! that old code left stale (it changed an input without knowing the index) and removes
//! keys whose inputs were removed. Every write is conditional on the inputs it read.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::common::{Keys, MigrateError, read_item, settled};
use super::model::{Backfill, BackfillEntity, DerivedKey};
use super::work::{ATTEMPTS, Outcome};
use crate::key::{
    Format, KeyPart, fits_padded, push_escaped, push_padded, push_year, raw_refusal,
    render_template,
};
use crate::stored_time::TimestampForm;
use crate::value::{Date, HasYear, Timestamp};

/// What one derived key attribute of an item should hold, from the item's stored values.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Derived {
    /// The key, rendered as the generated code renders it.
    Key(AttributeValue),
    /// An input is absent (or the whole-value key is empty): the item stays out of the
    /// index, as on every write path.
    Absent,
    /// An input holds a value the generated code could not have written (a mistyped value,
    /// a number too wide for its padding, a raw value holding the delimiter).
    Unusable,
}

/// Derives one key attribute from an item's attributes, with the same encoding as the
/// generated code.
pub(super) fn derive(key: &DerivedKey, item: &HashMap<String, AttributeValue>) -> Derived {
    let mut absent = false;
    let out = render_template(&key.template, |name, format, out| {
        let ty = key.inputs.get(name)?;
        match item.get(name) {
            None | Some(AttributeValue::Null(_)) => {
                absent = true;
                None
            }
            Some(v) => push_stored(out, ty, v, format),
        }
    });
    match out {
        None if absent => Derived::Absent,
        None => Derived::Unusable,
        Some(n) if key.numeric => Derived::Key(AttributeValue::N(n)),
        Some(s) if s.is_empty() => Derived::Absent,
        Some(s) => Derived::Key(AttributeValue::S(s)),
    }
}

/// Renders a key template from an item's attributes, with the same encoding as the
/// generated code. `None` when an input is absent (the item stays out of a sparse index)
/// or unusable (never write an empty or mistyped key).
pub fn render(key: &DerivedKey, item: &HashMap<String, AttributeValue>) -> Option<AttributeValue> {
    match derive(key, item) {
        Derived::Key(v) => Some(v),
        Derived::Absent | Derived::Unusable => None,
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

/// The value each derived attribute of an item should hold (`None`: absent), or `None`
/// when an input is unusable and the item is left as it is.
fn wanted<'a>(
    entity: &'a BackfillEntity,
    item: &HashMap<String, AttributeValue>,
) -> Option<Vec<(&'a str, Option<AttributeValue>)>> {
    let derived: Vec<Derived> = entity.set.iter().map(|k| derive(k, item)).collect();
    if derived.contains(&Derived::Unusable) {
        return None;
    }
    // An index's key attributes come as a set: one absent input keeps the item out of the
    // index, so none of them is written.
    let in_index = !derived.contains(&Derived::Absent);
    let values = entity.set.iter().zip(derived).map(|(k, d)| {
        let value = match d {
            Derived::Key(v) if in_index => Some(v),
            _ => None,
        };
        (k.attribute.as_str(), value)
    });
    Some(values.collect())
}

/// Whether the item belongs to the entity (its type attribute names it).
fn is_entity(
    b: &Backfill,
    entity: &BackfillEntity,
    item: &HashMap<String, AttributeValue>,
) -> bool {
    item.get(&b.type_attribute).and_then(|v| v.as_s().ok()) == Some(&entity.entity)
}

/// Makes one scanned item's derived key attributes what its stored values say: written
/// when missing, rewritten when stale, removed when an input is gone. The write holds
/// only if the inputs are still what was read, so a concurrent write wins; the item is
/// then read again and judged again, and a deleted item is never written back.
pub(super) async fn repair_keys(
    client: &Client,
    table: &str,
    keys: &Keys,
    b: &Backfill,
    entity: &BackfillEntity,
    item: &HashMap<String, AttributeValue>,
) -> Result<Outcome, MigrateError> {
    let mut item = Cow::Borrowed(item);
    for _ in 0..ATTEMPTS {
        if !is_entity(b, entity, &item) {
            return Ok(Outcome::Skipped);
        }
        let Some(wanted) = wanted(entity, &item) else {
            return Ok(Outcome::Skipped);
        };
        let changes: Vec<_> = wanted
            .into_iter()
            .filter(|(attr, v)| item.get(*attr) != v.as_ref())
            .collect();
        if changes.is_empty() {
            return Ok(Outcome::Unchanged);
        }
        let key = keys.key_of(&item);
        if key.len() != 1 + usize::from(keys.sk.is_some()) {
            return Ok(Outcome::Skipped);
        }
        if write_changes(client, table, keys, b, entity, &item, &changes).await? {
            return Ok(Outcome::Changed);
        }
        match read_item(client, table, key).await? {
            Some(fresh) => item = Cow::Owned(fresh),
            None => return Ok(Outcome::Skipped),
        }
    }
    // Changing faster than the pass can follow: whoever writes it is alive; a later
    // catch-up finds it again.
    Ok(Outcome::Skipped)
}

/// One conditional UpdateItem: SET or REMOVE each changed attribute, only if the item
/// exists, is still the entity, and every input of its keys and every attribute it changes
/// holds the value read. The second half makes one repair of a value count once: another
/// worker repairing the same item first fails this one, which reads again and finds
/// nothing to change. The same holds for a write the SDK resends after its answer was
/// lost: the resent one fails, and the item counts as checked, not repaired (the counts are
/// of writes seen to apply; the keys are right either way).
async fn write_changes(
    client: &Client,
    table: &str,
    keys: &Keys,
    b: &Backfill,
    entity: &BackfillEntity,
    item: &HashMap<String, AttributeValue>,
    changes: &[(&str, Option<AttributeValue>)],
) -> Result<bool, MigrateError> {
    let mut req = client
        .update_item()
        .table_name(table)
        .set_key(Some(keys.key_of(item)))
        .expression_attribute_names("#pk", &keys.pk.name)
        .expression_attribute_names("#t", &b.type_attribute)
        .expression_attribute_values(":t", AttributeValue::S(entity.entity.clone()));
    let (mut sets, mut removes) = (Vec::new(), Vec::new());
    for (i, (attr, v)) in changes.iter().enumerate() {
        req = req.expression_attribute_names(format!("#k{i}"), *attr);
        match v {
            Some(v) => {
                req = req.expression_attribute_values(format!(":k{i}"), v.clone());
                sets.push(format!("#k{i} = :k{i}"));
            }
            None => removes.push(format!("#k{i}")),
        }
    }
    let mut cond = "attribute_exists(#pk) AND #t = :t".to_string();
    let inputs: BTreeSet<&String> = entity.set.iter().flat_map(|k| k.inputs.keys()).collect();
    let read = inputs
        .into_iter()
        .map(|name| ("i", name.as_str()))
        .chain(changes.iter().map(|(attr, _)| ("o", *attr)));
    for (j, (prefix, name)) in read.enumerate() {
        let (n, v) = (format!("#{prefix}{j}"), format!(":{prefix}{j}"));
        match item.get(name) {
            Some(value) => {
                cond.push_str(&format!(" AND {n} = {v}"));
                req = req.expression_attribute_values(v, value.clone());
            }
            None => cond.push_str(&format!(" AND attribute_not_exists({n})")),
        }
        req = req.expression_attribute_names(n, name);
    }
    let mut update = Vec::new();
    if !sets.is_empty() {
        update.push(format!("SET {}", sets.join(", ")));
    }
    if !removes.is_empty() {
        update.push(format!("REMOVE {}", removes.join(", ")));
    }
    let res = req
        .update_expression(update.join(" "))
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

    #[test]
    fn an_index_keys_are_all_set_all_removed_or_the_item_left_alone() {
        let derived = |attribute: &str, template: &str| DerivedKey {
            attribute: attribute.into(),
            template: template.into(),
            numeric: false,
            inputs: [("born", "date"), ("id", "string")]
                .into_iter()
                .filter(|(name, _)| template.contains(&format!("{{{name}")))
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
        };
        let entity = BackfillEntity {
            entity: "Person".into(),
            set: vec![
                derived("gsi2pk", "born#{born:year}"),
                derived("gsi2sk", "{born}#{id}"),
            ],
        };
        let s = |v: &str| AttributeValue::S(v.into());
        let item = |born: Option<AttributeValue>| {
            let mut item = HashMap::from([("id".to_string(), s("p1"))]);
            item.extend(born.map(|b| ("born".to_string(), b)));
            item
        };
        assert_eq!(
            wanted(&entity, &item(Some(s("1990-02-03")))),
            Some(vec![
                ("gsi2pk", Some(s("born#1990"))),
                ("gsi2sk", Some(s("1990-02-03#p1")))
            ])
        );
        // No date: out of the index, so neither key attribute (stale ones are removed).
        let out = Some(vec![("gsi2pk", None), ("gsi2sk", None)]);
        assert_eq!(wanted(&entity, &item(None)), out);
        assert_eq!(
            wanted(&entity, &item(Some(AttributeValue::Null(true)))),
            out
        );
        // A value generated code could not have written: left as it is.
        assert_eq!(wanted(&entity, &item(Some(s("not a date")))), None);
        assert_eq!(
            wanted(&entity, &item(Some(AttributeValue::N("1".into())))),
            None
        );
    }
}
