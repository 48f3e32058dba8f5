//! Key languages: the set of strings a key template can render, as a finite automaton.
//!
//! Keys are Unicode strings, but a schema only ever distinguishes finitely many
//! characters: those its literals spell, the digits and signs numbers and dates render,
//! the escape characters. Every other character is treated alike by every template, so
//! the automata run over an [`Alphabet`] of those characters plus one symbol for each gap
//! between them. Gaps keep code-point order, so comparisons (`sk < "m"`) are exact too.
//! Over that alphabet, emptiness of an intersection and ambiguity of a template are
//! decided exactly, and each answer comes with a witness string.

use std::collections::{BTreeSet, HashMap, VecDeque};

/// A symbol of an [`Alphabet`]: an index into its ordered symbols.
pub type Sym = usize;

/// The characters a schema distinguishes, and one symbol per non-empty gap between them,
/// in code-point order.
#[derive(Debug, Clone)]
pub struct Alphabet {
    /// Each symbol's range of characters, inclusive; a concrete character has `lo == hi`.
    ranges: Vec<(char, char)>,
}

impl Alphabet {
    /// The alphabet that tells `chars` apart from each other and from everything else.
    pub fn new(chars: impl IntoIterator<Item = char>) -> Alphabet {
        let chars: BTreeSet<char> = chars.into_iter().collect();
        let mut ranges = Vec::new();
        let mut next = Some('\0');
        for c in chars {
            if let Some(lo) = next
                && lo < c
            {
                ranges.push((lo, char_before(c)));
            }
            ranges.push((c, c));
            next = char_after(c);
        }
        if let Some(lo) = next {
            ranges.push((lo, char::MAX));
        }
        Alphabet { ranges }
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The symbol standing for `c`.
    pub fn sym(&self, c: char) -> Sym {
        self.ranges
            .partition_point(|&(_, hi)| hi < c)
            .min(self.ranges.len() - 1)
    }

    /// Whether a symbol is one character the schema names (not a gap).
    pub fn is_concrete(&self, s: Sym) -> bool {
        self.ranges[s].0 == self.ranges[s].1
    }

    /// A readable character for a symbol, for witnesses.
    pub fn example(&self, s: Sym) -> char {
        let (lo, hi) = self.ranges[s];
        "xyzqjkvw_XYZ~!*"
            .chars()
            .find(|c| (lo..=hi).contains(c))
            .unwrap_or(lo)
    }

    fn all(&self) -> std::ops::Range<Sym> {
        0..self.ranges.len()
    }
}

fn char_before(c: char) -> char {
    match c {
        '\u{E000}' => '\u{D7FF}',
        c => char::from_u32(c as u32 - 1).unwrap_or('\0'),
    }
}

fn char_after(c: char) -> Option<char> {
    match c {
        '\u{D7FF}' => Some('\u{E000}'),
        char::MAX => None,
        c => char::from_u32(c as u32 + 1),
    }
}

/// One piece of a key: what a literal or a placeholder can render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Exactly this text.
    Literal(String),
    /// Any string with `%` and `#` escaped as `%25` and `%23` (the empty string too).
    Escaped,
    /// Any string without `#`, stored as it is.
    Raw,
    /// One of these texts (enum values, `true`/`false`).
    Words(Vec<String>),
    /// An integer in decimal: `0`, or an optional `-` and digits without a leading zero.
    Integer,
    /// A non-negative integer in decimal.
    Natural,
    /// A shape of fixed length where `9` stands for any digit and every other character
    /// for itself (`9999-99-99` for a date, `9999999` for `{n:07}`).
    Shape(String),
    /// Any string at all (what follows a `begins_with` prefix).
    Any,
    /// Strings ordered against a bound by DynamoDB's byte order.
    Compare(Bound, String),
}

/// A comparison of a whole key against a literal, as a key condition makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Piece {
    /// The characters this piece must tell apart from others.
    pub fn chars(&self) -> Vec<char> {
        match self {
            Piece::Literal(s) | Piece::Shape(s) | Piece::Compare(_, s) => s.chars().collect(),
            Piece::Words(w) => w.iter().flat_map(|s| s.chars()).collect(),
            Piece::Escaped => "%#235".chars().collect(),
            Piece::Raw => vec!['#'],
            Piece::Integer | Piece::Natural => "-0123456789".chars().collect(),
            Piece::Any => Vec::new(),
        }
        .into_iter()
        .chain('0'..='9')
        .collect()
    }
}

/// A deterministic automaton for one piece: `next[state][symbol]`.
struct Dfa {
    accept: Vec<bool>,
    next: Vec<Vec<Option<usize>>>,
}

impl Dfa {
    fn new(states: usize, syms: usize) -> Dfa {
        Dfa {
            accept: vec![false; states],
            next: vec![vec![None; syms]; states],
        }
    }

    /// A trie of words (one word for a literal).
    fn words<'w>(a: &Alphabet, words: impl IntoIterator<Item = &'w str>) -> Dfa {
        let mut d = Dfa::new(1, a.len());
        for w in words {
            let mut s = 0;
            for c in w.chars() {
                let sym = a.sym(c);
                s = match d.next[s][sym] {
                    Some(t) => t,
                    None => {
                        d.accept.push(false);
                        d.next.push(vec![None; a.len()]);
                        let t = d.accept.len() - 1;
                        d.next[s][sym] = Some(t);
                        t
                    }
                };
            }
            d.accept[s] = true;
        }
        d
    }

    fn of(piece: &Piece, a: &Alphabet) -> Dfa {
        match piece {
            Piece::Literal(s) => Dfa::words(a, [s.as_str()]),
            Piece::Words(w) => Dfa::words(a, w.iter().map(String::as_str)),
            Piece::Escaped => escaped(a),
            Piece::Raw => loop_except(a, &[a.sym('#')]),
            Piece::Any => loop_except(a, &[]),
            Piece::Integer => integer(a, true),
            Piece::Natural => integer(a, false),
            Piece::Shape(s) => shape(a, s),
            Piece::Compare(b, v) => compare(a, *b, v),
        }
    }
}

fn loop_except(a: &Alphabet, except: &[Sym]) -> Dfa {
    let mut d = Dfa::new(1, a.len());
    d.accept[0] = true;
    for s in a.all().filter(|s| !except.contains(s)) {
        d.next[0][s] = Some(0);
    }
    d
}

/// Text with `%` and `#` escaped: `%` is only ever followed by `23` or `25`.
fn escaped(a: &Alphabet) -> Dfa {
    let (pct, hash) = (a.sym('%'), a.sym('#'));
    let mut d = loop_except(a, &[pct, hash]);
    d.accept.extend([false, false]);
    d.next.extend([vec![None; a.len()], vec![None; a.len()]]);
    d.next[0][pct] = Some(1);
    d.next[1][a.sym('2')] = Some(2);
    d.next[2][a.sym('3')] = Some(0);
    d.next[2][a.sym('5')] = Some(0);
    d
}

/// `0 | -?[1-9][0-9]*`, without the sign when `signed` is false.
fn integer(a: &Alphabet, signed: bool) -> Dfa {
    // 0: start, 1: after `-`, 2: zero, 3: digits.
    let mut d = Dfa::new(4, a.len());
    d.accept[2] = true;
    d.accept[3] = true;
    if signed {
        d.next[0][a.sym('-')] = Some(1);
    }
    d.next[0][a.sym('0')] = Some(2);
    for c in '1'..='9' {
        d.next[0][a.sym(c)] = Some(3);
        d.next[1][a.sym(c)] = Some(3);
    }
    for c in '0'..='9' {
        d.next[3][a.sym(c)] = Some(3);
    }
    d
}

fn shape(a: &Alphabet, shape: &str) -> Dfa {
    let n = shape.chars().count();
    let mut d = Dfa::new(n + 1, a.len());
    d.accept[n] = true;
    for (i, c) in shape.chars().enumerate() {
        if c == '9' {
            for digit in '0'..='9' {
                d.next[i][a.sym(digit)] = Some(i + 1);
            }
        } else {
            d.next[i][a.sym(c)] = Some(i + 1);
        }
    }
    d
}

/// Strings that compare with `bound` as `b` says, symbol by symbol in code-point order
/// (which is UTF-8 byte order). States: `i` = equal to the bound's first `i` characters,
/// then one state where the order is decided in the caller's favour.
fn compare(a: &Alphabet, b: Bound, bound: &str) -> Dfa {
    let v: Vec<Sym> = bound.chars().map(|c| a.sym(c)).collect();
    let n = v.len();
    let decided = n + 1;
    let mut d = Dfa::new(n + 2, a.len());
    let below = matches!(b, Bound::Lt | Bound::Lte);
    d.accept[decided] = true;
    for s in a.all() {
        d.next[decided][s] = Some(decided);
    }
    for (i, &vi) in v.iter().enumerate() {
        // A proper prefix of the bound sorts below it.
        d.accept[i] = below;
        d.next[i][vi] = Some(i + 1);
        for s in a.all() {
            if (below && s < vi) || (!below && s > vi) {
                d.next[i][s] = Some(decided);
            }
        }
    }
    d.accept[n] = matches!(b, Bound::Lte | Bound::Gte);
    if !below {
        // Longer than the bound with it as a prefix: above it.
        for s in a.all() {
            d.next[n][s] = Some(decided);
        }
    }
    d
}

/// A nondeterministic automaton without ε-moves, from one start state. Built so that
/// each way of splitting a string into pieces is exactly one path: ambiguity of the
/// automaton is ambiguity of the template.
#[derive(Debug, Clone)]
pub struct Nfa {
    accept: Vec<bool>,
    trans: Vec<Vec<(Sym, usize)>>,
}

impl Nfa {
    /// The concatenation of `pieces`: a state is (piece, state of its automaton); leaving
    /// a piece in an accepting state steps into the next piece (or past pieces that
    /// accept the empty string) on the same symbol, so no ε-path is ever duplicated.
    pub fn concat(pieces: &[Piece], a: &Alphabet) -> Nfa {
        let dfas: Vec<Dfa> = pieces.iter().map(|p| Dfa::of(p, a)).collect();
        let mut offset = vec![0];
        for d in &dfas {
            offset.push(offset.last().copied().unwrap_or(0) + d.accept.len());
        }
        let total = *offset.last().unwrap_or(&0);
        let nullable_from = |i: usize| dfas[i..].iter().all(|d| d.accept[0]);
        let mut nfa = Nfa {
            accept: vec![false; total.max(1)],
            trans: vec![Vec::new(); total.max(1)],
        };
        if dfas.is_empty() {
            nfa.accept[0] = true;
            return nfa;
        }
        for (i, d) in dfas.iter().enumerate() {
            for s in 0..d.accept.len() {
                let id = offset[i] + s;
                nfa.accept[id] = d.accept[s] && nullable_from(i + 1);
                let mut out: Vec<(Sym, usize)> = Vec::new();
                for sym in a.all() {
                    if let Some(t) = d.next[s][sym] {
                        out.push((sym, offset[i] + t));
                    }
                }
                if d.accept[s] {
                    for (j, dj) in dfas.iter().enumerate().skip(i + 1) {
                        for sym in a.all() {
                            if let Some(t) = dj.next[0][sym] {
                                out.push((sym, offset[j] + t));
                            }
                        }
                        if !dj.accept[0] {
                            break;
                        }
                    }
                }
                // Sorted by symbol, so products can walk two states' moves together.
                out.sort_unstable();
                nfa.trans[id] = out;
            }
        }
        nfa
    }

    /// The strings both automata accept, as one automaton (the product).
    pub fn intersect(&self, other: &Nfa) -> Nfa {
        let mut ids: HashMap<(usize, usize), usize> = HashMap::from([((0, 0), 0)]);
        let mut queue = VecDeque::from([(0usize, 0usize)]);
        let mut out = Nfa {
            accept: vec![self.accept[0] && other.accept[0]],
            trans: vec![Vec::new()],
        };
        while let Some((p, q)) = queue.pop_front() {
            let from = ids[&(p, q)];
            joint_moves(&self.trans[p], &other.trans[q], |s, p2, q2| {
                let next = ids.len();
                let to = *ids.entry((p2, q2)).or_insert_with(|| {
                    queue.push_back((p2, q2));
                    next
                });
                if to == next {
                    out.accept.push(self.accept[p2] && other.accept[q2]);
                    out.trans.push(Vec::new());
                }
                out.trans[from].push((s, to));
            });
        }
        out
    }

    /// A shortest accepted string, or `None` when the language is empty.
    pub fn witness(&self, a: &Alphabet) -> Option<String> {
        self.shortest().map(|syms| spell(a, &syms))
    }

    pub fn is_empty(&self) -> bool {
        self.shortest().is_none()
    }

    fn shortest(&self) -> Option<Vec<Sym>> {
        let mut parent: HashMap<usize, (usize, Sym)> = HashMap::new();
        let mut queue = VecDeque::from([0usize]);
        let mut seen = vec![false; self.accept.len()];
        seen[0] = true;
        while let Some(p) = queue.pop_front() {
            if self.accept[p] {
                return Some(path_to(&parent, p));
            }
            for &(s, q) in &self.trans[p] {
                if !seen[q] {
                    seen[q] = true;
                    parent.insert(q, (p, s));
                    queue.push_back(q);
                }
            }
        }
        None
    }

    /// A string accepted along two different paths (for a template: rendered from two
    /// different splits into values), or `None` when every string has one path. Two
    /// paths of one string first part at a pair of different states from which both can
    /// still finish on the same string; the search looks for such a pair.
    pub fn ambiguity(&self, a: &Alphabet) -> Option<String> {
        let n = self.accept.len();
        let pair = |p: usize, q: usize| p * n + q;
        let mut parent: HashMap<usize, (usize, Sym)> = HashMap::new();
        let mut seen = vec![false; n * n];
        let mut order = vec![pair(0, 0)];
        seen[pair(0, 0)] = true;
        let mut edges: Vec<(usize, Sym, usize)> = Vec::new();
        let mut i = 0;
        while i < order.len() {
            let (p, q) = (order[i] / n, order[i] % n);
            i += 1;
            joint_moves(&self.trans[p], &self.trans[q], |s, p2, q2| {
                let to = pair(p2, q2);
                edges.push((pair(p, q), s, to));
                if !seen[to] {
                    seen[to] = true;
                    parent.insert(to, (pair(p, q), s));
                    order.push(to);
                }
            });
        }
        // From which reached pairs an accepting pair can be reached, and how.
        let mut onward: HashMap<usize, (usize, Sym)> = HashMap::new();
        let mut finishing: VecDeque<usize> = order
            .iter()
            .copied()
            .filter(|&x| self.accept[x / n] && self.accept[x % n])
            .collect();
        let mut can_finish = vec![false; n * n];
        for &x in &finishing {
            can_finish[x] = true;
        }
        let mut into: HashMap<usize, Vec<(usize, Sym)>> = HashMap::new();
        for &(from, s, to) in &edges {
            into.entry(to).or_default().push((from, s));
        }
        while let Some(x) = finishing.pop_front() {
            for &(from, s) in into.get(&x).map(Vec::as_slice).unwrap_or_default() {
                if !can_finish[from] {
                    can_finish[from] = true;
                    onward.insert(from, (x, s));
                    finishing.push_back(from);
                }
            }
        }
        let split = order
            .iter()
            .copied()
            .find(|&x| x / n != x % n && can_finish[x])?;
        let mut syms = path_to(&parent, split);
        let mut at = split;
        while let Some(&(next, s)) = onward.get(&at) {
            syms.push(s);
            at = next;
        }
        Some(spell(a, &syms))
    }
}

/// Calls `f(symbol, a's target, b's target)` for every pair of moves on one symbol; both
/// lists are sorted by symbol, so they are walked together once.
fn joint_moves(a: &[(Sym, usize)], b: &[(Sym, usize)], mut f: impl FnMut(Sym, usize, usize)) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (sa, sb) = (a[i].0, b[j].0);
        if sa < sb {
            i += 1;
        } else if sb < sa {
            j += 1;
        } else {
            let i_end = i + a[i..].iter().take_while(|m| m.0 == sa).count();
            let j_end = j + b[j..].iter().take_while(|m| m.0 == sa).count();
            for x in &a[i..i_end] {
                for y in &b[j..j_end] {
                    f(sa, x.1, y.1);
                }
            }
            (i, j) = (i_end, j_end);
        }
    }
}

fn path_to(parent: &HashMap<usize, (usize, Sym)>, mut at: usize) -> Vec<Sym> {
    let mut syms = Vec::new();
    while let Some(&(p, s)) = parent.get(&at) {
        syms.push(s);
        at = p;
    }
    syms.reverse();
    syms
}

fn spell(a: &Alphabet, syms: &[Sym]) -> String {
    syms.iter().map(|&s| a.example(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alphabet(pieces: &[&[Piece]]) -> Alphabet {
        Alphabet::new(pieces.iter().flat_map(|p| p.iter().flat_map(Piece::chars)))
    }

    fn lit(s: &str) -> Piece {
        Piece::Literal(s.into())
    }

    #[test]
    fn separators_other_than_the_escaped_one_are_ambiguous() {
        let dash = [lit("U#"), Piece::Escaped, lit("-"), Piece::Escaped];
        let hash = [lit("U#"), Piece::Escaped, lit("#"), Piece::Escaped];
        let a = alphabet(&[&dash, &hash]);
        let w = Nfa::concat(&dash, &a).ambiguity(&a).expect("ambiguous");
        assert!(w.starts_with("U#") && w.matches('-').count() >= 2, "{w}");
        assert_eq!(Nfa::concat(&hash, &a).ambiguity(&a), None);
        // A number ends before a `-` that follows it: unambiguous.
        let num = [Piece::Integer, lit("-"), Piece::Escaped];
        let a = alphabet(&[&num]);
        assert_eq!(Nfa::concat(&num, &a).ambiguity(&a), None);
        let digits = [Piece::Integer, lit("1"), Piece::Integer];
        assert!(Nfa::concat(&digits, &a).ambiguity(&a).is_some());
    }

    #[test]
    fn intersections_find_shared_keys() {
        let padded = [lit("N#"), Piece::Shape("9999999".into())];
        let plain = [lit("N#"), Piece::Integer];
        let text = [lit("N#"), Piece::Escaped];
        let a = alphabet(&[&padded, &plain, &text]);
        let (p, n, t) = (
            Nfa::concat(&padded, &a),
            Nfa::concat(&plain, &a),
            Nfa::concat(&text, &a),
        );
        let w = p.intersect(&n).witness(&a).expect("1000000 is both");
        assert_eq!(w.len(), 9);
        assert!(p.intersect(&t).witness(&a).is_some());
        let raw = Nfa::concat(&[lit("N#"), Piece::Raw], &a);
        assert_eq!(raw.intersect(&t).witness(&a).as_deref(), Some("N#"));
        let other = Nfa::concat(&[lit("M#"), Piece::Raw], &a);
        assert!(other.intersect(&t).is_empty());
    }

    #[test]
    fn comparisons_follow_byte_order() {
        let bound = "m#5";
        let key = [lit("m#"), Piece::Escaped];
        let a = alphabet(&[&key, &[lit(bound)]]);
        let k = Nfa::concat(&key, &a);
        for (b, expect) in [
            (Bound::Lt, true),
            (Bound::Gt, true),
            (Bound::Lte, true),
            (Bound::Gte, true),
        ] {
            let c = Nfa::concat(&[Piece::Compare(b, bound.into())], &a);
            let w = k.intersect(&c).witness(&a);
            assert_eq!(w.is_some(), expect, "{b:?}");
            let w = w.unwrap_or_default();
            let ok = match b {
                Bound::Lt => w.as_str() < bound,
                Bound::Lte => w.as_str() <= bound,
                Bound::Gt => w.as_str() > bound,
                Bound::Gte => w.as_str() >= bound,
            };
            assert!(ok, "{w} {b:?} {bound}");
        }
        let below = Nfa::concat(&[Piece::Compare(Bound::Lt, "a".into())], &a);
        assert!(k.intersect(&below).is_empty(), "every m#... sorts above a");
    }
}
