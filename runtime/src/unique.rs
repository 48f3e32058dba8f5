//! Unique constraints. Each constrained value of an item has a guard item, keyed by the
//! value, that names its owner; the guard is written, moved and deleted in the same
//! transaction as the item, so two items never hold one value and a failed write leaves
//! both as they were. A value that is absent is not constrained (no guard).
//!
//! The guard's key is `#dyngen#unique#<entity>#<constraint>#<value>...` in the table's
//! partition key (sort key `#unique`), values escaped as in key templates: no key template
//! can produce it (a template cannot start with `#dyngen`, and `#` in a value is escaped).

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use crate::expr::Expr;
use crate::item::Item;
use crate::key::push_escaped;
use crate::table::TableDesign;

/// One unique constraint of an entity: these attributes' values, together, belong to at
/// most one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unique {
    /// The constraint's name: its attributes joined by `+`.
    pub name: &'static str,
    /// The attributes, in the schema's order.
    pub attributes: &'static [&'static str],
}

/// The attribute of a guard item that holds its owner's key.
pub const OWNER_ATTRIBUTE: &str = "_dyngenOwner";
/// The entity-type value of guard items.
pub const GUARD_TYPE: &str = "#dyngen#unique";
/// The sort key of guard items.
const GUARD_SORT: &str = "#unique";

/// The guard's partition key for the constrained values in `item`; `None` when a value is
/// absent or not a scalar (nothing to guard).
pub fn guard_text(
    entity_type: &str,
    constraint: &str,
    attributes: &[impl AsRef<str>],
    item: &Item,
) -> Option<String> {
    let mut out = guard_prefix(entity_type, constraint);
    for (i, attr) in attributes.iter().enumerate() {
        if i > 0 {
            out.push('#');
        }
        match item.get(attr.as_ref())? {
            AttributeValue::S(s) => push_escaped(&mut out, s),
            AttributeValue::N(n) => out.push_str(n),
            AttributeValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            _ => return None,
        }
    }
    Some(out)
}

pub use crate::key::unique_guard_prefix as guard_prefix;

/// Where guards are stored: the table and its key and entity-type attributes.
#[derive(Debug, Clone, Copy)]
pub struct GuardTable<'a> {
    pub table: &'a str,
    pub partition_key: &'a str,
    /// Empty for a table with a partition key only.
    pub sort_key: &'a str,
    pub entity_type_attribute: &'a str,
}

impl<'a> GuardTable<'a> {
    /// The guards of a design's entities in the table named `table`.
    pub fn of(design: &'a TableDesign, table: &'a str) -> Self {
        GuardTable {
            table,
            partition_key: design.partition_key,
            sort_key: design.sort_key,
            entity_type_attribute: design.entity_type_attribute,
        }
    }

    /// The primary key of a guard item.
    pub fn key(&self, text: String) -> Item {
        let mut key = Item::new();
        key.insert(self.partition_key.to_string(), AttributeValue::S(text));
        if !self.sort_key.is_empty() {
            key.insert(
                self.sort_key.to_string(),
                AttributeValue::S(GUARD_SORT.into()),
            );
        }
        key
    }

    /// A whole guard item: its key, its owner and the guard entity type.
    pub fn item(&self, text: String, owner: &str) -> Item {
        let mut item = self.key(text);
        item.insert(
            OWNER_ATTRIBUTE.to_string(),
            AttributeValue::S(owner.to_string()),
        );
        item.insert(
            self.entity_type_attribute.to_string(),
            AttributeValue::S(GUARD_TYPE.into()),
        );
        item
    }

    /// An item's primary key as one unambiguous string: what a guard stores as its owner.
    pub fn owner(&self, item: &Item) -> String {
        let mut out = String::new();
        for name in [self.partition_key, self.sort_key] {
            match item.get(name) {
                Some(AttributeValue::S(s)) => {
                    out.push_str("S:");
                    push_escaped(&mut out, s);
                }
                Some(AttributeValue::N(n)) => {
                    out.push_str("N:");
                    out.push_str(n);
                }
                _ => out.push('-'),
            }
            out.push('#');
        }
        out
    }

    /// The primary key a guard's owner text names (the inverse of [`GuardTable::owner`]:
    /// escaped values hold no `#`, so the text splits unambiguously).
    pub fn owner_key(&self, owner: &str) -> Option<Item> {
        let mut key = Item::new();
        let mut parts = owner.split('#');
        for name in [self.partition_key, self.sort_key] {
            let part = parts.next()?;
            let value = if let Some(s) = part.strip_prefix("S:") {
                AttributeValue::S(unescape(s))
            } else if let Some(n) = part.strip_prefix("N:") {
                AttributeValue::N(n.to_string())
            } else {
                continue;
            };
            key.insert(name.to_string(), value);
        }
        Some(key)
    }

    /// The condition every guard write carries: the guard is absent or already this
    /// owner's (so a retried or repeated write is harmless).
    pub fn owned_or_free(&self, owner: &str) -> (String, Expr) {
        let mut expr = Expr::default();
        let pk = expr.name(self.partition_key);
        let o = expr.name(OWNER_ATTRIBUTE);
        let me = expr.value(AttributeValue::S(owner.to_string()));
        (format!("attribute_not_exists({pk}) OR {o} = {me}"), expr)
    }
}

/// The inverse of [`push_escaped`], read left to right.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix("%23") {
            out.push('#');
            rest = t;
        } else if let Some(t) = tail.strip_prefix("%25") {
            out.push('%');
            rest = t;
        } else {
            out.push('%');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Deletes the guard `text` if it is stale: its owner is gone, or holds another value now
/// (left by a write that did not keep guards, such as old code during a rollout or a hand
/// edit). `Ok(true)`: the guard is gone or changed, and a claim may be tried again;
/// `Ok(false)`: its owner really holds the value.
pub async fn release_if_stale(
    client: &::aws_sdk_dynamodb::Client,
    gt: &GuardTable<'_>,
    entity_type: &str,
    constraint: &str,
    attributes: &[impl AsRef<str>],
    text: &str,
) -> Result<bool, ::aws_sdk_dynamodb::Error> {
    let read = |key: Item| {
        client
            .get_item()
            .table_name(gt.table)
            .set_key(Some(key))
            .consistent_read(true)
            .set_return_consumed_capacity(crate::trace::capacity_mode())
            .send()
    };
    let out = read(gt.key(text.to_string())).await?;
    crate::trace::consumed(out.consumed_capacity());
    let Some(guard) = out.item else {
        return Ok(true);
    };
    let Some(owner) = guard.get(OWNER_ATTRIBUTE).and_then(|o| o.as_s().ok()) else {
        return Ok(false);
    };
    if let Some(key) = gt.owner_key(owner) {
        let out = read(key).await?;
        crate::trace::consumed(out.consumed_capacity());
        let held = out.item.is_some_and(|item| {
            let kind = item
                .get(gt.entity_type_attribute)
                .and_then(|v| v.as_s().ok());
            kind.map(String::as_str) == Some(entity_type)
                && guard_text(entity_type, constraint, attributes, &item).as_deref() == Some(text)
        });
        if held {
            return Ok(false);
        }
    }
    let mut expr = Expr::default();
    let o = expr.name(OWNER_ATTRIBUTE);
    let v = expr.value(AttributeValue::S(owner.clone()));
    let (names, values) = expr.into_maps();
    let res = client
        .delete_item()
        .table_name(gt.table)
        .set_key(Some(gt.key(text.to_string())))
        .condition_expression(format!("{o} = {v}"))
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .set_return_consumed_capacity(crate::trace::capacity_mode())
        .send()
        .await;
    match res {
        Ok(out) => {
            crate::trace::consumed(out.consumed_capacity());
            Ok(true)
        }
        // Changed meanwhile: the caller tries again and sees the new state.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(true)
        }
        Err(e) => Err(e.into()),
    }
}

/// What one action of a guarded transaction is, for telling why it was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The entity's own item.
    Item,
    /// A guard put for this constraint (cancelled: the value is taken).
    Claim(Unique),
    /// A guard deleted because its value is given up.
    Release,
}

/// The guard writes that take an item from `old` to `new` values: release the guards of
/// values given up, claim those of new values. Guards of unchanged values stay.
pub(crate) fn guard_moves(
    gt: &GuardTable<'_>,
    entity_type: &str,
    uniques: &[Unique],
    owner: &str,
    old: Option<&Item>,
    new: Option<&Item>,
) -> Vec<(TransactWriteItem, Role)> {
    let mut out = Vec::new();
    for u in uniques {
        let text = |i: &Item| guard_text(entity_type, u.name, u.attributes, i);
        let before = old.and_then(text);
        let after = new.and_then(text);
        if before == after {
            continue;
        }
        if let Some(text) = before {
            out.push((release(gt, owner, text), Role::Release));
        }
        if let Some(text) = after {
            out.push((claim(gt, owner, text), Role::Claim(*u)));
        }
    }
    out
}

fn claim(gt: &GuardTable<'_>, owner: &str, text: String) -> TransactWriteItem {
    let (cond, expr) = gt.owned_or_free(owner);
    let (names, values) = expr.into_maps();
    let put = Put::builder()
        .table_name(gt.table)
        .set_item(Some(gt.item(text, owner)))
        .condition_expression(cond)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .build();
    build_action(put.map(|p| TransactWriteItem::builder().put(p).build()))
}

fn release(gt: &GuardTable<'_>, owner: &str, text: String) -> TransactWriteItem {
    let (cond, expr) = gt.owned_or_free(owner);
    let (names, values) = expr.into_maps();
    let del = Delete::builder()
        .table_name(gt.table)
        .set_key(Some(gt.key(text)))
        .condition_expression(cond)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .build();
    build_action(del.map(|d| TransactWriteItem::builder().delete(d).build()))
}

/// The builders fail only when a required field is unset, which never happens here; the
/// fallback is an empty action DynamoDB would reject, never a panic.
pub(crate) fn build_action(
    action: Result<TransactWriteItem, ::aws_sdk_dynamodb::error::BuildError>,
) -> TransactWriteItem {
    action.unwrap_or_else(|_| TransactWriteItem::builder().build())
}

/// A condition that the item's constrained attributes still hold the values read in `old`
/// (absent where absent), so guards computed from `old` are the ones to move.
pub(crate) fn unchanged_since(expr: &mut Expr, uniques: &[Unique], old: &Item) -> Vec<String> {
    let mut parts = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for attr in uniques.iter().flat_map(|u| u.attributes.iter().copied()) {
        if seen.contains(&attr) {
            continue;
        }
        seen.push(attr);
        let n = expr.name(attr);
        match old.get(attr) {
            Some(v) => {
                let v = expr.value(v.clone());
                parts.push(format!("{n} = {v}"));
            }
            None => parts.push(format!("attribute_not_exists({n})")),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESIGN: TableDesign = TableDesign {
        name: "t",
        partition_key: "pk",
        sort_key: "sk",
        entity_type_attribute: "_type",
    };
    const EMAIL: Unique = Unique {
        name: "email",
        attributes: &["email"],
    };
    const PAIR: Unique = Unique {
        name: "org+handle",
        attributes: &["org", "handle"],
    };

    fn item(pairs: &[(&str, &str)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
            .collect()
    }

    fn text(u: &Unique, i: &Item) -> Option<String> {
        guard_text("User", u.name, u.attributes, i)
    }

    #[test]
    fn values_that_differ_give_guards_that_differ_even_with_delimiters_in_them() {
        // Without escaping, ("a#b", "c") and ("a", "b#c") would share one guard.
        let one = text(&PAIR, &item(&[("org", "a#b"), ("handle", "c")]));
        let two = text(&PAIR, &item(&[("org", "a"), ("handle", "b#c")]));
        assert!(one.is_some() && two.is_some());
        assert_ne!(one, two);
        assert!(one.unwrap().starts_with(&guard_prefix("User", PAIR.name)));
    }

    #[test]
    fn an_absent_value_has_no_guard() {
        assert_eq!(text(&PAIR, &item(&[("org", "a")])), None);
        assert_eq!(
            text(&EMAIL, &item(&[("email", "a@b")])).as_deref(),
            Some("#dyngen#unique#User#email#a@b")
        );
    }

    #[test]
    fn owners_of_different_keys_differ_and_name_their_key() {
        let gt = GuardTable::of(&DESIGN, "t");
        let one = item(&[("pk", "x#%23%"), ("sk", "y")]);
        let two = item(&[("pk", "x"), ("sk", "#%y")]);
        let (a, b) = (gt.owner(&one), gt.owner(&two));
        assert_ne!(a, b);
        assert_eq!(gt.owner_key(&a), Some(one));
        assert_eq!(gt.owner_key(&b), Some(two));
    }

    #[test]
    fn an_unchanged_value_moves_no_guard_and_a_changed_one_releases_then_claims() {
        let gt = GuardTable::of(&DESIGN, "t");
        let old = item(&[("email", "a@x")]);
        let same = guard_moves(&gt, "User", &[EMAIL], "o", Some(&old), Some(&old));
        assert!(same.is_empty());
        let new = item(&[("email", "b@x")]);
        let moved = guard_moves(&gt, "User", &[EMAIL], "o", Some(&old), Some(&new));
        let roles: Vec<Role> = moved.iter().map(|(_, r)| *r).collect();
        assert_eq!(roles, vec![Role::Release, Role::Claim(EMAIL)]);
        let gone = guard_moves(&gt, "User", &[EMAIL], "o", Some(&old), None);
        assert_eq!(gone.len(), 1);
    }
}
