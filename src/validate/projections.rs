//! What an index projects, against what a pattern reads from it: the attributes it
//! returns, and the TTL attribute its filter of expired items needs.

#[allow(unused_imports)]
use super::*;

/// A pattern on an index that projects only some attributes must say which it reads, and
/// may read only those the index has.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_index_projection(
    cx: &mut Cx,
    name_span: Span,
    p: &ast::AccessPattern,
    table: &ir::Table,
    index: IndexRef,
    ents: &[usize],
    entities: &[ir::Entity],
    projection: Option<&Vec<String>>,
) {
    let IndexRef::Gsi(g) = index else { return };
    let ix = &table.indexes[g];
    // Every index holds its own key attributes and the table's, whatever it projects: an
    // attribute key (an entity's own `GameTitle`) is readable from a keys-only index.
    let mut available: Vec<String> = match &ix.projection {
        ir::Projection::All => return,
        ir::Projection::KeysOnly => Vec::new(),
        ir::Projection::Include(list) => list.clone(),
    };
    let composite = ix
        .composite
        .iter()
        .flat_map(|c| c.partition.iter().chain(&c.sort));
    available.extend(
        [
            Some(&ix.partition_key),
            ix.sort_key.as_ref(),
            Some(&table.partition_key),
            table.sort_key.as_ref(),
        ]
        .into_iter()
        .flatten()
        .chain(composite)
        .cloned(),
    );
    let available = available.as_slice();
    match projection {
        None => {
            let missing: Vec<&str> = ents
                .iter()
                .flat_map(|&e| entities[e].attributes.iter())
                .map(|a| a.name.as_str())
                .filter(|a| !available.iter().any(|x| x == a))
                .collect();
            if !missing.is_empty() {
                let d = Diagnostic::error("dyngen::index_projection_too_narrow", format!("index `{}` does not project {}, so whole items cannot be read from it", ix.name, missing.iter().take(4).map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")))
                    .label(name_span, "reads whole items")
                    .help(format!("add `projection: [...]` to the pattern listing attributes the index has{}, or project `all` on the index", if available.is_empty() { String::new() } else { format!(" ({})", available.join(", ")) }));
                cx.error(d);
            }
        }
        Some(list) => {
            for a in list.iter().filter(|a| !available.iter().any(|x| x == *a)) {
                let span = p
                    .projection
                    .as_ref()
                    .and_then(|l| l.iter().find(|x| &x.value == a))
                    .map_or(name_span, |x| cx.span(x));
                let d = Diagnostic::error("dyngen::attribute_not_projected", format!("index `{}` does not project `{a}`", ix.name))
                    .label(span, "not in the index")
                    .help(format!("add `{a}` to the index's `include` list, or drop it from the pattern's projection"));
                cx.error(d);
            }
        }
    }
    if ents.len() > 1 && projection.is_some() {
        let d = Diagnostic::error(
            "dyngen::collection_projection",
            "an item collection reads whole items; it takes no projection",
        )
        .label(name_span, "item collection")
        .help("remove `projection`");
        cx.error(d);
    }
}

/// The TTL attribute a pattern filters on: when one of its entities has a TTL and the
/// pattern does not ask for expired items. The filter needs the attribute in the index.
pub(super) fn skip_expired(
    cx: &mut Cx,
    name_span: Span,
    p: &ast::AccessPattern,
    table: &ir::Table,
    index: IndexRef,
    ents: &[usize],
    entities: &[ir::Entity],
) -> Option<String> {
    if p.include_expired.as_ref().is_some_and(|b| b.value) {
        return None;
    }
    let ttl = table.ttl_attribute.as_ref()?;
    if !ents.iter().any(|&e| entities[e].ttl.is_some()) {
        return None;
    }
    if let IndexRef::Gsi(g) = index {
        let ix = &table.indexes[g];
        let projected = match &ix.projection {
            ir::Projection::All => true,
            ir::Projection::KeysOnly => false,
            ir::Projection::Include(list) => list.contains(ttl),
        };
        if !projected {
            let d = Diagnostic::error("dyngen::expiry_not_projected", format!("index `{}` does not project the TTL attribute `{ttl}`, so this pattern cannot skip expired items", ix.name))
                .label(name_span, "reads an entity with `ttl: true`")
                .help(format!("add `{ttl}` to the index's `include` list, or set `include_expired: true` on the pattern"));
            cx.error(d);
            return None;
        }
    }
    Some(ttl.clone())
}
