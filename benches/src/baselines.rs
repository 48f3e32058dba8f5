//! Baselines for the conversion benchmark: the bench entity written by hand against the
//! SDK, carefully (pre-sized map, no intermediate formatting), and through serde_dynamo.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

pub type Item = HashMap<String, AttributeValue>;

/// The same data as the generated `Order`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub customer: String,
    pub id: String,
    pub status: String,
    pub note: Option<String>,
    pub paid: bool,
    pub total: i64,
    pub items: Vec<String>,
    pub channel: String,
}

fn key(prefix: &str, value: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + value.len());
    s.push_str(prefix);
    s.push_str(value);
    s
}

fn escaped_key(prefix: &str, value: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + value.len());
    s.push_str(prefix);
    if value.contains(['#', '%']) {
        s.push_str(&value.replace('%', "%25").replace('#', "%23"));
    } else {
        s.push_str(value);
    }
    s
}

/// The careful version that also escapes the key delimiter in values, as the generated
/// code does (so a value cannot forge a key).
pub fn to_item_escaping(o: &Order) -> Item {
    to_item_with(o, escaped_key)
}

/// Careful hand-written conversion: the same item the generated code writes.
pub fn to_item(o: &Order) -> Item {
    to_item_with(o, key)
}

#[inline(always)]
fn to_item_with(o: &Order, key: fn(&str, &str) -> String) -> Item {
    let mut item = HashMap::with_capacity(14);
    item.insert("_type".to_string(), AttributeValue::S("Order".to_string()));
    item.insert(
        "pk".to_string(),
        AttributeValue::S(key("customer#", &o.customer)),
    );
    item.insert("sk".to_string(), AttributeValue::S(key("order#", &o.id)));
    item.insert(
        "gsi1pk".to_string(),
        AttributeValue::S(key("status#", &o.status)),
    );
    item.insert(
        "gsi1sk".to_string(),
        AttributeValue::S(key("order#", &o.id)),
    );
    item.insert(
        "customer".to_string(),
        AttributeValue::S(o.customer.clone()),
    );
    item.insert("id".to_string(), AttributeValue::S(o.id.clone()));
    item.insert("status".to_string(), AttributeValue::S(o.status.clone()));
    if let Some(note) = &o.note {
        item.insert("note".to_string(), AttributeValue::S(note.clone()));
    }
    item.insert("paid".to_string(), AttributeValue::Bool(o.paid));
    item.insert("total".to_string(), AttributeValue::N(o.total.to_string()));
    item.insert(
        "items".to_string(),
        AttributeValue::L(
            o.items
                .iter()
                .map(|i| AttributeValue::S(i.clone()))
                .collect(),
        ),
    );
    item.insert("channel".to_string(), AttributeValue::S(o.channel.clone()));
    item
}

/// Why a hand-written read failed (kept small: the baseline is about speed).
#[derive(Debug)]
pub struct BadItem(pub &'static str);

fn s(item: &Item, name: &'static str) -> Result<String, BadItem> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or(BadItem(name))
}

pub fn from_item(item: &Item) -> Result<Order, BadItem> {
    Ok(Order {
        customer: s(item, "customer")?,
        id: s(item, "id")?,
        status: s(item, "status")?,
        note: match item.get("note") {
            None => None,
            Some(v) => Some(v.as_s().map_err(|_| BadItem("note"))?.clone()),
        },
        paid: *item
            .get("paid")
            .and_then(|v| v.as_bool().ok())
            .ok_or(BadItem("paid"))?,
        total: item
            .get("total")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or(BadItem("total"))?,
        items: item
            .get("items")
            .and_then(|v| v.as_l().ok())
            .ok_or(BadItem("items"))?
            .iter()
            .map(|v| v.as_s().cloned().map_err(|_| BadItem("items")))
            .collect::<Result<_, _>>()?,
        channel: s(item, "channel")?,
    })
}

fn take_s(item: &mut Item, name: &'static str) -> Result<String, BadItem> {
    match item.remove(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        _ => Err(BadItem(name)),
    }
}

/// The careful way to read an item the SDK handed over: take it, and move its strings out.
pub fn from_item_owned(mut item: Item) -> Result<Order, BadItem> {
    Ok(Order {
        customer: take_s(&mut item, "customer")?,
        id: take_s(&mut item, "id")?,
        status: take_s(&mut item, "status")?,
        note: match item.remove("note") {
            None => None,
            Some(AttributeValue::S(s)) => Some(s),
            Some(_) => return Err(BadItem("note")),
        },
        paid: match item.remove("paid") {
            Some(AttributeValue::Bool(b)) => b,
            _ => return Err(BadItem("paid")),
        },
        total: match item.remove("total") {
            Some(AttributeValue::N(n)) => n.parse().map_err(|_| BadItem("total"))?,
            _ => return Err(BadItem("total")),
        },
        items: match item.remove("items") {
            Some(AttributeValue::L(l)) => l
                .into_iter()
                .map(|v| match v {
                    AttributeValue::S(s) => Ok(s),
                    _ => Err(BadItem("items")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(BadItem("items")),
        },
        channel: take_s(&mut item, "channel")?,
    })
}

/// The serde_dynamo way: a record with the key attributes next to the data.
#[derive(Serialize, Deserialize)]
struct Record {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    _type: String,
    customer: String,
    id: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    note: Option<String>,
    paid: bool,
    total: i64,
    items: Vec<String>,
    channel: String,
}

pub fn serde_to_item(o: &Order) -> Item {
    let r = Record {
        pk: format!("customer#{}", o.customer),
        sk: format!("order#{}", o.id),
        gsi1pk: format!("status#{}", o.status),
        gsi1sk: format!("order#{}", o.id),
        _type: "Order".into(),
        customer: o.customer.clone(),
        id: o.id.clone(),
        status: o.status.clone(),
        note: o.note.clone(),
        paid: o.paid,
        total: o.total,
        items: o.items.clone(),
        channel: o.channel.clone(),
    };
    serde_dynamo::to_item(r).expect("the record serializes")
}

pub fn serde_from_item(item: Item) -> Order {
    let r: Record = serde_dynamo::from_item(item).expect("the item deserializes");
    Order {
        customer: r.customer,
        id: r.id,
        status: r.status,
        note: r.note,
        paid: r.paid,
        total: r.total,
        items: r.items,
        channel: r.channel,
    }
}
