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
    if !valid_dynamo_name(&t_val.name.value) {
        let d = Diagnostic::error(
            "dyngen::invalid_table_name",
            format!("`{}` is not a valid DynamoDB table name", t_val.name.value),
        )
        .label(cx.span(&t_val.name), "table name")
        .help("table names are 3 to 255 characters from A-Z, a-z, 0-9, `_`, `-` and `.`");
        cx.error(d);
    }
    for key in [&t_val.partition_key, &t_val.sort_key] {
        check_attribute_name(cx, key, "key attribute");
    }
    if t_val.partition_key.value == t_val.sort_key.value {
        let d = Diagnostic::error(
            "dyngen::duplicate_key_attribute",
            "the partition key and the sort key are the same attribute",
        )
        .label(cx.span(&t_val.sort_key), "same as the partition key")
        .help("use two attributes, e.g. `pk` and `sk`");
        cx.error(d);
    }
    let billing = match (
        t_val.billing_mode.as_ref().map(|b| b.value),
        &t_val.capacity,
    ) {
        (Some(ast::BillingMode::Provisioned), Some(c)) => ir::Billing::Provisioned {
            read: c.value.read,
            write: c.value.write,
        },
        (Some(ast::BillingMode::Provisioned), None) => {
            let d = Diagnostic::error("dyngen::missing_capacity", "a provisioned table needs its read and write capacity")
                .label(cx.span(t_val.billing_mode.as_ref().expect("matched Some")), "provisioned here")
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
    };
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

    let mut indexes = Vec::new();
    let mut projected = 0usize;
    for (name, ix) in t_val.indexes.iter() {
        if indexes.len() == MAX_GSIS {
            let d = Diagnostic::error("dyngen::too_many_indexes", format!("a table has at most {MAX_GSIS} global secondary indexes"))
                .label(cx.span(name), format!("index number {}", indexes.len() + 1))
                .help("DynamoDB's default quota is 20 GSIs per table; overload existing indexes (gsi1pk/gsi1sk) across entities");
            cx.error(d);
        }
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
        check_attribute_name(cx, &ix.value.partition_key, "key attribute");
        if let Some(sk) = &ix.value.sort_key {
            check_attribute_name(cx, sk, "key attribute");
        }
        let projection = match ix.value.projection.as_ref().map(|p| &p.value) {
            None | Some(ast::Projection::All) => ir::Projection::All,
            Some(ast::Projection::KeysOnly) => ir::Projection::KeysOnly,
            Some(ast::Projection::Include(list)) => {
                projected += list.len();
                if list.is_empty() {
                    let p = ix.value.projection.as_ref().expect("matched Some");
                    let d = Diagnostic::error(
                        "dyngen::empty_projection",
                        "an `include` projection needs at least one attribute",
                    )
                    .label(cx.span(p), "empty list")
                    .help("list the attributes to project, or use `keys_only`");
                    cx.error(d);
                }
                // Reads dispatch on the entity type, so every index carries it.
                let mut names: Vec<String> = list.iter().map(|a| a.value.clone()).collect();
                let type_attr = t_val
                    .entity_type_attribute
                    .as_ref()
                    .map_or("_type", |a| a.value.as_str());
                if !names.iter().any(|n| n == type_attr) {
                    names.push(type_attr.to_string());
                    projected += 1;
                }
                ir::Projection::Include(names)
            }
        };
        indexes.push(ir::Index {
            name: name.value.clone(),
            partition_key: ix.value.partition_key.value.clone(),
            sort_key: ix.value.sort_key.as_ref().map(|s| s.value.clone()),
            projection,
        });
    }
    if projected > MAX_PROJECTED_ATTRIBUTES {
        let d = Diagnostic::error("dyngen::too_many_projected_attributes", format!("{projected} attributes are projected with `include`; DynamoDB allows {MAX_PROJECTED_ATTRIBUTES} per table"))
            .label(cx.span(t), "in this table")
            .help("project fewer attributes, or use `all`");
        cx.error(d);
    }
    ir::Table {
        name: t_val.name.value.clone(),
        partition_key: t_val.partition_key.value.clone(),
        sort_key: t_val.sort_key.value.clone(),
        entity_type_attribute,
        billing,
        ttl_attribute,
        indexes,
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
