//! Random schemas over the key-template grammar, compiled by dyngen, and the keys their
//! accepted ones render from random values with the runtime's encoder.

use std::collections::HashMap;

use dyngen::diag::Source;
use dyngen::ir::{self, Part, PlaceholderFormat};

use super::{Rng, date, render_value};

/// A key input as the caller gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Bool(bool),
    Date(dyngen_runtime::value::Date),
}

const ATTRIBUTES: &str = "{ s1: string, s2: string, n: integer, e: { type: enum, values: [a, a-b, x] }, b: bool, d: date }";
const PLACEHOLDERS: &[&str] = &[
    "{s1}", "{s1:raw}", "{s2}", "{s2:raw}", "{n}", "{n:03}", "{e}", "{e:raw}", "{b}", "{d}",
    "{d:year}",
];
const LITERALS: &[&str] = &[
    "U", "#", "-", "-", ".", "U#", "x#", ".", "1", "#U", "a", "#-",
];

fn template(rng: &mut Rng) -> String {
    let mut out = String::new();
    let mut literal = rng.chance(60);
    for _ in 0..1 + rng.below(5) {
        let parts = if literal { LITERALS } else { PLACEHOLDERS };
        out.push_str(parts[rng.below(parts.len())]);
        // Mostly alternate; sometimes two of a kind (adjacent placeholders are refused).
        literal = if rng.chance(90) { !literal } else { literal };
    }
    out
}

fn schema(rng: &mut Rng) -> String {
    let sort = rng.chance(70);
    let mut text = format!(
        "version: 1\ntable: {{ name: tbl, partition_key: pk{}{} }}\nentities:\n",
        if sort { ", sort_key: sk" } else { "" },
        if rng.chance(20) {
            ", escape: false"
        } else {
            ""
        },
    );
    for e in 0..2 + rng.below(2) {
        let sk = if sort {
            format!(", sk: \"{}\"", template(rng))
        } else {
            String::new()
        };
        text.push_str(&format!(
            "  E{e}:\n    attributes: {ATTRIBUTES}\n    keys:\n      primary: {{ pk: \"{}\"{sk} }}\n",
            template(rng)
        ));
    }
    text
}

/// Text values that meet at every delimiter the grammar has: the escape and what it
/// escapes, separators, digits, dyngen's reserved prefix.
const TEXTS: &[&str] = &[
    "", "a", "-", "a-", "-a", "#", "%", "%23", "%25", "1", ".", "U", "x#", "#U", "dyngen", "a.1",
];

/// Every value an attribute takes in the enumeration.
fn domain(attr: &ir::Attribute) -> Vec<Value> {
    match &attr.ty {
        ir::Type::String => TEXTS.iter().map(|t| Value::Text(t.to_string())).collect(),
        ir::Type::Enum(e) => e
            .variants
            .iter()
            .map(|v| Value::Text(v.value.clone()))
            .collect(),
        ir::Type::Integer => [-1, 0, 1, 7, 10, 11, 100, 999, 1000]
            .map(Value::Int)
            .to_vec(),
        ir::Type::Bool => vec![Value::Bool(true), Value::Bool(false)],
        _ => (0..4).map(|i| Value::Date(date(i))).collect(),
    }
}

/// Every combination of the domains of the attributes the primary key uses (the others
/// keep their first value), capped.
fn combinations(entity: &ir::Entity) -> Vec<Vec<Value>> {
    let key = entity.primary_key();
    let base: Vec<Value> = entity
        .attributes
        .iter()
        .map(|a| domain(a)[0].clone())
        .collect();
    let mut used: Vec<usize> = key.placeholders().map(|p| p.attr).collect();
    used.sort_unstable();
    used.dedup();
    let mut out = vec![base];
    for attr in used {
        out = out
            .iter()
            .flat_map(|v| {
                domain(&entity.attributes[attr]).into_iter().map(move |x| {
                    let mut v = v.clone();
                    v[attr] = x;
                    v
                })
            })
            .take(40_000)
            .collect();
    }
    out
}

fn format_name(f: PlaceholderFormat) -> &'static str {
    match f {
        PlaceholderFormat::Value => "",
        PlaceholderFormat::Raw => "raw",
        PlaceholderFormat::Year => "year",
        PlaceholderFormat::Padded(_) => "03",
    }
}

/// The key a template renders, or `None` when a write would refuse the values.
fn render(t: &ir::Template, values: &[Value]) -> Option<String> {
    let mut out = String::new();
    for part in &t.parts {
        match part {
            Part::Literal(l) => out.push_str(l),
            Part::Placeholder(ph) => {
                out.push_str(&render_value(&values[ph.attr], format_name(ph.format))?)
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// What names an item of the entity: each primary-key placeholder's value as the key
/// sees it (a date's year for `{d:year}`).
fn identity(key: &ir::EntityKey, values: &[Value]) -> Vec<String> {
    key.distinct_placeholders()
        .iter()
        .map(|ph| match (&values[ph.attr], ph.format) {
            (Value::Date(d), PlaceholderFormat::Year) => d.to_string()[..4].to_string(),
            (v, _) => format!("{v:?}"),
        })
        .collect()
}

type Key = (String, Option<String>);

pub fn run(seed: u64, cases: usize) {
    let mut rng = Rng(seed ^ 0x9e37_79b9);
    let (mut accepted, mut refused) = (0, 0);
    for case in 0..cases {
        let text = schema(&mut rng);
        let compiled = dyngen::compile(&Source::new("random.yaml", &text));
        let Some(schema) = compiled.schema else {
            refused += 1;
            continue;
        };
        accepted += 1;
        let mut seen: HashMap<Key, (usize, Vec<String>)> = HashMap::new();
        for (e, entity) in schema.entities.iter().enumerate() {
            let key = entity.primary_key();
            for values in combinations(entity) {
                let Some(pk) = render(&key.pk, &values) else {
                    continue;
                };
                let sk = match &key.sk {
                    Some(t) => match render(t, &values) {
                        Some(s) => Some(s),
                        None => continue,
                    },
                    None => None,
                };
                assert!(
                    !pk.starts_with("#dyngen"),
                    "case {case}: `{pk}` forges dyngen's items\n{text}"
                );
                let who = (e, identity(key, &values));
                if let Some(other) = seen.get(&(pk.clone(), sk.clone()))
                    && *other != who
                {
                    panic!(
                        "case {case}: {other:?} and {who:?} both render {pk:?} / {sk:?}\n{text}"
                    );
                }
                seen.insert((pk, sk), who);
            }
        }
    }
    eprintln!("{accepted} accepted, {refused} refused");
    assert!(
        accepted * 10 > cases && refused * 10 > cases,
        "{accepted} accepted, {refused} refused of {cases}"
    );
}
