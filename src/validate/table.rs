//! The table and its indexes: names, keys, billing, TTL and projections.

#[allow(unused_imports)]
use super::*;

pub(super) fn valid_dynamo_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

pub(super) fn lower_table(cx: &mut Cx, t: &Sp<ast::Table>) -> ir::Table {
    let t_val = &t.value;
    check_table_name(cx, &t_val.name);
    for key in std::iter::once(&t_val.partition_key).chain(&t_val.sort_key) {
        check_attribute_name(cx, key, "key attribute");
    }
    if let Some(sk) = &t_val.sort_key
        && t_val.partition_key.value == sk.value
    {
        let d = Diagnostic::error(
            "dyngen::duplicate_key_attribute",
            "the partition key and the sort key are the same attribute",
        )
        .label(cx.span(sk), "same as the partition key")
        .help("use two attributes, e.g. `pk` and `sk`, or leave the sort key out");
        cx.error(d);
    }
    let billing = lower_billing(cx, t_val);
    let entity_type_attribute = t_val.entity_type_attribute.as_ref().map_or_else(
        || "_type".to_string(),
        |a| {
            check_attribute_name(cx, a, "entity-type attribute");
            a.value.clone()
        },
    );
    let ttl_attribute = t_val.ttl_attribute.as_ref().map(|a| {
        check_attribute_name(cx, a, "TTL attribute");
        a.value.clone()
    });
    let mut indexes: Vec<ir::Index> = Vec::new();
    for (name, ix) in t_val.indexes.iter() {
        let index = lower_index(cx, name, ix, t_val, &entity_type_attribute);
        let (count, max, kind) = match index.local {
            false => (
                indexes.iter().filter(|i| !i.local).count(),
                MAX_GSIS,
                "global",
            ),
            true => (
                indexes.iter().filter(|i| i.local).count(),
                MAX_LSIS,
                "local",
            ),
        };
        if count == max {
            let d = Diagnostic::error("dyngen::too_many_indexes", format!("a table has at most {max} {kind} secondary indexes"))
                .label(cx.span(name), format!("{kind} index number {}", count + 1))
                .help("DynamoDB's quotas are 20 GSIs (by default) and 5 LSIs per table; overload existing indexes (gsi1pk/gsi1sk) across entities");
            cx.error(d);
        }
        indexes.push(index);
    }
    check_projected_total(cx, t, &indexes);
    ir::Table {
        name: t_val.name.value.clone(),
        partition_key: t_val.partition_key.value.clone(),
        sort_key: t_val.sort_key.as_ref().map(|s| s.value.clone()),
        entity_type_attribute,
        billing,
        ttl_attribute,
        stream: t_val.stream.as_ref().map(|s| s.value),
        point_in_time_recovery: t_val
            .point_in_time_recovery
            .as_ref()
            .is_some_and(|b| b.value),
        deletion_protection: t_val.deletion_protection.as_ref().is_some_and(|b| b.value),
        safe_integers: t_val.safe_integers.as_ref().is_some_and(|b| b.value),
        escape: t_val.escape.as_ref().is_none_or(|b| b.value),
        indexes,
    }
}

fn check_table_name(cx: &mut Cx, name: &Sp<String>) {
    if valid_dynamo_name(&name.value) {
        return;
    }
    let d = Diagnostic::error(
        "dyngen::invalid_table_name",
        format!("`{}` is not a valid DynamoDB table name", name.value),
    )
    .label(cx.span(name), "table name")
    .help("table names are 3 to 255 characters from A-Z, a-z, 0-9, `_`, `-` and `.`");
    cx.error(d);
}

fn lower_billing(cx: &mut Cx, t: &ast::Table) -> ir::Billing {
    match (t.billing_mode.as_ref(), &t.capacity) {
        (Some(mode), Some(c)) if mode.value == ast::BillingMode::Provisioned => {
            if c.value.read == 0 || c.value.write == 0 {
                let d = Diagnostic::error(
                    "dyngen::zero_capacity",
                    "provisioned read and write capacity must each be at least 1",
                )
                .label(cx.span(c), "capacity")
                .help("DynamoDB refuses 0 capacity units; give at least `{read: 1, write: 1}`");
                cx.error(d);
            }
            ir::Billing::Provisioned {
                read: c.value.read,
                write: c.value.write,
            }
        }
        (Some(mode), None) if mode.value == ast::BillingMode::Provisioned => {
            let d = Diagnostic::error("dyngen::missing_capacity", "a provisioned table needs its read and write capacity")
                .label(cx.span(mode), "provisioned here")
                .help("add `capacity: {read: 5, write: 5}` to the table, or use `billing_mode: on_demand`");
            cx.error(d);
            ir::Billing::OnDemand
        }
        (_, Some(c)) => {
            let d = Diagnostic::error(
                "dyngen::unexpected_capacity",
                "capacity is only used with `billing_mode: provisioned`",
            )
            .label(cx.span(c), "capacity given here")
            .help("remove `capacity`, or set `billing_mode: provisioned`");
            cx.error(d);
            ir::Billing::OnDemand
        }
        _ => ir::Billing::OnDemand,
    }
}

/// DynamoDB's limit of local secondary indexes per table.
const MAX_LSIS: usize = 5;

fn lower_index(
    cx: &mut Cx,
    name: &Sp<String>,
    ix: &Sp<ast::Index>,
    table: &ast::Table,
    entity_type_attribute: &str,
) -> ir::Index {
    check_index_name(cx, name);
    let local = ix.value.local.as_ref().is_some_and(|l| l.value);
    let composite = lower_composite(cx, name, &ix.value, table, entity_type_attribute, local);
    let (partition_key, sort_key) = match &composite {
        Some(Some(c)) => (c.partition[0].clone(), c.sort.last().cloned()),
        // A broken multi-attribute key was reported; its attributes name nothing more.
        None => (String::new(), None),
        Some(None) => {
            let pk = index_partition_key(cx, name, ix, table, local);
            if let Some(sk) = &ix.value.sort_key {
                check_attribute_name(cx, sk, "key attribute");
            }
            (pk, ix.value.sort_key.as_ref().map(|s| s.value.clone()))
        }
    };
    let projection = match &ix.value.projection {
        None => ir::Projection::All,
        Some(p) => lower_index_projection(cx, p, entity_type_attribute),
    };
    ir::Index {
        name: name.value.clone(),
        local,
        partition_key,
        sort_key,
        projection,
        composite: composite.flatten(),
    }
}

/// A global index names its partition key; a local one has the table's (and needs a sort
/// key of its own, on a table that has one).
fn index_partition_key(
    cx: &mut Cx,
    name: &Sp<String>,
    ix: &Sp<ast::Index>,
    table: &ast::Table,
    local: bool,
) -> String {
    let refuse = |cx: &mut Cx, span: Span, code: &'static str, message: String, help: &str| {
        let d = Diagnostic::error(code, message)
            .label(span, "here")
            .help(help.to_string());
        cx.error(d);
    };
    let table_pk = &table.partition_key.value;
    match (&ix.value.partition_key, local) {
        (Some(pk), false) => check_attribute_name(cx, pk, "key attribute"),
        (None, false) => refuse(
            cx,
            cx.span(name),
            "dyngen::missing_index_partition_key",
            format!("index `{}` has no `partition_key`", name.value),
            "add `partition_key: gsi1pk` (or another attribute), or `local: true` for a local index on the table's partition key",
        ),
        (Some(pk), true) if &pk.value != table_pk => refuse(
            cx,
            cx.span(pk),
            "dyngen::local_index_partition_key",
            format!(
                "a local index's partition key is the table's (`{table_pk}`), not `{}`",
                pk.value
            ),
            "leave `partition_key` out of a local index, or make it a global one",
        ),
        _ => {}
    }
    if local && (table.sort_key.is_none() || ix.value.sort_key.is_none()) {
        refuse(
            cx,
            cx.span(name),
            "dyngen::local_index_without_sort_key",
            format!(
                "local index `{}` needs a sort key of its own, on a table with a sort key",
                name.value
            ),
            "give the index a `sort_key` (and the table one), or make it a global index",
        );
    }
    match (&ix.value.partition_key, local) {
        (Some(pk), false) => pk.value.clone(),
        _ => table_pk.clone(),
    }
}

fn check_index_name(cx: &mut Cx, name: &Sp<String>) {
    if name.value == "primary" {
        let d = Diagnostic::error(
            "dyngen::reserved_index_name",
            "`primary` names the table's own key and cannot be an index name",
        )
        .label(cx.span(name), "reserved")
        .help("rename the index, e.g. `gsi1`");
        cx.error(d);
    } else if !valid_dynamo_name(&name.value) {
        let d = Diagnostic::error(
            "dyngen::invalid_index_name",
            format!("`{}` is not a valid DynamoDB index name", name.value),
        )
        .label(cx.span(name), "index name")
        .help("index names are 3 to 255 characters from A-Z, a-z, 0-9, `_`, `-` and `.`");
        cx.error(d);
    }
}

fn lower_index_projection(
    cx: &mut Cx,
    p: &Sp<ast::Projection>,
    entity_type_attribute: &str,
) -> ir::Projection {
    let list = match &p.value {
        ast::Projection::All => return ir::Projection::All,
        ast::Projection::KeysOnly => return ir::Projection::KeysOnly,
        ast::Projection::Include(list) => list,
    };
    if list.is_empty() {
        let d = Diagnostic::error(
            "dyngen::empty_projection",
            "an `include` projection needs at least one attribute",
        )
        .label(cx.span(p), "empty list")
        .help("list the attributes to project, or use `keys_only`");
        cx.error(d);
    }
    for (i, a) in list.iter().enumerate() {
        check_attribute_name(cx, a, "projected attribute");
        if list[..i].iter().any(|b| b.value == a.value) {
            let d = Diagnostic::error(
                "dyngen::duplicate_projected_attribute",
                format!("`{}` is listed twice in this projection", a.value),
            )
            .label(cx.span(a), "again")
            .help("DynamoDB refuses an `include` list with a name twice; list it once");
            cx.error(d);
        }
    }
    // Reads dispatch on the entity type, so every index carries it.
    let mut names: Vec<String> = list.iter().map(|a| a.value.clone()).collect();
    if !names.iter().any(|n| n == entity_type_attribute) {
        names.push(entity_type_attribute.to_string());
    }
    ir::Projection::Include(names)
}

fn check_projected_total(cx: &mut Cx, t: &Sp<ast::Table>, indexes: &[ir::Index]) {
    let projected: usize = indexes
        .iter()
        .map(|ix| match &ix.projection {
            ir::Projection::Include(names) => names.len(),
            _ => 0,
        })
        .sum();
    if projected > MAX_PROJECTED_ATTRIBUTES {
        let d = Diagnostic::error("dyngen::too_many_projected_attributes", format!("{projected} attributes are projected with `include`; DynamoDB allows {MAX_PROJECTED_ATTRIBUTES} per table"))
            .label(cx.span(t), "in this table")
            .help("project fewer attributes, or use `all`");
        cx.error(d);
    }
}

pub(super) fn check_attribute_name(cx: &mut Cx, name: &Sp<String>, what: &str) {
    if name.value.is_empty() || name.value.len() > 255 {
        let d = Diagnostic::error(
            "dyngen::invalid_attribute_name",
            format!("a {what} name must be 1 to 255 bytes long"),
        )
        .label(cx.span(name), "this name")
        .help("DynamoDB limits key attribute names to 255 bytes");
        cx.error(d);
    }
    // Entity attributes meet the same rule among the table's reserved names; a projection
    // may name it.
    let table_level = !matches!(what, "attribute" | "projected attribute");
    if table_level && name.value == dyngen_runtime::WRITE_TOKEN_ATTRIBUTE {
        let d = Diagnostic::error(
            "dyngen::reserved_attribute",
            format!(
                "`{}` is dyngen's write token and cannot be a {what}",
                name.value
            ),
        )
        .label(cx.span(name), "this name")
        .help("every write stores its token there; name the attribute something else");
        cx.error(d);
    }
}

pub(super) fn index_ref(table: &ir::Table, name: &str) -> Option<IndexRef> {
    if name == "primary" {
        return Some(IndexRef::Primary);
    }
    table
        .indexes
        .iter()
        .position(|i| i.name == name)
        .map(IndexRef::Gsi)
}

pub(super) fn index_names(table: &ir::Table) -> String {
    std::iter::once("primary")
        .chain(table.indexes.iter().map(|i| i.name.as_str()))
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rust: {streams: true}` decodes the table's stream, so the table must have one.
pub(super) fn check_stream_changes(cx: &mut Cx, file: &ast::SchemaFile, table: &ir::Table) {
    let Some(rust) = file.rust.as_ref().filter(|r| r.value.streams) else {
        return;
    };
    if table.stream.is_none() {
        let d = Diagnostic::error(
            "dyngen::streams_without_stream",
            "`rust.streams` decodes the table's stream, and the table declares none",
        )
        .label(cx.span(rust), "streams asked for here")
        .help("add `stream: new_and_old_images` (or another view type) under `table:`");
        cx.error(d);
    }
}
