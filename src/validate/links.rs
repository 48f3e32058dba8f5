//! Consumers and relationships: what links patterns and entities to each other.

#[allow(unused_imports)]
use super::*;

pub(super) fn lower_consumers(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    entities: &[ir::Entity],
    patterns: &[ir::Pattern],
) -> Vec<ir::Consumer> {
    let mut by_name: BTreeMap<String, ir::Consumer> = BTreeMap::new();
    let empty = |name: &str| ir::Consumer {
        name: name.to_string(),
        doc: None,
        patterns: Vec::new(),
        entity_ops: Vec::new(),
    };
    for (pi, p) in patterns.iter().enumerate() {
        for c in &p.consumers {
            by_name
                .entry(c.clone())
                .or_insert_with(|| empty(c))
                .patterns
                .push(pi);
        }
    }
    for (name, c) in file.consumers.iter() {
        if !name
            .value
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
            || name.value.is_empty()
        {
            let d = Diagnostic::error(
                "dyngen::invalid_consumer",
                format!(
                    "consumer name `{}` must use only letters, digits, `_` and `-`",
                    name.value
                ),
            )
            .label(cx.span(name), "this consumer")
            .help("consumer names become Terraform and IAM identifiers");
            cx.error(d);
            continue;
        }
        let consumer = by_name
            .entry(name.value.clone())
            .or_insert_with(|| empty(&name.value));
        consumer.doc = c.value.doc.clone();
        for (entity, ops) in c.value.entities.iter() {
            let Some(e) = entity_index(entities, &entity.value) else {
                let d = Diagnostic::error(
                    "dyngen::unknown_entity",
                    format!(
                        "consumer `{}` lists `{}`, which is not an entity",
                        name.value, entity.value
                    ),
                )
                .label(cx.span(entity), "unknown entity")
                .help("declare it under `entities:`, or fix the name");
                cx.error(d);
                continue;
            };
            let mut list: Vec<ast::EntityOp> = ops.iter().map(|o| o.value).collect();
            list.sort();
            list.dedup();
            consumer.entity_ops.push((e, list));
        }
    }
    by_name.into_values().collect()
}

// ---------------------------------------------------------------------------------------
// Relationships

pub(super) fn lower_relationships(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    entities: &[ir::Entity],
    patterns: &[ir::Pattern],
) -> Vec<ir::Relationship> {
    let mut out = Vec::new();
    for (name, r) in file.relationships.iter() {
        let r = &r.value;
        let resolve = |cx: &mut Cx, e: &Sp<String>| {
            let found = entity_index(entities, &e.value);
            if found.is_none() {
                let d = Diagnostic::error(
                    "dyngen::unknown_entity",
                    format!(
                        "relationship `{}` refers to `{}`, which is not an entity",
                        name.value, e.value
                    ),
                )
                .label(cx.span(e), "unknown entity")
                .help("declare it under `entities:`");
                cx.error(d);
            }
            found
        };
        let from = resolve(cx, &r.from);
        let to = resolve(cx, &r.to);
        let through: Vec<Option<usize>> = r.through.iter().map(|t| resolve(cx, t)).collect();
        let kind = match r.kind.value {
            ast::RelationshipKind::OneToMany => ir::RelationshipKind::OneToMany,
            ast::RelationshipKind::ManyToMany => ir::RelationshipKind::ManyToMany,
        };
        match (kind, r.through.len()) {
            (ir::RelationshipKind::OneToMany, 0) | (ir::RelationshipKind::ManyToMany, 1 | 2) => {}
            (ir::RelationshipKind::OneToMany, _) => {
                let d = Diagnostic::error(
                    "dyngen::unexpected_through",
                    "a one-to-many relationship has no relationship items",
                )
                .label(cx.span(&r.kind), "one_to_many")
                .help("remove `through`, or make it `many_to_many`");
                cx.error(d);
            }
            (ir::RelationshipKind::ManyToMany, _) => {
                let d = Diagnostic::error("dyngen::missing_through", "a many-to-many relationship needs one or two relationship entities in `through`")
                    .label(cx.span(&r.kind), "many_to_many")
                    .help("e.g. `through: [CompanyMember, UserCompany]`, one item per direction");
                cx.error(d);
            }
        }
        let pattern = r.pattern.as_ref().and_then(|p| {
            let found = patterns.iter().position(|x| x.name == p.value);
            match (found, to) {
                (None, _) => {
                    let d = Diagnostic::error(
                        "dyngen::unknown_pattern",
                        format!(
                            "relationship `{}` names pattern `{}`, which does not exist",
                            name.value, p.value
                        ),
                    )
                    .label(cx.span(p), "unknown pattern")
                    .help("name one of the `access_patterns`");
                    cx.error(d);
                    None
                }
                (Some(i), Some(to))
                    if !patterns[i].entities.contains(&to)
                        && !through
                            .iter()
                            .flatten()
                            .any(|t| patterns[i].entities.contains(t)) =>
                {
                    let d = Diagnostic::error(
                        "dyngen::pattern_mismatch",
                        format!(
                            "pattern `{}` does not return `{}` or its relationship items",
                            p.value, entities[to].name
                        ),
                    )
                    .label(cx.span(p), "this pattern")
                    .help("name the pattern that lists the related items");
                    cx.error(d);
                    None
                }
                (found, _) => found,
            }
        });
        if let (Some(from), Some(to)) = (from, to)
            && through.iter().all(Option::is_some)
        {
            out.push(ir::Relationship {
                name: name.value.clone(),
                kind,
                from,
                to,
                through: through.into_iter().flatten().collect(),
                pattern,
                methods: None,
            });
        }
    }
    out
}
