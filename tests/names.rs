//! Generated names never collide: random schemas built from names chosen to collide after
//! conversion (`toTags`/`tags`, `linkA`/`a`, `Db`, `send`, keywords) are generated, and for
//! every one dyngen accepts, the Rust output is parsed back and checked scope by scope —
//! module items per namespace, the methods of every type across its inherent impls, the
//! fields of every struct, the parameters of every function. A rejected schema must be
//! rejected with a located diagnostic, never a panic or an internal error. Every
//! identifier in the output is ASCII, whatever script the schema's names use.

use std::collections::BTreeMap;

use dyngen::diag::Source;

mod common;
use common::Rng;

const ENTITY_NAMES: &[&str] = &[
    "User",
    "user",
    "Db",
    "Date",
    "Link",
    "A",
    "a",
    "Post",
    "PostKey",
    "Send",
    "Café",
    "Ωmega",
    // `TableChange` and its variant for items of no entity.
    "Other",
    "OtherItem",
    "TableChange",
];
const ATTR_NAMES: &[&str] = &[
    "a",
    "A",
    "tags",
    "toTags",
    "to_tags",
    "set",
    "send",
    "membership",
    "x",
    "aB",
    "a_b",
    "type",
    "self",
    "from",
    "x_from",
    "to",
    "items",
    "delta",
    "version",
    "dob",
    "dobYear",
    // Look-alikes from other scripts, non-ASCII letters, and a control character.
    "scope",
    "\u{455}cope",
    "café",
    "naïve",
    "a\nb",
];
const PATTERN_NAMES: &[&str] = &[
    "\u{455}cope",
    "日本",
    "linkA",
    "link_a",
    "a",
    "user",
    "new",
    "send",
    "client",
    "tags",
    "transaction",
    "linkMembership",
    "byX",
];
const TYPES: &[&str] = &[
    "string",
    "integer",
    "float",
    "string_set",
    "number_set",
    "list",
    "bool",
    "date",
];

fn json(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// One random schema: entities whose first attribute (a string) keys them, optional extra
/// attributes, patterns on the primary index, and maybe a many-to-many relationship.
fn random_schema(rng: &mut Rng) -> String {
    // Half the schemas decode their stream (`TableChange`, a variant per entity).
    let streams = if rng.below(2) == 0 {
        "  stream: new_and_old_images\n"
    } else {
        ""
    };
    let mut y = format!(
        "version: 1\ntable:\n  name: app\n  partition_key: pk\n  sort_key: sk\n{streams}  indexes:\n    gsi1: {{ partition_key: g1pk, sort_key: g1sk }}\n{}entities:\n",
        if streams.is_empty() {
            ""
        } else {
            "rust: { streams: true }\n"
        }
    );
    let n_entities = 1 + rng.below(3);
    let mut entities: Vec<(String, String)> = Vec::new();
    for i in 0..n_entities {
        let name = rng.pick(ENTITY_NAMES).to_string();
        let key_attr = rng.pick(ATTR_NAMES).to_string();
        y.push_str(&format!(
            "  {}:\n    attributes:\n      {}: string\n",
            json(&name),
            json(&key_attr)
        ));
        let mut attrs = vec![key_attr.clone()];
        let mut keyable = vec![key_attr.clone()];
        for _ in 0..rng.below(5) {
            let a = rng.pick(ATTR_NAMES).to_string();
            if attrs.contains(&a) {
                continue; // a YAML key twice is a different mistake
            }
            let ty = *rng.pick(TYPES);
            let optional = rng.below(3) == 0;
            y.push_str(&format!(
                "      {}: {{ type: {ty}, optional: {optional} }}\n",
                json(&a)
            ));
            if matches!(ty, "string" | "integer" | "bool" | "date") {
                keyable.push(a.clone());
            }
            attrs.push(a);
        }
        let gsi = if rng.below(2) == 0 {
            let other = keyable[rng.below(keyable.len())].clone();
            format!(
                ", gsi1: {{ pk: {}, sk: {} }}",
                json(&format!("g#{{{key_attr}}}")),
                json(&format!("{{{other}}}"))
            )
        } else {
            String::new()
        };
        y.push_str(&format!(
            "    keys:\n      primary: {{ pk: {}, sk: {} }}{gsi}\n",
            json(&format!("e{i}#{{{key_attr}}}")),
            json(&format!("e{i}#"))
        ));
        y.push_str(&format!(
            "    timestamps: {{ created: {}, updated: updatedAt }}\n",
            json("createdAt")
        ));
        entities.push((name, key_attr));
    }
    y.push_str("access_patterns:\n");
    for _ in 0..1 + rng.below(3) {
        let (entity, key_attr) = &entities[rng.below(entities.len())];
        y.push_str(&format!(
            "  {}: {{ entity: {}, inputs: [{}] }}\n",
            json(rng.pick::<&str>(PATTERN_NAMES)),
            json(entity),
            json(key_attr)
        ));
    }
    if entities.len() >= 2 && rng.below(2) == 0 {
        y.push_str(&format!(
            "relationships:\n  {}: {{ kind: many_to_many, from: {}, to: {}, through: [{}, {}] }}\n",
            json(rng.pick::<&str>(&["membership", "a", "A", "to_tags"])),
            json(&entities[0].0),
            json(&entities[1].0),
            json(&entities[0].0),
            json(&entities[1].0),
        ));
    }
    y
}

/// Checks one generated file: no two items share a name in any scope.
fn assert_no_collisions(rust: &str, schema: &str) {
    let file = syn::parse_file(rust).unwrap_or_else(|e| panic!("{e}\n{schema}"));
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let mut values: BTreeMap<String, usize> = BTreeMap::new();
    let mut methods: BTreeMap<(String, String), usize> = BTreeMap::new();
    // Every identifier is ASCII (so none is confusable with another), and unique in its scope.
    let count = |map: &mut BTreeMap<String, usize>, name: String| {
        assert!(name.is_ascii(), "non-ASCII identifier `{name}`\n{schema}");
        *map.entry(name).or_default() += 1
    };
    for item in &file.items {
        match item {
            syn::Item::Struct(s) => {
                count(&mut types, s.ident.to_string());
                let mut fields = BTreeMap::new();
                for f in s.fields.iter().filter_map(|f| f.ident.as_ref()) {
                    count(&mut fields, f.to_string());
                }
                assert_unique(&fields, &format!("fields of {}", s.ident), schema);
            }
            syn::Item::Enum(e) => {
                count(&mut types, e.ident.to_string());
                let mut variants = BTreeMap::new();
                for v in &e.variants {
                    count(&mut variants, v.ident.to_string());
                }
                assert_unique(&variants, &format!("variants of {}", e.ident), schema);
            }
            syn::Item::Fn(f) => count(&mut values, f.sig.ident.to_string()),
            syn::Item::Const(c) => count(&mut values, c.ident.to_string()),
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                let ty = quote_type(&imp.self_ty);
                for f in imp.items.iter().filter_map(|i| match i {
                    syn::ImplItem::Fn(f) => Some(f),
                    _ => None,
                }) {
                    *methods
                        .entry((ty.clone(), f.sig.ident.to_string()))
                        .or_default() += 1;
                    let mut params = BTreeMap::new();
                    for arg in &f.sig.inputs {
                        if let syn::FnArg::Typed(pt) = arg
                            && let syn::Pat::Ident(id) = pt.pat.as_ref()
                        {
                            count(&mut params, id.ident.to_string());
                        }
                    }
                    assert_unique(
                        &params,
                        &format!("parameters of {ty}::{}", f.sig.ident),
                        schema,
                    );
                }
            }
            _ => {}
        }
    }
    assert_unique(&types, "module types", schema);
    assert_unique(&values, "module values", schema);
    let dup: Vec<_> = methods.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dup.is_empty(), "duplicate methods {dup:?}\n{schema}");
    // Methods of `Db` must not shadow what it dereferences to.
    for m in dyngen::names::DB_METHODS {
        assert!(
            !methods.contains_key(&("Db".to_string(), m.to_string()))
                || [
                    "new",
                    "with_table_name",
                    "with_batch_retry",
                    "create_table",
                    "migrate"
                ]
                .contains(m),
            "Db redefines `{m}`\n{schema}"
        );
    }
}

fn quote_type(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::"),
        _ => "?".into(),
    }
}

fn assert_unique(map: &BTreeMap<String, usize>, what: &str, schema: &str) {
    let dup: Vec<_> = map.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dup.is_empty(), "duplicate {what}: {dup:?}\n{schema}");
}

#[test]
fn random_schemas_never_produce_colliding_names() {
    let mut rng = Rng(0x5eed_d1e6);
    let (mut accepted, mut refused, mut streams) = (0, 0, 0);
    for _ in 0..1500 {
        let schema = random_schema(&mut rng);
        let source = Source::new("fuzz.yaml", schema.clone());
        match dyngen::builder_support::generate_files(&source, &[], false) {
            Ok((files, _)) => {
                accepted += 1;
                let rust = &files.files["rust/dyngen.rs"];
                streams += usize::from(rust.contains("pub enum TableChange"));
                assert_no_collisions(rust, &schema);
            }
            Err(dyngen::Error::Schema { diagnostics, .. }) => {
                refused += 1;
                assert!(
                    diagnostics
                        .iter()
                        .any(|d| d.is_error() && !d.labels.is_empty()),
                    "refused without a located error:\n{schema}\n{diagnostics:#?}"
                );
            }
            Err(e) => panic!("{e}\n{schema}"),
        }
    }
    // Both outcomes must be exercised for the test to mean anything.
    assert!(
        accepted > 40 && refused > 40,
        "accepted {accepted}, refused {refused}"
    );
    assert!(
        streams > 20,
        "{streams} accepted schemas decode their stream"
    );
}
