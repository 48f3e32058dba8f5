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
        leading_keys: None,
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
        consumer.leading_keys = c.value.leading_keys.as_ref().map(|m| {
            m.value
                .iter()
                .map(|(a, v)| (a.value.clone(), v.value.clone()))
                .collect()
        });
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
        // A pattern that failed its own checks was reported there, not again here.
        let failed = |p: &Sp<String>| {
            !patterns.iter().any(|x| x.name == p.value)
                && file.access_patterns.iter().any(|(n, _)| n.value == p.value)
        };
        let pattern = r
            .pattern
            .as_ref()
            .filter(|p| !failed(p))
            .and_then(|p| relationship_pattern(cx, name, p, to, &through, entities, patterns));
        let mut end_checks = Vec::new();
        if let (Some(from), Some(to), [Some(a), Some(b)]) = (from, to, through.as_slice()) {
            if let Some(pairs) = check_through_related(cx, r, entities, (from, to), (*a, *b)) {
                end_checks = lower_end_checks(cx, r, entities, pairs, [*a, *b]);
            }
        } else if let Some(c) = r.check_ends.as_ref().filter(|c| c.value)
            && from.is_some()
            && to.is_some()
            && through.iter().all(Option::is_some)
        {
            let d = Diagnostic::error(
                "dyngen::check_ends_without_link",
                format!(
                    "relationship `{}` has no `link_` method whose ends could be checked",
                    name.value
                ),
            )
            .label(cx.span(c), "check_ends")
            .help("a many_to_many with two relationship items (`through: [A, B]`) gets `link_`; drop `check_ends` here");
            cx.error(d);
        }
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
                end_checks,
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

/// The relationship items of a many-to-many link their ends by identity: one item's
/// partition is keyed by the `from` end's identity, the other's by the `to` end's, wherever
/// the ends themselves are stored (a user kept in its company's partition is still keyed
/// by its own `user#{email}` in its sort key). Anything else links nothing a reader of
/// either end can find. Returns each end with the item keyed by it, `from` first (`None`
/// too when a key is broken, reported elsewhere).
fn check_through_related(
    cx: &mut Cx,
    r: &ast::Relationship,
    entities: &[ir::Entity],
    (from, to): (usize, usize),
    (a, b): (usize, usize),
) -> Option<[(usize, usize); 2]> {
    // Broken keys were reported with the entity; nothing to compare them with.
    if [from, to, a, b]
        .iter()
        .any(|&e| entities[e].lowered_primary_key().is_none())
    {
        return None;
    }
    let keyed_by = |item: usize, end: usize| identity_match(entities, item, end).is_some();
    if keyed_by(a, from) && keyed_by(b, to) {
        return Some([(from, a), (to, b)]);
    }
    if keyed_by(a, to) && keyed_by(b, from) {
        return Some([(from, b), (to, a)]);
    }
    let d = Diagnostic::error(
        "dyngen::through_unrelated",
        format!(
            "`{}` and `{}` are not keyed one by `{}`'s identity and one by `{}`'s",
            entities[a].name, entities[b].name, entities[from].name, entities[to].name
        ),
    )
    .label(cx.span(&r.kind), "many_to_many")
    .help("key one relationship item's partition like a template that identifies one end and the other's like one identifying the other end, e.g. `company#{companyName}` for a company keyed `company#{name}` and `user#{email}` for a user whose sort key is `user#{email}`");
    cx.error(d);
    None
}

/// The identity template of `end` that relationship item `item`'s partition key has the
/// shape of, as pairs of placeholders in the same position: (end's, item's) attribute.
fn identity_match(entities: &[ir::Entity], item: usize, end: usize) -> Option<Vec<(usize, usize)>> {
    let (it, e) = (&entities[item], &entities[end]);
    let pk = &it.primary_key().pk;
    let t = identity_templates(e).find(|t| same_shape(pk, &it.attributes, t, &e.attributes))?;
    Some(
        t.placeholders()
            .zip(pk.placeholders())
            .map(|(p, q)| (p.attr, q.attr))
            .collect(),
    )
}

/// With `check_ends: true`, the key of each end `link_` requires, built from the
/// relationship items' attributes.
fn lower_end_checks(
    cx: &mut Cx,
    r: &ast::Relationship,
    entities: &[ir::Entity],
    pairs: [(usize, usize); 2],
    [a, b]: [usize; 2],
) -> Vec<ir::EndCheck> {
    let Some(flag) = r.check_ends.as_ref().filter(|c| c.value) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (end, item) in pairs {
        match end_inputs(entities, end, item, [a, b]) {
            Ok(inputs) => out.push(ir::EndCheck { end, inputs }),
            Err(missing) => {
                let e = &entities[end];
                let d = Diagnostic::error(
                    "dyngen::check_ends_key",
                    format!(
                        "`check_ends` needs `{}`'s primary key, and no relationship item gives its `{missing}`",
                        e.name
                    ),
                )
                .label(cx.span(flag), "check_ends")
                .help(format!("add `{missing}` (same name and type) to `{}` and `{}`, or drop `check_ends`", entities[a].name, entities[b].name));
                cx.error(d);
            }
        }
    }
    out
}

/// Where each placeholder of `end`'s primary key comes from: the attribute of `item` in
/// the same position of the identity template `item` is keyed by, else an attribute of
/// either relationship item with the same name and type. `Err` names the first without.
fn end_inputs(
    entities: &[ir::Entity],
    end: usize,
    item: usize,
    through: [usize; 2],
) -> Result<Vec<(Placeholder, usize, usize)>, String> {
    let e = &entities[end];
    let positional = identity_match(entities, item, end).unwrap_or_default();
    let is_input = |t: usize, x: usize| {
        matches!(
            entities[t].attributes[x].role,
            ir::AttrRole::Data | ir::AttrRole::Ttl
        )
    };
    let mut inputs = Vec::new();
    for ph in e.primary_key().distinct_placeholders() {
        let want = &e.attributes[ph.attr];
        let by_position = (positional.iter())
            .find(|(ea, _)| *ea == ph.attr)
            .map(|&(_, ia)| (item, ia));
        let by_name = || {
            through.iter().find_map(|&t| {
                let found = (entities[t].attributes.iter())
                    .position(|x| x.name == want.name && x.ty == want.ty);
                found.map(|ia| (t, ia))
            })
        };
        // A key struct holds a year as a number: only whole values can be handed over.
        let whole = ph.format != ir::PlaceholderFormat::Year;
        match by_position.or_else(by_name) {
            Some((t, ia)) if whole && is_input(t, ia) => inputs.push((ph.clone(), t, ia)),
            _ => return Err(want.name.clone()),
        }
    }
    Ok(inputs)
}

/// The templates of an entity (any index, partition or sort) that identify one of its
/// items: those holding every placeholder of its primary sort key, or of its primary
/// partition key when the sort key is constant. A partition the entity shares with others
/// of its kind (a user's company) is not its identity.
fn identity_templates(e: &ir::Entity) -> impl Iterator<Item = &ir::Template> {
    let primary = e.primary_key();
    let identity: Vec<usize> = match primary.sk.as_ref().filter(|t| !t.is_constant()) {
        Some(sk) => sk.placeholders().map(|p| p.attr).collect(),
        None => primary.pk.placeholders().map(|p| p.attr).collect(),
    };
    e.keys
        .iter()
        .flat_map(|k| std::iter::once(&k.pk).chain(k.sk.as_ref()))
        .filter(move |t| {
            !t.is_constant()
                && identity
                    .iter()
                    .all(|a| t.placeholders().any(|p| p.attr == *a))
        })
}

/// A one-to-many relationship has no relationship items; a many-to-many has two, one per
/// direction.
fn check_through_count(cx: &mut Cx, r: &ast::Relationship, kind: ir::RelationshipKind) {
    match (kind, r.through.len()) {
        (ir::RelationshipKind::OneToMany, 0) | (ir::RelationshipKind::ManyToMany, 2) => {}
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
                "a many-to-many relationship needs two relationship entities in `through`, one per direction",
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
