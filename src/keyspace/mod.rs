//! The key space as one model: what every key template can render, and the decisions
//! the validator and the lints ask of it.
//!
//! Each template becomes a language ([`lang`]): its literals, and for each placeholder the
//! strings the runtime's encoder can produce for it (escaped text, raw text, digits of a
//! width, dates, enum values...). Over those languages three questions are decided
//! exactly, each with a witness key for the diagnostic:
//! - can one template render two different values the same ([`KeySpace::ambiguity`]);
//! - can two entities' primary keys be equal ([`KeySpace::primary_overlap`]), or an
//!   entity's key be one of dyngen's own items' ([`KeySpace::reserved_overlap`]);
//! - which entities' items can a pattern's key condition match ([`KeySpace::reach`]).

pub mod lang;

use crate::ir::{self, IndexRef, Literal, Part, Pattern, PlaceholderFormat, SortCondition, Type};
use lang::{Alphabet, Bound, Nfa, Piece};

/// The prefix of the partition key of every item dyngen keeps itself: the migration
/// ledger and lock, scan checkpoints and unique guards.
pub const RESERVED_PREFIX: &str = "#dyngen";

/// The languages of a schema's key templates, over one alphabet.
pub struct KeySpace<'s> {
    table: &'s ir::Table,
    entities: &'s [ir::Entity],
    alphabet: Alphabet,
    /// Per entity, per key (multi-attribute keys excluded): its templates' languages,
    /// built once.
    keys: Vec<Vec<KeyLangs>>,
}

/// The languages of one entity key's templates.
struct KeyLangs {
    index: IndexRef,
    pk: Lang,
    sk: Option<Lang>,
}

/// A language with the literal text every string of it starts with: two languages whose
/// prefixes disagree (neither starts the other) share no string, which settles most
/// pairs of a schema without building their product.
struct Lang {
    nfa: Nfa,
    prefix: String,
    /// Every string (a condition that does not restrict).
    universal: bool,
}

impl Lang {
    fn new(pieces: &[Piece], a: &Alphabet) -> Lang {
        let prefix = pieces
            .iter()
            .map_while(|p| match p {
                Piece::Literal(l) => Some(l.as_str()),
                _ => None,
            })
            .collect();
        Lang {
            nfa: Nfa::concat(pieces, a),
            prefix,
            universal: pieces == [Piece::Any],
        }
    }

    /// Whether the prefixes agree (one starts the other); when not, nothing is shared.
    fn agrees(&self, other: &Lang) -> bool {
        self.prefix.starts_with(&other.prefix) || other.prefix.starts_with(&self.prefix)
    }

    /// The strings both languages hold, or `None` when their prefixes already disagree.
    fn meet(&self, other: &Lang) -> Option<Nfa> {
        if other.universal {
            return Some(self.nfa.clone());
        }
        self.agrees(other).then(|| self.nfa.intersect(&other.nfa))
    }
}

/// Which entities a pattern's key condition can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The pattern's own entities that no item can match through its condition.
    pub unreachable: Vec<usize>,
    /// Other entities whose items the condition can match, each with a key it matches
    /// (quoted, partition then sort key).
    pub others: Vec<(usize, String)>,
}

impl<'s> KeySpace<'s> {
    pub fn new(table: &'s ir::Table, entities: &'s [ir::Entity], patterns: &[Pattern]) -> Self {
        let mut chars: Vec<char> = RESERVED_PREFIX.chars().collect();
        for e in entities {
            for key in e.keys.iter().filter(|k| !k.composite) {
                let (pk, sk) = table.key_attributes(key.index);
                for (t, attr) in [(Some(&key.pk), pk), (key.sk.as_ref(), sk.unwrap_or(pk))] {
                    let Some(t) = t else { continue };
                    for piece in pieces(t, e, attr) {
                        chars.extend(piece.chars());
                    }
                }
            }
        }
        for p in patterns {
            if let SortCondition::Literal { values, .. } = &p.sort {
                chars.extend(values.iter().flat_map(|v| v.chars()));
            }
            for (ph, lit) in &p.fixed {
                let e = &entities[p.entities[0]];
                chars.extend(fixed_text(&e.attributes[ph.attr], ph.format, lit).chars());
            }
        }
        let mut space = KeySpace {
            table,
            entities,
            alphabet: Alphabet::new(chars),
            keys: Vec::new(),
        };
        space.keys = (0..entities.len()).map(|e| space.key_langs(e)).collect();
        space
    }

    fn key_langs(&self, e: usize) -> Vec<KeyLangs> {
        let entity = &self.entities[e];
        entity
            .keys
            .iter()
            .filter(|k| !k.composite)
            .map(|k| {
                let (pk, sk) = self.table.key_attributes(k.index);
                KeyLangs {
                    index: k.index,
                    pk: self.lang(&self.pieces(e, &k.pk, pk)),
                    sk: k
                        .sk
                        .as_ref()
                        .zip(sk)
                        .map(|(t, attr)| self.lang(&self.pieces(e, t, attr))),
                }
            })
            .collect()
    }

    fn lang(&self, pieces: &[Piece]) -> Lang {
        Lang::new(pieces, &self.alphabet)
    }

    fn nfa(&self, pieces: &[Piece]) -> Nfa {
        Nfa::concat(pieces, &self.alphabet)
    }

    /// The languages of entity `e`'s key on `index`, if it has one the model covers.
    fn langs_on(&self, e: usize, index: IndexRef) -> Option<&KeyLangs> {
        self.keys[e].iter().find(|k| k.index == index)
    }

    /// A witness of the strings two languages share.
    fn shared(&self, a: &Lang, b: &Lang) -> Option<String> {
        a.meet(b)?.witness(&self.alphabet)
    }

    /// What template `t` of entity `e` renders for the key attribute `attr`. The table's
    /// partition key as a number holds 0 and above: writes refuse negative values, which
    /// dyngen's own items use ([`RESERVED_PREFIX`]'s numeric counterpart).
    pub fn pieces(&self, e: usize, t: &ir::Template, attr: &str) -> Vec<Piece> {
        let entity = &self.entities[e];
        if attr == self.table.partition_key && entity.numeric_partition_key().is_some() {
            return vec![Piece::Natural];
        }
        pieces(t, entity, attr)
    }

    /// A key that template `t` of entity `e` renders from two different sets of values,
    /// or `None` when its rendering is injective.
    pub fn ambiguity(&self, e: usize, t: &ir::Template, attr: &str) -> Option<String> {
        // With one placeholder, the literals around it are fixed: one split only.
        t.placeholders().nth(1)?;
        self.nfa(&self.pieces(e, t, attr)).ambiguity(&self.alphabet)
    }

    /// The primary key (partition, sort) that items of entities `a` and `b` can both
    /// have, or `None` when no item of one can ever overwrite an item of the other.
    pub fn primary_overlap(&self, a: usize, b: usize) -> Option<(String, Option<String>)> {
        self.entities[a].lowered_primary_key()?;
        self.entities[b].lowered_primary_key()?;
        let (ka, kb) = (
            self.langs_on(a, IndexRef::Primary)?,
            self.langs_on(b, IndexRef::Primary)?,
        );
        // Both sort keys first: they tell most entities apart.
        let sk_witness = match (&ka.sk, &kb.sk) {
            (Some(x), Some(y)) => Some(self.shared(x, y)?),
            _ => None,
        };
        Some((self.shared(&ka.pk, &kb.pk)?, sk_witness))
    }

    /// A partition key of entity `e` that starts with [`RESERVED_PREFIX`], the prefix of
    /// dyngen's own items (or, on a table whose partition key is a number, is negative),
    /// or `None` when no value can forge one.
    pub fn reserved_overlap(&self, e: usize) -> Option<String> {
        self.entities[e].lowered_primary_key()?;
        let key = self.langs_on(e, IndexRef::Primary)?;
        let numeric = self.entities[e].numeric_partition_key().is_some();
        let reserved = match numeric {
            true => self.lang(&[Piece::Literal("-".into()), Piece::Any]),
            false => self.lang(&[Piece::Literal(RESERVED_PREFIX.into()), Piece::Any]),
        };
        self.shared(&key.pk, &reserved)
    }

    /// Which entities pattern `p`'s key condition can match on its index. Multi-attribute
    /// keys compare each attribute by value and are left to their own checks.
    pub fn reach(&self, p: &Pattern) -> Reach {
        let mut reach = Reach {
            unreachable: Vec::new(),
            others: Vec::new(),
        };
        let first = &self.entities[p.entities[0]];
        let Some(key) = first.key_for(p.index).filter(|k| !k.composite) else {
            return reach;
        };
        let (pk_attr, sk_attr) = self.table.key_attributes(p.index);
        let pk_cond = self.lang(&condition_pieces(&key.pk, first, pk_attr, p, None));
        let sk_conds: Vec<Lang> = match (&key.sk, sk_attr) {
            (Some(sk), Some(attr)) => sort_conditions(sk, first, attr, p)
                .iter()
                .map(|c| self.lang(c))
                .collect(),
            _ => Vec::new(),
        };
        for e in 0..self.entities.len() {
            let Some(k) = self.langs_on(e, p.index) else {
                continue;
            };
            // Settled by the literal prefixes alone for most entities of a schema.
            let agrees = k.pk.agrees(&pk_cond);
            let witness = agrees
                .then(|| self.sort_witness(k.sk.as_ref(), &sk_conds))
                .flatten()
                .and_then(|sk| {
                    let pk = self.shared(&k.pk, &pk_cond)?;
                    Some(match sk {
                        Some(sk) => format!("`{pk}` / `{sk}`"),
                        None => format!("`{pk}`"),
                    })
                });
            match (p.entities.contains(&e), witness) {
                (true, None) => reach.unreachable.push(e),
                (false, Some(w)) => reach.others.push((e, w)),
                _ => {}
            }
        }
        reach
    }

    /// A sort key of `sk` that meets every condition: `Some(None)` when there is nothing
    /// to meet (no sort key, or no condition), `None` when no key meets them.
    fn sort_witness(&self, sk: Option<&Lang>, conds: &[Lang]) -> Option<Option<String>> {
        let Some(sk) = sk else { return Some(None) };
        let Some((first, rest)) = conds.split_first() else {
            return Some(sk.nfa.witness(&self.alphabet));
        };
        if conds.iter().any(|c| !sk.agrees(c)) {
            return None;
        }
        let mut both = sk.meet(first)?;
        for c in rest.iter().filter(|c| !c.universal) {
            both = both.intersect(&c.nfa);
        }
        both.witness(&self.alphabet).map(Some)
    }
}

/// What each part of a template renders, for the key attribute `attr`.
pub fn pieces(t: &ir::Template, entity: &ir::Entity, attr: &str) -> Vec<Piece> {
    let whole = ir::is_attribute_key(t, &entity.attributes, attr);
    t.parts
        .iter()
        .map(|part| match part {
            Part::Literal(l) => Piece::Literal(l.clone()),
            Part::Placeholder(ph) => {
                placeholder_piece(&entity.attributes[ph.attr], ph.format, whole)
            }
        })
        .collect()
}

/// The strings the runtime's encoder renders for one placeholder. An attribute key
/// (`{GameTitle}` for the key attribute `GameTitle`) holds the value itself, unencoded.
fn placeholder_piece(attr: &ir::Attribute, format: PlaceholderFormat, whole: bool) -> Piece {
    let raw = whole || format == PlaceholderFormat::Raw;
    match (&attr.ty, format) {
        (_, PlaceholderFormat::Year) => Piece::Shape("9999".into()),
        (_, PlaceholderFormat::Padded(w)) => Piece::Shape("9".repeat(usize::from(w))),
        (Type::String, _) if whole => Piece::Any,
        (Type::String, _) if raw => Piece::Raw,
        (Type::String, _) => Piece::Escaped,
        (Type::Enum(e), _) => Piece::Words(
            e.variants
                .iter()
                .map(|v| encode_text(&v.value, raw))
                .collect(),
        ),
        (Type::Bool, _) => Piece::Words(vec!["true".into(), "false".into()]),
        (Type::Integer, _) => Piece::Integer,
        (Type::Date, _) => Piece::Shape("9999-99-99".into()),
        (Type::Timestamp, _) => Piece::Shape("9999-99-99T99:99:99.999Z".into()),
        // Other types cannot stand in keys (the validator refuses them): match anything.
        _ => Piece::Any,
    }
}

/// Text as a key stores it: escaped by the runtime's one escaper, or raw.
fn encode_text(text: &str, raw: bool) -> String {
    if raw {
        return text.to_string();
    }
    let mut out = String::new();
    dyngen_runtime::key::push_escaped(&mut out, text);
    out
}

/// A fixed input's value as the key renders it.
fn fixed_text(attr: &ir::Attribute, format: PlaceholderFormat, lit: &Literal) -> String {
    let raw = format == PlaceholderFormat::Raw;
    match (lit, &attr.ty, format) {
        (Literal::Integer(n), _, PlaceholderFormat::Padded(w)) => {
            let mut out = String::new();
            dyngen_runtime::key::push_padded(&mut out, n, w);
            out
        }
        (Literal::Integer(n), _, _) => n.to_string(),
        (Literal::Bool(b), _, _) => b.to_string(),
        (Literal::String(s), _, _) => encode_text(s, raw),
        (Literal::Enum(i), Type::Enum(e), _) => encode_text(&e.variants[*i].value, raw),
        _ => String::new(),
    }
}

/// A template's pieces with the pattern's fixed inputs rendered in place, up to (not
/// including) the part at `stop`.
fn condition_pieces(
    t: &ir::Template,
    entity: &ir::Entity,
    attr: &str,
    p: &Pattern,
    stop: Option<usize>,
) -> Vec<Piece> {
    let mut out = pieces(t, entity, attr);
    for (i, part) in t.parts.iter().enumerate() {
        if let Part::Placeholder(ph) = part
            && let Some((_, lit)) = p.fixed.iter().find(|(f, _)| f == ph)
        {
            out[i] = Piece::Literal(fixed_text(&entity.attributes[ph.attr], ph.format, lit));
        }
    }
    out.truncate(stop.unwrap_or(out.len()));
    out
}

/// The sort-key conditions of pattern `p` (all must hold), over the first entity's sort
/// template `sk`. Ranges over an input are widened to the template's prefix before it.
fn sort_conditions(
    sk: &ir::Template,
    entity: &ir::Entity,
    attr: &str,
    p: &Pattern,
) -> Vec<Vec<Piece>> {
    let given = |ph: &ir::Placeholder| {
        p.inputs.iter().any(|i| &i.placeholder == ph) || p.fixed.iter().any(|(f, _)| f == ph)
    };
    let first_open = sk
        .parts
        .iter()
        .position(|part| matches!(part, Part::Placeholder(ph) if !given(ph)));
    let prefix_then_any = |stop: Option<usize>| {
        let mut c = condition_pieces(sk, entity, attr, p, stop);
        c.push(Piece::Any);
        vec![c]
    };
    match &p.sort {
        SortCondition::None => Vec::new(),
        SortCondition::Equals => vec![condition_pieces(sk, entity, attr, p, None)],
        SortCondition::BeginsWith | SortCondition::Compare { .. } => prefix_then_any(first_open),
        SortCondition::Literal { op, values } => {
            let bound = |b: Bound, v: &String| vec![Piece::Compare(b, v.clone())];
            match op {
                ir::LiteralOp::BeginsWith => {
                    vec![vec![Piece::Literal(values[0].clone()), Piece::Any]]
                }
                ir::LiteralOp::Between => {
                    vec![bound(Bound::Gte, &values[0]), bound(Bound::Lte, &values[1])]
                }
                ir::LiteralOp::Lt => vec![bound(Bound::Lt, &values[0])],
                ir::LiteralOp::Lte => vec![bound(Bound::Lte, &values[0])],
                ir::LiteralOp::Gt => vec![bound(Bound::Gt, &values[0])],
                ir::LiteralOp::Gte => vec![bound(Bound::Gte, &values[0])],
            }
        }
    }
}

/// Whether index `index` is one the key space models (not multi-attribute).
pub fn modelled(table: &ir::Table, index: IndexRef) -> bool {
    match index {
        IndexRef::Primary => true,
        IndexRef::Gsi(i) => table.indexes[i].composite.is_none(),
    }
}
