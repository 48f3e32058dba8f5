//! The key space's guarantees, checked on inputs nobody picked.
//!
//! 1. The decision procedure ([`dyngen::keyspace::lang`]) against brute force: random
//!    sequences of key pieces over a small alphabet, every value each piece can render up
//!    to a small size enumerated, and an independent matcher (regular expressions) for the
//!    witnesses. Whatever the enumeration finds (a shared key, a key with two splits) the
//!    procedure must find, and every witness it gives must be real.
//! 2. Random schemas over the template grammar (literals, escaped and raw text, integers
//!    plain and padded, enums, booleans, dates, timestamps and years; tables with and
//!    without a sort key, with and without a global index), compiled by dyngen: for every
//!    accepted one, keys rendered with the runtime's own encoder from every combination of
//!    small value domains never meet for two different (entity, values) and never spell
//!    dyngen's reserved keys; and with a pattern per entity and index, every entity whose
//!    items a query returns by key alone is one the model says the pattern reaches.
//!
//! `DYNGEN_KEYSPACE_CASES` and `DYNGEN_KEYSPACE_SEED` change the run.

use std::collections::{BTreeSet, HashMap};

use dyngen::keyspace::lang::{Alphabet, Bound, Nfa, Piece};
use dyngen_runtime::key::{KeyPart, push_escaped, push_padded, push_year};
use dyngen_runtime::value::Date;

mod common;
use common::Rng;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Characters values are drawn from: the delimiter, the escape and its digits, a
/// separator other templates use, a letter.
const VALUE_CHARS: &[char] = &['a', '#', '%', '-', '1', '2', '3', '5', '0'];

fn strings_up_to(len: usize, chars: &[char]) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..len {
        last = last
            .iter()
            .flat_map(|s| chars.iter().map(move |c| format!("{s}{c}")))
            .collect();
        out.extend(last.iter().cloned());
    }
    out
}

fn escaped(s: &str) -> String {
    let mut out = String::new();
    push_escaped(&mut out, s);
    out
}

/// Every string a piece renders, up to a small size (for Any and text: short values).
fn enumerate(piece: &Piece) -> Vec<String> {
    let mut out: Vec<String> = match piece {
        Piece::Literal(s) => vec![s.clone()],
        Piece::Escaped => strings_up_to(2, VALUE_CHARS)
            .iter()
            .map(|s| escaped(s))
            .collect(),
        Piece::Raw => strings_up_to(2, VALUE_CHARS)
            .into_iter()
            .filter(|s| !s.contains('#'))
            .collect(),
        Piece::Words(w) => w.clone(),
        Piece::Integer => (-120..=120).map(|n: i64| n.to_string()).collect(),
        Piece::Natural => (0..=120).map(|n: i64| n.to_string()).collect(),
        Piece::Shape(s) => {
            let digits: Vec<char> = ('0'..='9').collect();
            let mut acc = vec![String::new()];
            for c in s.chars() {
                acc = acc
                    .iter()
                    .flat_map(|p| {
                        let choices = if c == '9' { digits.clone() } else { vec![c] };
                        choices.into_iter().map(move |d| format!("{p}{d}"))
                    })
                    .collect();
            }
            acc
        }
        Piece::Any => strings_up_to(2, &['a', '#', '-', 'x', '1']),
        Piece::Compare(..) => unreachable!("comparisons are checked on their own"),
    };
    out.sort();
    out.dedup();
    out
}

/// The same language as a regular expression, written independently of the automata.
fn regex_of(piece: &Piece) -> String {
    let lit = |s: &str| regex_lite::escape(s);
    match piece {
        Piece::Literal(s) => lit(s),
        Piece::Escaped => "(?:[^%#]|%2[35])*".into(),
        Piece::Raw => "[^#]*".into(),
        Piece::Words(w) => format!(
            "(?:{})",
            w.iter().map(|s| lit(s)).collect::<Vec<_>>().join("|")
        ),
        Piece::Integer => "(?:0|-?[1-9][0-9]*)".into(),
        Piece::Natural => "(?:0|[1-9][0-9]*)".into(),
        Piece::Shape(s) => s
            .chars()
            .map(|c| {
                if c == '9' {
                    "[0-9]".to_string()
                } else {
                    lit(&c.to_string())
                }
            })
            .collect(),
        Piece::Any => "(?s:.*)".into(),
        Piece::Compare(..) => unreachable!(),
    }
}

fn full_match(pieces: &[Piece], s: &str) -> bool {
    let re = format!("^(?:{})$", pieces.iter().map(regex_of).collect::<String>());
    regex_lite::Regex::new(&re).unwrap().is_match(s)
}

/// How many ways `s` splits into the pieces, each part matching its piece.
fn splits(pieces: &[Piece], s: &str) -> usize {
    let Some((first, rest)) = pieces.split_first() else {
        return usize::from(s.is_empty());
    };
    let re = regex_lite::Regex::new(&format!("^(?:{})$", regex_of(first))).unwrap();
    (0..=s.len())
        .filter(|&i| s.is_char_boundary(i) && re.is_match(&s[..i]))
        .map(|i| splits(rest, &s[i..]))
        .sum()
}

fn random_piece(rng: &mut Rng) -> Piece {
    match rng.below(9) {
        0..=2 => Piece::Literal(
            (0..1 + rng.below(2))
                .map(|_| *rng.pick(&['a', '#', '-', '1', 'x', '%']))
                .collect(),
        ),
        3 => Piece::Escaped,
        4 => Piece::Raw,
        5 => Piece::Integer,
        6 => Piece::Natural,
        7 => Piece::Shape(rng.pick(&["99", "9-9", "9"]).to_string()),
        _ => Piece::Words(
            ["a", "a-", "1", "-", "x#"]
                .iter()
                .filter(|_| rng.chance(50))
                .map(|s| s.to_string())
                .chain(["a1".to_string()])
                .collect(),
        ),
    }
}

fn random_sequence(rng: &mut Rng) -> Vec<Piece> {
    let mut out: Vec<Piece> = (0..1 + rng.below(3)).map(|_| random_piece(rng)).collect();
    if rng.chance(15) {
        out.push(Piece::Any);
    }
    out
}

/// Every rendering of a sequence with its split, bounded so the product stays small.
fn renderings(pieces: &[Piece]) -> Vec<(String, Vec<String>)> {
    let mut acc: Vec<(String, Vec<String>)> = vec![(String::new(), Vec::new())];
    for p in pieces {
        let values = enumerate(p);
        acc = acc
            .iter()
            .flat_map(|(s, parts)| {
                values.iter().map(move |v| {
                    let mut parts = parts.clone();
                    parts.push(v.clone());
                    (format!("{s}{v}"), parts)
                })
            })
            .filter(|(s, _)| s.chars().count() <= 8)
            .take(30_000)
            .collect();
    }
    acc
}

fn alphabet(seqs: &[&[Piece]]) -> Alphabet {
    Alphabet::new(
        seqs.iter()
            .flat_map(|s| s.iter().flat_map(Piece::chars))
            .chain(VALUE_CHARS.iter().copied()),
    )
}

#[test]
fn the_procedure_agrees_with_brute_force_on_small_alphabets() {
    let mut rng = Rng(env_or("DYNGEN_KEYSPACE_SEED", 0x5eed_1234));
    let cases = env_or("DYNGEN_KEYSPACE_CASES", 400);
    let (mut ambiguous, mut meeting) = (0, 0);
    for case in 0..cases {
        let (a, b) = (random_sequence(&mut rng), random_sequence(&mut rng));
        let sigma = alphabet(&[&a, &b]);
        let (na, nb) = (Nfa::concat(&a, &sigma), Nfa::concat(&b, &sigma));
        // Ambiguity: a witness splits two ways; a string that splits two ways is found.
        let seen: HashMap<String, BTreeSet<Vec<String>>> =
            renderings(&a)
                .into_iter()
                .fold(HashMap::new(), |mut m, (s, parts)| {
                    m.entry(s).or_default().insert(parts);
                    m
                });
        let twice = seen.iter().find(|(_, ways)| ways.len() > 1);
        match na.ambiguity(&sigma) {
            Some(w) => {
                ambiguous += 1;
                assert!(
                    splits(&a, &w) >= 2,
                    "case {case}: {a:?} witness {w:?} splits once"
                );
            }
            None => assert!(
                twice.is_none(),
                "case {case}: {a:?} renders {twice:?} two ways, undetected"
            ),
        }
        // Intersection: a witness is in both; a shared rendering is found.
        let shared = renderings(&b)
            .into_iter()
            .find(|(s, _)| seen.contains_key(s));
        match na.intersect(&nb).witness(&sigma) {
            Some(w) => {
                meeting += 1;
                assert!(
                    full_match(&a, &w) && full_match(&b, &w),
                    "case {case}: {a:?} ∩ {b:?} witness {w:?}"
                );
            }
            None => assert!(
                shared.is_none(),
                "case {case}: {a:?} and {b:?} share {shared:?}, undetected"
            ),
        }
        // Comparisons: against a literal bound, by byte order.
        let bound: String = (0..1 + rng.below(3))
            .map(|_| *rng.pick(&['a', '#', '1', '-', 'z']))
            .collect();
        let op = *rng.pick(&[Bound::Lt, Bound::Lte, Bound::Gt, Bound::Gte]);
        let holds = |s: &str| match op {
            Bound::Lt => s < bound.as_str(),
            Bound::Lte => s <= bound.as_str(),
            Bound::Gt => s > bound.as_str(),
            Bound::Gte => s >= bound.as_str(),
        };
        let cmp = [Piece::Compare(op, bound.clone())];
        let sigma = alphabet(&[&a, &[Piece::Literal(bound.clone())]]);
        let na = Nfa::concat(&a, &sigma);
        let found = seen.keys().find(|s| holds(s));
        match na.intersect(&Nfa::concat(&cmp, &sigma)).witness(&sigma) {
            Some(w) => assert!(
                full_match(&a, &w) && holds(&w),
                "case {case}: {a:?} {op:?} {bound:?}: {w:?}"
            ),
            None => assert!(
                found.is_none(),
                "case {case}: {a:?} {op:?} {bound:?} meets {found:?}"
            ),
        }
    }
    // The generator reaches both answers often enough to mean something.
    assert!(
        ambiguous * 10 > cases && (cases - ambiguous) * 10 > cases,
        "{ambiguous} of {cases} ambiguous"
    );
    assert!(
        meeting * 10 > cases && (cases - meeting) * 10 > cases,
        "{meeting} of {cases} meeting"
    );
}

#[path = "support/random_keys.rs"]
mod random_keys;

#[test]
fn accepted_random_schemas_keep_keys_apart_and_patterns_within_their_reach() {
    random_keys::run(
        env_or("DYNGEN_KEYSPACE_SEED", 0x5eed_1234),
        // Cheap cases (a compile and a small enumeration each): four times as many.
        4 * env_or("DYNGEN_KEYSPACE_CASES", 400) as usize,
    );
}

/// The encoder the generated code uses, for one placeholder value (`None` when a write
/// refuses it before the request).
pub fn render_value(value: &random_keys::Value, format: &str) -> Option<String> {
    use random_keys::Value;
    let mut out = String::new();
    match (value, format) {
        (Value::Text(s), "raw") => {
            if s.contains('#') {
                return None;
            }
            out.push_str(s)
        }
        (Value::Text(s), _) => push_escaped(&mut out, s),
        (Value::Int(n), "03") => {
            dyngen_runtime::key::fits_padded(*n, 3).ok()?;
            push_padded(&mut out, n, 3)
        }
        (Value::Int(n), _) => n.push_key(&mut out),
        (Value::Bool(b), _) => b.push_key(&mut out),
        (Value::Date(d), "year") => push_year(&mut out, d),
        (Value::Date(d), _) => d.push_key(&mut out),
        (Value::Time(t), "year") => push_year(&mut out, t),
        (Value::Time(t), _) => t.push_key(&mut out),
    }
    Some(out)
}

/// A date from a few years apart.
pub fn date(rng_pick: usize) -> Date {
    let (y, m, d) = [(7, 1, 1), (2024, 2, 29), (1999, 12, 31), (2024, 1, 2)][rng_pick % 4];
    Date::new(y, m, d).expect("a real date")
}
