//! Unique constraints: `unique: true` on an attribute and the entity's `unique:` list
//! become [`ir::Unique`]s over scalar data attributes.

#[allow(unused_imports)]
use super::*;

/// DynamoDB's limit on actions in one transaction; an update that moves every guard
/// writes the item and releases and claims one guard per constraint.
const MAX_TRANSACTION_ACTIONS: usize = 100;

pub(super) fn lower_uniques(
    cx: &mut Cx,
    entity: &ast::Entity,
    attributes: &[ir::Attribute],
) -> Vec<ir::Unique> {
    let mut out: Vec<ir::Unique> = Vec::new();
    let flagged = entity
        .attributes
        .iter()
        .filter_map(|(name, attr)| match &attr.value {
            ast::Attribute::Full(spec) => spec
                .unique
                .as_ref()
                .filter(|u| u.value)
                .map(|u| (vec![name.value.as_str()], cx.span(u))),
            ast::Attribute::Short(_) => None,
        });
    let listed = entity
        .unique
        .iter()
        .map(|u| (u.value.attributes(), cx.span(u)));
    let all: Vec<(Vec<&str>, Span)> = flagged.chain(listed).collect();
    let first_span = all.first().map(|(_, s)| *s);
    for (names, span) in all {
        let Some(unique) = lower_one(cx, &names, span, attributes) else {
            continue;
        };
        let same_set = |u: &ir::Unique| {
            let mut a = u.attrs.clone();
            let mut b = unique.attrs.clone();
            a.sort_unstable();
            b.sort_unstable();
            a == b
        };
        if out.iter().any(same_set) {
            let d = Diagnostic::error(
                "dyngen::duplicate_unique",
                format!("the unique constraint `{}` is declared twice", unique.name),
            )
            .label(span, "again here")
            .help("declare each constraint once, either with `unique: true` on the attribute or in the entity's `unique:` list");
            cx.error(d);
            continue;
        }
        out.push(unique);
    }
    if 1 + 2 * out.len() > MAX_TRANSACTION_ACTIONS
        && let Some(first) = first_span
    {
        let d = Diagnostic::error(
                "dyngen::too_many_uniques",
                format!("{} unique constraints on one entity are too many", out.len()),
            )
            .label(first, "the first constraint")
            .help("an update that changes every constrained value writes 1 + 2 x constraints actions in one transaction, and DynamoDB allows 100");
        cx.error(d);
    }
    out
}

fn lower_one(
    cx: &mut Cx,
    names: &[&str],
    span: Span,
    attributes: &[ir::Attribute],
) -> Option<ir::Unique> {
    if names.is_empty() {
        let d = Diagnostic::error(
            "dyngen::empty_unique",
            "a unique constraint needs an attribute",
        )
        .label(span, "empty")
        .help("list the attributes whose values together must be unique, e.g. `[org, handle]`");
        cx.error(d);
        return None;
    }
    let mut attrs = Vec::with_capacity(names.len());
    for name in names {
        let Some(i) = attributes.iter().position(|a| a.name == *name) else {
            let known: Vec<&str> = attributes.iter().map(|a| a.name.as_str()).collect();
            let d = Diagnostic::error(
                "dyngen::unique_unknown_attribute",
                format!("unique constraint on `{name}`, which the entity does not have"),
            )
            .label(span, "this constraint")
            .help(format!("the entity's attributes are: {}", known.join(", ")));
            cx.error(d);
            return None;
        };
        if attrs.contains(&i) {
            let d = Diagnostic::error(
                "dyngen::duplicate_unique",
                format!("`{name}` appears twice in one unique constraint"),
            )
            .label(span, "this constraint")
            .help("list each attribute once");
            cx.error(d);
            return None;
        }
        check_uniquable(cx, &attributes[i], span)?;
        attrs.push(i);
    }
    Some(ir::Unique {
        name: names.join("+"),
        attrs,
    })
}

/// A constrained attribute is data the application sets, of a type with one text form.
fn check_uniquable(cx: &mut Cx, attr: &ir::Attribute, span: Span) -> Option<()> {
    if attr.role != ir::AttrRole::Data {
        let d = Diagnostic::error(
            "dyngen::unique_maintained_attribute",
            format!("`{}` is maintained by dyngen and cannot be unique", attr.name),
        )
        .label(span, "this constraint")
        .help("timestamps, the version and the TTL change on every write or expire; constrain an attribute the application sets");
        cx.error(d);
        return None;
    }
    let scalar = matches!(
        attr.ty,
        Type::String | Type::Integer | Type::Bool | Type::Timestamp | Type::Date | Type::Enum(_)
    );
    if !scalar {
        let d = Diagnostic::error(
            "dyngen::unique_type",
            format!(
                "`{}` is a {}, which a unique constraint cannot compare",
                attr.name,
                type_word(&attr.ty)
            ),
        )
        .label(span, "this constraint")
        .help("constrain strings, integers, booleans, enums, dates or timestamps (a float has several spellings of one value)");
        cx.error(d);
        return None;
    }
    Some(())
}

/// Guard items live under the table's own keys as strings, so a table whose partition or
/// sort key holds numbers cannot keep them.
pub(super) fn check_unique_table_keys(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    table: &ir::Table,
    entities: &[ir::Entity],
) {
    if entities.iter().all(|e| e.uniques.is_empty()) {
        return;
    }
    // An entity whose keys were refused has no primary key here; others decide.
    let numeric = entities
        .iter()
        .flat_map(|e| e.keys.iter().map(move |k| (e, k)))
        .filter(|(_, k)| k.index == IndexRef::Primary)
        .any(|(e, k)| {
            template_is_numeric(&k.pk, &e.attributes)
                || k.sk
                    .as_ref()
                    .is_some_and(|t| template_is_numeric(t, &e.attributes))
        });
    if !numeric {
        return;
    }
    for ((_, ast_entity), entity) in file.entities.iter().zip(entities) {
        if let Some(first) = entity.uniques.first() {
            let span = ast_entity
                .value
                .unique
                .first()
                .map_or(cx.span(&file.table.value.partition_key), |u| cx.span(u));
            let d = Diagnostic::error(
                "dyngen::unique_numeric_table_key",
                format!(
                    "`{}` of `{}` needs string table keys, and `{}`'s key holds numbers",
                    first.name, entity.name, table.name
                ),
            )
            .label(span, "unique constraint")
            .help("guard items are stored under string keys `#dyngen#unique#...`; use a string key template");
            cx.error(d);
        }
    }
}
