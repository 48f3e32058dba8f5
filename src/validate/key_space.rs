//! The key-space checks: every decision comes from [`crate::keyspace`], the one model of
//! what templates render; this file only turns its answers into located diagnostics.

#[allow(unused_imports)]
use super::*;
use crate::keyspace::{self, KeySpace};

/// Templates that render two values the same, primary keys of two entities that can be
/// equal, partition keys that can spell dyngen's own items, and patterns whose condition
/// can reach none of their entities.
pub(super) fn check_key_space(
    cx: &mut Cx,
    table: &ir::Table,
    entities: &[ir::Entity],
    patterns: &[ir::Pattern],
    spans: &Spans,
) {
    let space = KeySpace::new(table, entities, patterns);
    check_ambiguous_templates(cx, &space, table, entities, spans);
    check_primary_overlaps(cx, &space, entities, spans);
    for (e, entity) in entities.iter().enumerate() {
        if let Some(w) = space.reserved_overlap(e) {
            let d = Diagnostic::error("dyngen::reserved_key_prefix", format!("a `{}` item can have the partition key `{w}`, which is dyngen's own (its migration ledger, lock and unique guards are keyed `{}...`, or negative on a numeric key)", entity.name, keyspace::RESERVED_PREFIX))
                .label(spans.keys[e][0].0, "partition key template")
                .help("start the template with a literal such as `user#`, so no value can spell dyngen's items");
            cx.error(d);
        }
    }
    for (pi, p) in patterns.iter().enumerate() {
        check_reach(
            cx,
            &space.reach(p),
            p,
            table,
            entities,
            spans.pattern_sort[pi],
        );
    }
}

/// What a pattern's key condition reaches: none of its entities is an error; some of them
/// (`unreachable_entity`), or another entity's items (`key_prefix_collision`, with a key
/// it would read; they cost reads and are skipped by type), are lints.
fn check_reach(
    cx: &mut Cx,
    reach: &keyspace::Reach,
    p: &ir::Pattern,
    table: &ir::Table,
    entities: &[ir::Entity],
    span: Span,
) {
    if reach.unreachable.len() == p.entities.len() {
        let d = Diagnostic::error("dyngen::unreachable_pattern", format!("`{}`'s key condition can never match an item of its {} on `{}`, so it always returns nothing", p.name, if p.entities.len() == 1 { "entity" } else { "entities" }, table.index_name(p.index)))
            .label(span, "key condition")
            .help("make the condition cover the entities' keys (a `sort_key` bound their sort templates can meet)");
        cx.error(d);
        return;
    }
    for e in &reach.unreachable {
        cx.warn(
            Diagnostic::warning(
                "dyngen::unreachable_entity",
                format!(
                    "`{}`'s key condition never matches a `{}` item, so its results never hold one",
                    p.name, entities[*e].name
                ),
            )
            .label(span, "key condition")
            .help("drop the entity from the pattern, or widen the condition")
            .about(&p.name),
        );
    }
    // A collection without a sort condition reads its whole partition by design.
    if p.entities.len() > 1 && p.sort == ir::SortCondition::None {
        return;
    }
    for (e, witness) in &reach.others {
        let other = &entities[*e];
        cx.warn(
            Diagnostic::warning(
                "dyngen::key_prefix_collision",
                format!("`{}` on `{}` can also read `{}` items (for example the key {witness}); they cost reads and are skipped", p.name, table.index_name(p.index), other.name),
            )
            .label(span, "key condition")
            .help("give each entity a distinct literal sort-key prefix (e.g. `user#` and `member#`), so the condition reads one entity")
            .about(&p.name)
            .about(&other.name),
        );
    }
}

fn check_ambiguous_templates(
    cx: &mut Cx,
    space: &KeySpace,
    table: &ir::Table,
    entities: &[ir::Entity],
    spans: &Spans,
) {
    for (e, entity) in entities.iter().enumerate() {
        for (k, key) in entity.keys.iter().enumerate().filter(|(_, k)| !k.composite) {
            let (pk, sk) = table.key_attributes(key.index);
            let templates = [
                (Some(&key.pk), pk, spans.keys[e][k].0),
                (
                    key.sk.as_ref(),
                    sk.unwrap_or(pk),
                    spans.keys[e][k].1.unwrap_or(spans.keys[e][k].0),
                ),
            ];
            for (t, attr, span) in templates {
                let Some(t) = t else { continue };
                if let Some(w) = space.ambiguity(e, t, attr) {
                    let d = Diagnostic::error("dyngen::ambiguous_template", format!("`{}` renders `{w}` from two different sets of values, so two items would share a key", t.source))
                        .label(span, "ambiguous template")
                        .help("separate a text placeholder from what follows with `#`, which values cannot hold (it is escaped), or end the template with it");
                    cx.error(d);
                }
            }
        }
    }
}

fn check_primary_overlaps(cx: &mut Cx, space: &KeySpace, entities: &[ir::Entity], spans: &Spans) {
    for (i, a) in entities.iter().enumerate() {
        for (j, b) in entities.iter().enumerate().skip(i + 1) {
            let Some((pk, sk)) = space.primary_overlap(i, j) else {
                continue;
            };
            let key = match sk {
                Some(sk) => format!("`{pk}` / `{sk}`"),
                None => format!("`{pk}`"),
            };
            let span_a = spans.keys[i][0].1.unwrap_or(spans.keys[i][0].0);
            let span_b = spans.keys[j][0].1.unwrap_or(spans.keys[j][0].0);
            let d = Diagnostic::error(
                "dyngen::primary_key_overlap",
                format!("`{}` and `{}` items can both have the primary key {key}, so one would overwrite the other", a.name, b.name),
            )
            .label(span_b, "this key")
            .label(span_a, "can render like this one")
            .help("give each entity a distinct literal in its key, e.g. `user#{email}` and `member#{email}`");
            cx.error(d);
        }
    }
}
