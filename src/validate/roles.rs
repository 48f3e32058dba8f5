//! One role per attribute name: the table's keys, each index's keys, the entity-type and
//! TTL attributes never share a name in ways that make one write overwrite another, and
//! each entity writes every key attribute from one template.

#[allow(unused_imports)]
use super::*;

/// What an attribute name is used for at the table level, and where.
struct Role {
    what: String,
    span: Span,
    /// Index key attributes may be shared between indexes (same attribute, several
    /// indexes); every other pair of roles is a conflict.
    index_key: bool,
}

/// The table-level roles of attribute names: the table's keys, the index keys (an index's
/// sort key may not be its partition key), the entity-type and TTL attributes.
pub(super) fn check_table_roles(cx: &mut Cx, t: &ast::Table) {
    let mut roles: Vec<(String, Role)> = Vec::new();
    let mut claim = |cx: &mut Cx, name: &Sp<String>, what: String, index_key: bool| {
        let span = cx.span(name);
        let clash = roles
            .iter()
            .find(|(n, r)| *n == name.value && !(index_key && r.index_key));
        if let Some((_, other)) = clash {
            let d = Diagnostic::error(
                "dyngen::attribute_role_conflict",
                format!(
                    "`{}` is {}, so it cannot also be {what}",
                    name.value, other.what
                ),
            )
            .label(span, what.clone())
            .label(other.span, other.what.clone())
            .help("give every key, the entity-type and the TTL attribute a name of its own; one attribute holding two of them is overwritten by one and corrupts the other");
            cx.error(d);
            return;
        }
        roles.push((
            name.value.clone(),
            Role {
                what,
                span,
                index_key,
            },
        ));
    };
    // The same name for both table keys is reported by `lower_table`.
    let sk = (t.sort_key.iter()).filter(|sk| sk.value != t.partition_key.value);
    let table_keys =
        std::iter::once((&t.partition_key, "partition")).chain(sk.map(|s| (s, "sort")));
    for (key, which) in table_keys {
        claim(cx, key, format!("the table's {which} key"), false);
    }
    for (name, ix) in t.indexes.iter() {
        let ix = &ix.value;
        // A local index's partition key is the table's own, claimed above.
        let local = ix.local.as_ref().is_some_and(|l| l.value);
        let pk = ix.partition_key.as_ref().filter(|_| !local);
        let pk_name = pk.map_or(&t.partition_key.value, |p| &p.value);
        if ix.sort_key.as_ref().is_some_and(|s| &s.value == pk_name) {
            let sk = ix.sort_key.as_ref().expect("checked");
            let d = Diagnostic::error(
                "dyngen::duplicate_key_attribute",
                format!("index `{}` uses `{}` as both its partition and its sort key", name.value, sk.value),
            )
            .label(cx.span(sk), "same as the partition key")
            .help("DynamoDB refuses an index whose two keys are one attribute; use two attributes, e.g. `gsi1pk` and `gsi1sk`");
            cx.error(d);
        }
        if let Some(pk) = pk {
            claim(cx, pk, format!("`{}`'s partition key", name.value), true);
        }
        if let Some(sk) = ix.sort_key.as_ref().filter(|s| &s.value != pk_name) {
            claim(cx, sk, format!("`{}`'s sort key", name.value), true);
        }
    }
    if let Some(a) = &t.entity_type_attribute {
        claim(cx, a, "the entity-type attribute".into(), false);
    }
    if let Some(a) = &t.ttl_attribute {
        claim(cx, a, "the TTL attribute".into(), false);
    }
}

/// Each entity writes every key attribute from one template: two of its keys naming one
/// attribute (two indexes sharing `gsi1pk`) must agree, or one overwrites the other.
pub(super) fn check_entity_key_templates(
    cx: &mut Cx,
    table: &ir::Table,
    entities: &[ir::Entity],
    spans: &Spans,
) {
    for (e, entity) in entities.iter().enumerate() {
        let mut written: BTreeMap<&str, (&ir::Template, Span)> = BTreeMap::new();
        for (i, key) in entity.keys.iter().enumerate() {
            let (pk_attr, sk_attr) = match key.index {
                IndexRef::Primary => (table.partition_key.as_str(), table.sort_key.as_deref()),
                IndexRef::Gsi(g) => (
                    table.indexes[g].partition_key.as_str(),
                    // An index whose two keys are one attribute is reported on its own.
                    table.indexes[g]
                        .sort_key
                        .as_deref()
                        .filter(|sk| *sk != table.indexes[g].partition_key),
                ),
            };
            let (pk_span, sk_span) = spans.keys[e][i];
            let templates = [
                (Some(pk_attr), Some(&key.pk), pk_span),
                (sk_attr, key.sk.as_ref(), sk_span.unwrap_or(pk_span)),
            ];
            for (attr, template, span) in templates {
                let (Some(attr), Some(template)) = (attr, template) else {
                    continue;
                };
                // An index key named like a table key is reported by `check_table_roles`;
                // a local index's partition key is the table's, and must be its template.
                let table_key =
                    attr == table.partition_key || Some(attr) == table.sort_key.as_deref();
                let local = matches!(key.index, IndexRef::Gsi(g) if table.indexes[g].local);
                if key.index != IndexRef::Primary && table_key && !local {
                    continue;
                }
                match written.get(attr) {
                    Some((other, _)) if other.source == template.source => {}
                    Some((other, other_span)) => {
                        let d = Diagnostic::error(
                            "dyngen::key_attribute_templates",
                            format!(
                                "`{}` writes `{attr}` from two templates: `{}` and `{}`",
                                entity.name, other.source, template.source
                            ),
                        )
                        .label(span, "this template")
                        .label(*other_span, "and this one")
                        .help(if local { "a local index shares the table's partition key: give it the primary key's `pk` template" } else { "indexes that share a key attribute need the same template for it in every entity that has keys on both" });
                        cx.error(d);
                    }
                    None => {
                        written.insert(attr, (template, span));
                    }
                }
            }
        }
    }
}

/// Every name an `include` projection lists is an attribute of some entity (a typo would
/// project nothing and leave the index without the attribute its readers expect).
pub(super) fn check_projection_names(cx: &mut Cx, t: &ast::Table, entities: &[ir::Entity]) {
    let known = |name: &str| {
        entities
            .iter()
            .any(|e| e.attributes.iter().any(|a| a.name == name))
    };
    for (_, ix) in t.indexes.iter() {
        let Some(Sp {
            value: ast::Projection::Include(list),
            ..
        }) = &ix.value.projection
        else {
            continue;
        };
        for a in list.iter().filter(|a| !known(&a.value)) {
            let names = entities
                .iter()
                .flat_map(|e| e.attributes.iter().map(|a| a.name.as_str()));
            let mut d = Diagnostic::error(
                "dyngen::unknown_projected_attribute",
                format!("`{}` is not an attribute of any entity", a.value),
            )
            .label(cx.span(a), "projected here");
            d = match closest(&a.value, names) {
                Some(c) => d.help(format!("did you mean `{c}`?")),
                None => d.help("project attributes the entities declare"),
            };
            cx.error(d);
        }
    }
}

/// Every consumer a pattern names is declared under `consumers:` (a typo would otherwise
/// create a new policy and leave the real consumer without the pattern's permissions).
pub(super) fn check_pattern_consumers(cx: &mut Cx, file: &ast::SchemaFile) {
    let declared: Vec<&str> = file
        .consumers
        .iter()
        .map(|(n, _)| n.value.as_str())
        .collect();
    for (_, p) in file.access_patterns.iter() {
        for c in p
            .value
            .consumers
            .iter()
            .filter(|c| !declared.contains(&c.value.as_str()))
        {
            let mut d = Diagnostic::error(
                "dyngen::unknown_consumer",
                format!("consumer `{}` is not declared under `consumers:`", c.value),
            )
            .label(cx.span(c), "unknown consumer");
            d = match closest(&c.value, declared.iter().copied()) {
                Some(k) => d.help(format!("did you mean `{k}`?")),
                None => d.help(format!(
                    "declare it: `consumers: {{ {}: {{}} }}` (with the entity operations it needs)",
                    c.value
                )),
            };
            cx.error(d);
        }
    }
}
