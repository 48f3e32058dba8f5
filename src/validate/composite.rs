//! Multi-attribute index keys (`partition_keys: [a, b]`, `sort_keys: [c, d]`): the key is
//! made of the entities' own attributes, each stored once with its own type, as DynamoDB
//! indexes them since November 2025. An entity is in such an index when it has every key
//! attribute (DynamoDB indexes exactly the items that do); its key there is a template of
//! those placeholders alone, so patterns give a prefix of them as they do for any key.

#[allow(unused_imports)]
use super::*;

/// DynamoDB's limit on attributes in each part of a multi-attribute key.
const MAX_PARTS: usize = 4;

/// Reports one problem with a multi-attribute key declaration.
fn refuse(cx: &mut Cx, span: Span, message: String, help: &str) {
    let d = Diagnostic::error("dyngen::composite_key", message)
        .label(span, "here")
        .help(help.to_string());
    cx.error(d);
}

/// The composite key of an index, if it declares one; `None` with errors reported when the
/// declaration is broken.
pub(super) fn lower_composite(
    cx: &mut Cx,
    name: &Sp<String>,
    ix: &ast::Index,
    table: &ast::Table,
    entity_type_attribute: &str,
    local: bool,
) -> Option<Option<ir::Composite>> {
    if ix.partition_keys.is_none() && ix.sort_keys.is_none() {
        return Some(None);
    }
    let before = cx.diags.len();
    check_forms(cx, name, ix, local);
    let single = |k: &Option<Sp<String>>| k.iter().cloned().collect::<Vec<_>>();
    let partition: Vec<Sp<String>> = match &ix.partition_keys {
        Some(list) => list.value.clone(),
        None => single(&ix.partition_key),
    };
    let sort: Vec<Sp<String>> = match &ix.sort_keys {
        Some(list) => list.value.clone(),
        None => single(&ix.sort_key),
    };
    if partition.is_empty() && !local {
        let message = format!("index `{}` has no partition key attributes", name.value);
        refuse(
            cx,
            cx.span(name),
            message,
            "list them: `partition_keys: [tenant, region]`",
        );
    }
    let reserved: Vec<&str> = std::iter::once(table.partition_key.value.as_str())
        .chain(table.sort_key.as_ref().map(|s| s.value.as_str()))
        .chain(std::iter::once(entity_type_attribute))
        .collect();
    check_parts(cx, name, &partition, &sort, &reserved);
    let names = |l: &[Sp<String>]| l.iter().map(|s| s.value.clone()).collect();
    (cx.diags.len() == before).then(|| {
        Some(ir::Composite {
            partition: names(&partition),
            sort: names(&sort),
        })
    })
}

/// A global index, and one form of each key part.
fn check_forms(cx: &mut Cx, name: &Sp<String>, ix: &ast::Index, local: bool) {
    if local {
        let message = format!(
            "local index `{}` cannot have a multi-attribute key",
            name.value
        );
        refuse(
            cx,
            cx.span(name),
            message,
            "multi-attribute keys are for global indexes; drop `local: true` or use `sort_key`",
        );
    }
    if let (Some(_), Some(list)) = (&ix.partition_key, &ix.partition_keys) {
        refuse(
            cx,
            cx.span(list),
            "`partition_key` and `partition_keys` both given".into(),
            "give one: `partition_keys: [a, b]` for a key of several attributes",
        );
    }
    if let (Some(_), Some(list)) = (&ix.sort_key, &ix.sort_keys) {
        refuse(
            cx,
            cx.span(list),
            "`sort_key` and `sort_keys` both given".into(),
            "give one: `sort_keys: [a, b]` for a key of several attributes",
        );
    }
}

/// At most four attributes a part, each once, none of the table's own.
fn check_parts(
    cx: &mut Cx,
    name: &Sp<String>,
    partition: &[Sp<String>],
    sort: &[Sp<String>],
    reserved: &[&str],
) {
    for (what, list) in [("partition", partition), ("sort", sort)] {
        if list.len() > MAX_PARTS {
            let message = format!(
                "a {what} key of {} attributes; DynamoDB allows {MAX_PARTS}",
                list.len()
            );
            refuse(
                cx,
                cx.span(&list[MAX_PARTS]),
                message,
                "combine attributes, or key on fewer",
            );
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for attr in partition.iter().chain(sort) {
        check_attribute_name(cx, attr, "key attribute");
        if reserved.contains(&attr.value.as_str()) {
            let message = format!("`{}` is one of the table's own attributes", attr.value);
            refuse(
                cx,
                cx.span(attr),
                message,
                "a multi-attribute key is made of the entities' own attributes",
            );
        } else if seen.contains(&attr.value.as_str()) {
            let message = format!(
                "`{}` appears twice in the key of `{}`",
                attr.value, name.value
            );
            refuse(cx, cx.span(attr), message, "list each attribute once");
        }
        seen.push(&attr.value);
    }
}

/// The keys an entity has on multi-attribute indexes: one per such index whose every key
/// attribute the entity has. An explicit `keys:` entry for such an index is an error.
pub(super) fn composite_keys(
    cx: &mut Cx,
    entity: &ast::Entity,
    table: &ir::Table,
    attrs: &[ir::Attribute],
) -> Vec<ir::EntityKey> {
    let mut out = Vec::new();
    for (i, ix) in table.indexes.iter().enumerate() {
        let Some(c) = &ix.composite else { continue };
        if let Some((n, _)) = entity.keys.iter().find(|(n, _)| n.value == ix.name) {
            let d = Diagnostic::error(
                "dyngen::composite_key_template",
                format!(
                    "`{}` has a multi-attribute key: entities do not give it templates",
                    ix.name
                ),
            )
            .label(cx.span(n), "templates for it")
            .help(format!(
                "remove this entry; an entity with every attribute of the key ({}) is in the index",
                c.partition
                    .iter()
                    .chain(&c.sort)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            cx.error(d);
            continue;
        }
        let template = |names: &[String]| -> Option<ir::Template> {
            let mut parts = Vec::new();
            for n in names {
                let attr = attrs.iter().position(|a| &a.name == n)?;
                parts.push(Part::Placeholder(Placeholder {
                    attr,
                    format: PlaceholderFormat::Value,
                }));
            }
            let source = names
                .iter()
                .map(|n| format!("{{{n}}}"))
                .collect::<Vec<_>>()
                .join(", ");
            Some(ir::Template { source, parts })
        };
        let Some(pk) = template(&c.partition) else {
            continue;
        };
        let sk = if c.sort.is_empty() {
            None
        } else {
            template(&c.sort)
        };
        if !c.sort.is_empty() && sk.is_none() {
            continue;
        }
        let sparse = pk
            .placeholders()
            .chain(sk.iter().flat_map(|t| t.placeholders()))
            .any(|ph| attrs[ph.attr].optional);
        out.push(ir::EntityKey {
            index: IndexRef::Gsi(i),
            pk,
            sk,
            sparse,
            composite: true,
        });
    }
    out
}

/// Each attribute of a multi-attribute key is a string (S) or a number (N) in every entity
/// that has it: DynamoDB defines one type per key attribute.
pub(super) fn check_composite_types(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    table: &ir::Table,
    entities: &[ir::Entity],
) {
    for ix in &table.indexes {
        let Some(c) = &ix.composite else { continue };
        for name in c.partition.iter().chain(&c.sort) {
            let mut first: Option<(&str, bool)> = None;
            for ((ename, ast_entity), e) in file.entities.iter().zip(entities) {
                let Some(a) = e.attributes.iter().find(|a| &a.name == name) else {
                    continue;
                };
                let span = ast_entity
                    .value
                    .attributes
                    .iter()
                    .find(|(n, _)| &n.value == name)
                    .map_or(cx.span(ename), |(n, _)| cx.span(n));
                let numeric = matches!(a.ty, Type::Integer);
                let keyable = matches!(
                    a.ty,
                    Type::String | Type::Integer | Type::Enum(_) | Type::Date | Type::Timestamp
                );
                if !keyable {
                    let d = Diagnostic::error("dyngen::composite_key_type", format!("`{}.{name}` is a {}, which cannot be part of the key of `{}`", e.name, type_word(&a.ty), ix.name))
                        .label(span, "this attribute")
                        .help("key attributes are strings or numbers: use a string, integer, enum, date or timestamp attribute");
                    cx.error(d);
                    continue;
                }
                match first {
                    None => first = Some((&e.name, numeric)),
                    Some((other, n)) if n != numeric => {
                        let d = Diagnostic::error("dyngen::key_type_conflict", format!("`{name}` is a number in `{}` and a string in `{}`", if numeric { &e.name } else { other }, if numeric { other } else { &e.name }))
                            .label(span, "this attribute")
                            .help(format!("`{name}` is a key attribute of `{}`, which has one type; give it the same type in every entity", ix.name));
                        cx.error(d);
                    }
                    Some(_) => {}
                }
            }
        }
    }
}
