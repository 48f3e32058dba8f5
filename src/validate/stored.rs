//! `stored_as`: timestamps written as epoch numbers, for tables other writers share. Only
//! a scalar timestamp can take it, and not one that is an index's key attribute itself
//! (an attribute key or a part of a multi-attribute key), whose DynamoDB type is `S`.

#[allow(unused_imports)]
use super::*;

/// The stored form of a data attribute of type `ty`: its `stored_as`, or the default.
pub(super) fn attribute_form(cx: &mut Cx, attr: &Sp<ast::Attribute>, ty: &Type) -> ast::StoredAs {
    let ast::Attribute::Full(spec) = &attr.value else {
        return ast::StoredAs::default();
    };
    let Some(form) = &spec.stored_as else {
        return ast::StoredAs::default();
    };
    if *ty != Type::Timestamp {
        let d = Diagnostic::error(
            "dyngen::stored_as_not_timestamp",
            "`stored_as` only applies to `type: timestamp`",
        )
        .label(cx.span(form), "on another type")
        .help("remove `stored_as`, or make the attribute a timestamp");
        cx.error(d);
        return ast::StoredAs::default();
    }
    form.value
}

/// The stored form of the creation and update times.
pub(super) fn timestamps_form(entity: &ast::Entity) -> ast::StoredAs {
    entity
        .timestamps
        .as_ref()
        .and_then(|t| t.value.stored_as.as_ref())
        .map(|f| f.value)
        .unwrap_or_default()
}

/// An epoch-stored timestamp cannot be an index's own key attribute: the index declares
/// its key `S`, and the number would not be written as one.
pub(super) fn check_epoch_keys(
    cx: &mut Cx,
    entity: &Sp<String>,
    declared: &ast::Entity,
    table: &ir::Table,
    attrs: &[ir::Attribute],
    keys: &[ir::EntityKey],
) {
    for key in keys {
        let (pk_attr, sk_attr) = table.key_attributes(key.index);
        // `ph` is the whole of `t`, the template of the key attribute `attr`.
        let whole = |ph: &Placeholder, attr: &str, t: &ir::Template| {
            ir::is_attribute_key(t, attrs, attr) && t.placeholders().any(|p| p == ph)
        };
        let stored_whole = key
            .placeholders()
            .filter(|ph| attrs[ph.attr].stored_as != ast::StoredAs::Rfc3339)
            .find(|ph| {
                key.composite
                    || whole(ph, pk_attr, &key.pk)
                    || matches!((sk_attr, &key.sk), (Some(a), Some(t)) if whole(ph, a, t))
            });
        if let Some(ph) = stored_whole {
            let name = &attrs[ph.attr].name;
            // The attribute's `stored_as` (the entity's `timestamps:` for a maintained one).
            let form = declared
                .attributes
                .iter()
                .find(|(n, _)| &n.value == name)
                .and_then(|(_, a)| match &a.value {
                    ast::Attribute::Full(spec) => spec.stored_as.as_ref().map(|f| cx.span(f)),
                    ast::Attribute::Short(_) => None,
                })
                .or_else(|| {
                    let t = declared.timestamps.as_ref()?;
                    t.value.stored_as.as_ref().map(|f| cx.span(f))
                })
                .unwrap_or_else(|| cx.span(entity));
            let d = Diagnostic::error(
                "dyngen::stored_as_key",
                format!("`{name}` is stored as an epoch number and is an index's key attribute itself"),
            )
            .label(form, "stored as a number")
            .help("index key attributes are strings here; store the attribute as `rfc3339`, or use it in a key template (`at#{attr}`), which renders it as text");
            cx.error(d);
        }
    }
}
