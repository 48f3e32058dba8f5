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
    Time(dyngen_runtime::value::Timestamp),
}

const ATTRIBUTES: &str = "{ s1: string, s2: string, n: integer, e: { type: enum, values: [a, a-b, x] }, b: bool, d: date, t: timestamp }";
const PLACEHOLDERS: &[&str] = &[
    "{s1}", "{s1:raw}", "{s2}", "{s2:raw}", "{n}", "{n:03}", "{e}", "{e:raw}", "{b}", "{d}",
    "{d:year}", "{t}", "{t:year}",
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
    let index = rng.chance(50);
    let mut text = format!(
        "version: 1\ntable: {{ name: tbl, partition_key: pk{}{}{} }}\nentities:\n",
        if sort { ", sort_key: sk" } else { "" },
        if rng.chance(20) {
            ", escape: false"
        } else {
            ""
        },
        if index {
            ", indexes: { gsi1: { partition_key: g1pk, sort_key: g1sk } }"
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
        if index && rng.chance(70) {
            text.push_str(&format!(
                "      gsi1: {{ pk: \"{}\", sk: \"{}\" }}\n",
                template(rng),
                template(rng)
            ));
        }
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
        ir::Type::Timestamp => [0, 1, -86_400_000, 253_402_300_799_999]
            .iter()
            .map(|&ms| {
                Value::Time(
                    dyngen_runtime::value::Timestamp::from_unix_millis(ms).expect("in range"),
                )
            })
            .collect(),
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
            (Value::Time(t), PlaceholderFormat::Year) => t.to_string()[..4].to_string(),
            (v, _) => format!("{v:?}"),
        })
        .collect()
}

type Key = (String, Option<String>);

/// One rendered item: its entity, its key, and the values it was rendered from.
struct Item {
    entity: usize,
    key: Key,
    /// The item's key on `gsi1`, when it has one there (a key that renders empty leaves
    /// it out, as writes do).
    index_key: Option<Key>,
    values: Vec<Value>,
}

/// Every item the enumeration renders for an entity (values a write would refuse, and
/// keys that render empty, are skipped as the runtime refuses them).
fn items(e: usize, entity: &ir::Entity) -> Vec<Item> {
    let key = entity.primary_key();
    combinations(entity)
        .into_iter()
        .filter_map(|values| {
            // A numeric partition key refuses negative numbers (dyngen's own items).
            if let [Part::Placeholder(ph)] = key.pk.parts.as_slice()
                && ir::template_is_numeric(&key.pk, &entity.attributes)
                && let Value::Int(n) = values[ph.attr]
                && dyngen_runtime::key::partition_number_refusal(n).is_some()
            {
                return None;
            }
            let pk = render(&key.pk, &values)?;
            let sk = match &key.sk {
                Some(t) => Some(render(t, &values)?),
                None => None,
            };
            let index_key = entity
                .keys
                .iter()
                .find(|k| k.index == ir::IndexRef::Gsi(0))
                .and_then(|k| {
                    Some((
                        render(&k.pk, &values)?,
                        Some(render(k.sk.as_ref()?, &values)?),
                    ))
                });
            Some(Item {
                entity: e,
                key: (pk, sk),
                index_key,
                values,
            })
        })
        .collect()
}

/// No two different (entity, values) share a key, and none spells dyngen's prefix.
fn check_injective(case: usize, text: &str, schema: &ir::Schema, all: &[Item]) {
    let mut seen: HashMap<&Key, (usize, Vec<String>)> = HashMap::new();
    for item in all {
        let (pk, sk) = &item.key;
        let entity = &schema.entities[item.entity];
        let numeric = ir::template_is_numeric(&entity.primary_key().pk, &entity.attributes);
        let reserved = pk.starts_with("#dyngen") || (numeric && pk.starts_with('-'));
        assert!(
            !reserved,
            "case {case}: `{pk}` forges dyngen's items\n{text}"
        );
        let who = (
            item.entity,
            identity(schema.entities[item.entity].primary_key(), &item.values),
        );
        if let Some(other) = seen.get(&item.key)
            && *other != who
        {
            panic!("case {case}: {other:?} and {who:?} both render {pk:?} / {sk:?}\n{text}");
        }
        seen.insert(&item.key, who);
    }
}

/// The sort-key condition a pattern sends for the values of one of its entity's items:
/// `None` reads the partition, else the sort key equals or starts with the text.
fn sort_condition(
    p: &ir::Pattern,
    sk: Option<&ir::Template>,
    values: &[Value],
) -> Option<(bool, String)> {
    let sk = sk?;
    let given = |ph: &ir::Placeholder| p.inputs.iter().any(|i| i.placeholder.attr == ph.attr);
    let prefix = |parts: &[Part]| {
        render(
            &ir::Template {
                source: String::new(),
                parts: parts.to_vec(),
            },
            values,
        )
    };
    match p.sort {
        ir::SortCondition::Equals => Some((true, render(sk, values)?)),
        ir::SortCondition::BeginsWith => {
            let open = sk
                .parts
                .iter()
                .position(|part| matches!(part, Part::Placeholder(ph) if !given(ph)));
            Some((
                false,
                prefix(&sk.parts[..open.unwrap_or(sk.parts.len())]).unwrap_or_default(),
            ))
        }
        _ => None,
    }
}

/// Every entity whose items some query of `p` returns (by key alone) is one the model
/// says it reaches: the pattern's own, or one of `reach.others`.
fn check_reach(case: usize, text: &str, schema: &ir::Schema, all: &[Item]) {
    // An item's key on the pattern's index, if it is in that index.
    let key_on = |item: &'_ Item, index: ir::IndexRef| -> Option<Key> {
        match index {
            ir::IndexRef::Primary => Some(item.key.clone()),
            _ => item.index_key.clone(),
        }
    };
    let space = dyngen::keyspace::KeySpace::new(&schema.table, &schema.entities, &schema.patterns);
    for p in &schema.patterns {
        let mut partitions: HashMap<String, Vec<(Key, usize)>> = HashMap::new();
        for item in all {
            if let Some(k) = key_on(item, p.index) {
                partitions
                    .entry(k.0.clone())
                    .or_default()
                    .push((k, item.entity));
            }
        }
        let e = p.entities[0];
        let reach = space.reach(p);
        let allowed = |f: usize| f == e || reach.others.iter().any(|(o, _)| *o == f);
        let own = schema.entities[e]
            .key_for(p.index)
            .expect("the pattern's index");
        let mine = all.iter().filter(|i| i.entity == e);
        for (item, key) in mine
            .filter_map(|i| Some((i, key_on(i, p.index)?)))
            .step_by(7)
            .take(60)
        {
            let cond = sort_condition(p, own.sk.as_ref(), &item.values);
            for (other, entity) in &partitions[key.0.as_str()] {
                let hit = match (&cond, &other.1) {
                    (None, _) => true,
                    (Some((true, v)), Some(s)) => s == v,
                    (Some((false, v)), Some(s)) => s.starts_with(v.as_str()),
                    (Some(_), None) => true,
                };
                assert!(
                    !hit || allowed(*entity),
                    "case {case}: `{}` reads {other:?} of E{entity}, which the model says it cannot\n{text}",
                    p.name,
                );
            }
        }
    }
}

/// A pattern per entity and index it has a key on: its partition-key inputs given, the
/// sort key left to dyngen's default condition.
fn patterns(schema_text: &str) -> String {
    let compiled = dyngen::compile(&Source::new("random.yaml", schema_text));
    let Some(schema) = compiled.schema else {
        return String::new();
    };
    let mut out = String::from("access_patterns:\n");
    for e in &schema.entities {
        for k in &e.keys {
            // Inputs are written as placeholders are (`d:year`, `n:03`), each once; a
            // raw value is given by its name.
            let mut inputs: Vec<String> = Vec::new();
            for ph in k.pk.placeholders() {
                let suffix = match ph.format {
                    ir::PlaceholderFormat::Raw => String::new(),
                    f => f.suffix(),
                };
                let input = format!("\"{}{suffix}\"", e.attributes[ph.attr].name);
                if !inputs.contains(&input) {
                    inputs.push(input);
                }
            }
            let index = schema.index_name(k.index);
            out.push_str(&format!(
                "  {index}Of{}:\n    entity: {}\n    index: {index}\n    inputs: [{}]\n",
                e.name,
                e.name,
                inputs.join(", ")
            ));
        }
    }
    out
}

pub fn run(seed: u64, cases: usize) {
    let mut rng = Rng(seed ^ 0x9e37_79b9);
    let (mut accepted, mut refused, mut with_patterns, mut on_index) = (0, 0, 0, 0);
    for case in 0..cases {
        let mut text = schema(&mut rng);
        let Some(schema) = dyngen::compile(&Source::new("random.yaml", &text)).schema else {
            refused += 1;
            continue;
        };
        accepted += 1;
        let all: Vec<Item> = schema
            .entities
            .iter()
            .enumerate()
            .flat_map(|(e, x)| items(e, x))
            .collect();
        check_injective(case, &text, &schema, &all);
        // The same schema with patterns (accepted unless a pattern can reach nothing).
        text.push_str(&patterns(&text));
        if let Some(schema) = dyngen::compile(&Source::new("random.yaml", &text)).schema {
            with_patterns += 1;
            on_index += schema
                .patterns
                .iter()
                .filter(|p| p.index != ir::IndexRef::Primary)
                .count();
            check_reach(case, &text, &schema, &all);
        }
    }
    eprintln!(
        "{accepted} accepted ({with_patterns} with patterns, {on_index} of them on gsi1), {refused} refused"
    );
    assert!(on_index * 5 > with_patterns, "{on_index} index patterns");
    assert!(
        accepted * 10 > cases && refused * 10 > cases,
        "{accepted} accepted, {refused} refused of {cases}"
    );
    assert!(
        with_patterns * 2 > accepted,
        "{with_patterns} of {accepted} with patterns"
    );
}
