//! A seeded mutator of schema texts: one small edit of a correct design at a time, as a
//! careless or hostile user would make it. Shared by `tests/fuzz_schemas.rs` and the build
//! script of `tests/app` (which compiles a sample of the accepted mutants).

use std::fs;
use std::path::Path;

/// splitmix64: small and seedable.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces an edit may insert: YAML syntax, template syntax, names of the schema's own
/// roles, and characters that break naive code (NUL, escapes, non-ASCII, big numbers).
const INSERTS: &[&str] = &[
    "#",
    "{",
    "}",
    ":",
    "\"",
    "'",
    "\t",
    "\0",
    "\\",
    "&a",
    "*a",
    "- ",
    "[",
    "]",
    "pk",
    "sk",
    "gsi1pk",
    "gsi1sk",
    "_type",
    "expiresAt",
    "createdAt",
    "updatedAt",
    "version",
    "Db",
    "Error",
    "self",
    "type",
    "é",
    "💥",
    "%",
    "{email}",
    "{name:year}",
    "0",
    "-1",
    "3000000000",
    "true",
    "null",
    "~",
    "primary",
    "many_to_many",
    "provisioned",
    "unique",
    ", unique: true",
    "{email:raw}",
    ", escape: false",
    ", stored_as: epoch_millis",
    "stored_as",
    "TableChange",
    "Other",
    "{updatedAt}",
    "with_",
    "\n    check_ends: true",
];

/// One edit of `text`: a line deleted, duplicated or swapped, a word replaced by another
/// of the file's words, or a piece inserted.
pub fn mutate(text: &str, r: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '#' | '{' | '}')))
        .filter(|w| !w.is_empty())
        .collect();
    let n = lines.len();
    match r.below(6) {
        0 => {
            lines.remove(r.below(n));
        }
        1 => {
            let i = r.below(n);
            let line = lines[i].clone();
            lines.insert(i, line);
        }
        2 => lines.swap(r.below(n), r.below(n)),
        3 | 4 => {
            let i = r.below(n);
            let from = words[r.below(words.len())];
            let to = words[r.below(words.len())];
            lines[i] = lines[i].replacen(from, to, 1);
        }
        _ => {
            let i = r.below(n);
            let chars = lines[i].chars().count();
            let at = lines[i]
                .char_indices()
                .map(|(k, _)| k)
                .nth(r.below(chars + 1))
                .unwrap_or(lines[i].len());
            lines[i].insert_str(at, INSERTS[r.below(INSERTS.len())]);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// One to three edits of one of `seeds`.
pub fn mutant(seeds: &[String], r: &mut Rng) -> String {
    let mut text = seeds[r.below(seeds.len())].clone();
    for _ in 0..1 + r.below(3) {
        text = mutate(&text, r);
    }
    text
}

/// The correct designs the mutants start from: the example schema and every valid fixture.
pub fn seeds(root: &Path) -> Vec<String> {
    let mut out = vec![fs::read_to_string(root.join("schema.yaml")).unwrap()];
    let mut dirs: Vec<_> = fs::read_dir(root.join("tests/fixtures/valid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let schema = dir.join("schema.yaml");
        if schema.is_file() {
            out.push(fs::read_to_string(schema).unwrap());
        }
    }
    out
}
