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
        let from = relationship_entity(cx, name, &r.from, entities);
        let to = relationship_entity(cx, name, &r.to, entities);
        let through: Vec<Option<usize>> = r
            .through
            .iter()
            .map(|t| relationship_entity(cx, name, t, entities))
            .collect();
        let kind = match r.kind.value {
            ast::RelationshipKind::OneToMany => ir::RelationshipKind::OneToMany,
            ast::RelationshipKind::ManyToMany => ir::RelationshipKind::ManyToMany,
        };
        check_through_count(cx, r, kind);
        let pattern = r
            .pattern
            .as_ref()
            .and_then(|p| relationship_pattern(cx, name, p, to, &through, entities, patterns));
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

fn relationship_entity(
    cx: &mut Cx,
    name: &Sp<String>,
    e: &Sp<String>,
    entities: &[ir::Entity],
) -> Option<usize> {
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
}

/// A one-to-many relationship has no relationship items; a many-to-many has one or two.
fn check_through_count(cx: &mut Cx, r: &ast::Relationship, kind: ir::RelationshipKind) {
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
            let d = Diagnostic::error(
                "dyngen::missing_through",
                "a many-to-many relationship needs one or two relationship entities in `through`",
            )
            .label(cx.span(&r.kind), "many_to_many")
            .help("e.g. `through: [CompanyMember, UserCompany]`, one item per direction");
            cx.error(d);
        }
    }
}

/// The pattern that lists a relationship's related items: it exists and returns the
/// `to` entity or one of the relationship items.
fn relationship_pattern(
    cx: &mut Cx,
    name: &Sp<String>,
    p: &Sp<String>,
    to: Option<usize>,
    through: &[Option<usize>],
    entities: &[ir::Entity],
    patterns: &[ir::Pattern],
) -> Option<usize> {
    let Some(i) = patterns.iter().position(|x| x.name == p.value) else {
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
        return None;
    };
    let returns = |e: &usize| patterns[i].entities.contains(e);
    let Some(to) = to else { return Some(i) };
    if returns(&to) || through.iter().flatten().any(returns) {
        return Some(i);
    }
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
