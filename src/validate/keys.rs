//! Key templates: parsing, placeholders, key attribute types, and the Rust type names entities and patterns produce.

#[allow(unused_imports)]
use super::*;

pub(super) fn lower_keys(
    cx: &mut Cx,
    entity_name: &Sp<String>,
    entity: &ast::Entity,
    table: &ir::Table,
    attrs: &[ir::Attribute],
    key_spans: &mut Vec<(Span, Option<Span>)>,
) -> Vec<ir::EntityKey> {
    let mut keys: Vec<ir::EntityKey> = Vec::new();
    for (index_name, k) in entity.keys.iter() {
        let Some(index) = index_ref(table, &index_name.value) else {
            let d = Diagnostic::error(
                "dyngen::unknown_index",
                format!(
                    "entity `{}` has keys for `{}`, which the table does not declare",
                    entity_name.value, index_name.value
                ),
            )
            .label(cx.span(index_name), "unknown index")
            .help(format!("known indexes: {}", index_names(table)));
            cx.error(d);
            continue;
        };
        let raw = !entity.escape.as_ref().map_or(table.escape, |b| b.value);
        let Some(key) = lower_key(cx, index_name, index, k, table, attrs, raw) else {
            cx.broken_keys
                .insert((entity_name.value.clone(), index_name.value.clone()));
            continue;
        };
        keys.push(key);
        key_spans.push((
            cx.span(&k.value.pk),
            k.value.sk.as_ref().map(|s| cx.span(s)),
        ));
    }
    let declared_primary = entity.keys.iter().any(|(n, _)| n.value == "primary");
    if !declared_primary {
        let d = Diagnostic::error(
            "dyngen::missing_primary_key",
            format!(
                "entity `{}` has no `primary` key templates",
                entity_name.value
            ),
        )
        .label(cx.span(entity_name), "entity declared here")
        .help("add `keys: {primary: {pk: \"...\", sk: \"...\"}}`");
        cx.error(d);
    }
    // Keep the primary key first; emitters rely on it.
    if let Some(i) = keys.iter().position(|k| k.index == IndexRef::Primary) {
        let primary = keys.remove(i);
        keys.insert(0, primary);
        let s = key_spans.remove(i);
        key_spans.insert(0, s);
    }
    keys
}

/// One entity's templates for one index, or `None` when they are broken (reported).
fn lower_key(
    cx: &mut Cx,
    index_name: &Sp<String>,
    index: IndexRef,
    k: &Sp<ast::KeyTemplates>,
    table: &ir::Table,
    attrs: &[ir::Attribute],
    raw: bool,
) -> Option<ir::EntityKey> {
    let (pk_attr, sk_attr) = table.key_attributes(index);
    let index_has_sk = sk_attr.is_some();
    check_sort_template_present(cx, index_name, k, index_has_sk);
    let pk = parse_template(cx, &k.value.pk, attrs);
    let mut sk = match k.value.sk.as_ref().filter(|_| index_has_sk) {
        Some(s) => Some(parse_template(cx, s, attrs)?),
        None => None,
    };
    let mut pk = pk?;
    if raw {
        store_raw(cx, &mut pk, attrs, pk_attr, cx.span(&k.value.pk));
        if let (Some(t), Some(a), Some(s)) = (sk.as_mut(), sk_attr, k.value.sk.as_ref()) {
            store_raw(cx, t, attrs, a, cx.span(s));
        }
    }
    let uses_optional = pk
        .placeholders()
        .chain(sk.iter().flat_map(|s| s.placeholders()))
        .any(|p| attrs[p.attr].optional);
    if index == IndexRef::Primary && uses_optional {
        let d = Diagnostic::error("dyngen::optional_in_primary_key", "the primary key cannot use an optional attribute")
            .label(cx.span(k), "primary key templates")
            .help("every item needs its primary key; make the attribute required, or move this key to a GSI (a sparse index)");
        cx.error(d);
    }
    Some(ir::EntityKey {
        index,
        pk,
        sk,
        sparse: uses_optional,
        composite: false,
    })
}

/// An entity attribute named like an index's key attribute is that index's key for the
/// entity, whole (`{GameTitle}` for the key attribute `GameTitle`): stored once, as the
/// attribute's own value (string or number), with no escaped copy. Anything else would
/// write two values to one attribute, or put the entity in an index by accident.
pub(super) fn check_attribute_keys(
    cx: &mut Cx,
    entity: &ast::Entity,
    table: &ir::Table,
    attrs: &[ir::Attribute],
    keys: &[ir::EntityKey],
) {
    // A multi-attribute key is made of entity attributes by definition.
    for (ii, ix) in table
        .indexes
        .iter()
        .enumerate()
        .filter(|(_, ix)| ix.composite.is_none())
    {
        let key = keys.iter().find(|k| k.index == IndexRef::Gsi(ii));
        // Each key attribute of the index, with this entity's template for it, if any.
        let key_attrs = [
            Some(&ix.partition_key)
                .filter(|_| !ix.local)
                .map(|a| (a, key.map(|k| &k.pk))),
            ix.sort_key
                .as_ref()
                .map(|a| (a, key.and_then(|k| k.sk.as_ref()))),
        ];
        for (key_attr, template) in key_attrs.into_iter().flatten() {
            let Some(attr) = attrs.iter().find(|a| &a.name == key_attr) else {
                continue;
            };
            let Some((name, _)) = entity.attributes.iter().find(|(n, _)| &n.value == key_attr)
            else {
                continue;
            };
            let span = cx.span(name);
            let whole = template.is_some_and(|t| ir::is_attribute_key(t, attrs, key_attr));
            if !whole {
                let d = Diagnostic::error("dyngen::attribute_key_template", format!("`{key_attr}` is index `{}`'s key attribute and an attribute of this entity, so it must be the entity's key there, whole: `{{{key_attr}}}`", ix.name))
                    .label(span, "attribute")
                    .help(format!("give the entity `{}: {{ ... \"{{{key_attr}}}\" }}` as that key, or rename the attribute", ix.name));
                cx.error(d);
            } else if !matches!(
                attr.ty,
                Type::String | Type::Integer | Type::Enum(_) | Type::Date | Type::Timestamp
            ) {
                let d = Diagnostic::error(
                    "dyngen::attribute_key_type",
                    format!(
                        "`{key_attr}` is a {}, which DynamoDB cannot use as an index key",
                        type_word(&attr.ty)
                    ),
                )
                .label(span, "attribute")
                .help("an index key attribute holds a string or a number");
                cx.error(d);
            }
        }
    }
}

/// An `sk` template exactly when the index has a sort key.
fn check_sort_template_present(
    cx: &mut Cx,
    index_name: &Sp<String>,
    k: &Sp<ast::KeyTemplates>,
    index_has_sk: bool,
) {
    match (&k.value.sk, index_has_sk) {
        (None, true) => {
            let d = Diagnostic::error(
                "dyngen::missing_sort_template",
                format!(
                    "index `{}` has a sort key, so the entity needs an `sk` template for it",
                    index_name.value
                ),
            )
            .label(cx.span(k), "no `sk` here")
            .help("add `sk: \"...\"`; a constant such as `company#` is fine");
            cx.error(d);
        }
        (Some(sk), false) => {
            let d = Diagnostic::error(
                "dyngen::unexpected_sort_template",
                format!("index `{}` has no sort key", index_name.value),
            )
            .label(cx.span(sk), "this template has nowhere to go")
            .help("remove `sk`, or give the index a `sort_key`");
            cx.error(d);
        }
        _ => {}
    }
}

/// Parses `lit{attr}lit{attr:year}` into parts.
pub(super) fn parse_template(
    cx: &mut Cx,
    t: &Sp<String>,
    attrs: &[ir::Attribute],
) -> Option<ir::Template> {
    let base = cx.span(t);
    let inner = inner_spans(cx.src, base, &t.value);
    let text = &t.value;
    check_template_start(cx, text, base)?;
    let mut parts = Vec::new();
    let mut ok = true;
    let mut rest = text.as_str();
    let mut pos = 0usize;
    while let Some(i) = rest.find(['{', '}']) {
        if rest.as_bytes()[i] == b'}' {
            return template_syntax_error(cx, inner(pos + i, 1), "`}` without a matching `{`");
        }
        if i > 0 {
            parts.push(Part::Literal(rest[..i].to_string()));
        }
        let Some(close) = rest[i..].find('}') else {
            return template_syntax_error(cx, inner(pos + i, 1), "`{` without a matching `}`");
        };
        let span = inner(pos + i, close + 1);
        if i == 0 && matches!(parts.last(), Some(Part::Placeholder(_))) {
            let d = Diagnostic::error(
                "dyngen::adjacent_placeholders",
                "two placeholders with nothing between them cannot be told apart",
            )
            .label(span, "follows another placeholder directly")
            .help("put a delimiter between them, e.g. `{a}#{b}`");
            cx.error(d);
            ok = false;
        }
        match resolve_placeholder(cx, &rest[i + 1..i + close], span, attrs) {
            Some(p) => parts.push(Part::Placeholder(p)),
            None => ok = false,
        }
        pos += i + close + 1;
        rest = &rest[i + close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_string()));
    }
    ok.then(|| ir::Template {
        source: text.clone(),
        parts,
    })
}

/// Spans inside a template's text: exact where the source spells the value as it is
/// (plain, or quoted without escapes); the whole template where escapes make source and
/// value differ, so a caret is never off by the length of an escape.
fn inner_spans<'s>(
    src: &'s Source,
    base: Span,
    value: &'s str,
) -> impl Fn(usize, usize) -> Span + 's {
    let raw = src
        .text
        .get(base.offset..base.offset + base.len)
        .unwrap_or_default();
    let quoted = raw.len() >= 2 && raw.starts_with(['"', '\'']) && raw[1..].ends_with(&raw[..1]);
    let body = if quoted { &raw[1..raw.len() - 1] } else { raw };
    let exact = body == value;
    let shift = usize::from(quoted);
    move |start: usize, len: usize| {
        if exact {
            Span {
                offset: base.offset + shift + start,
                len,
            }
        } else {
            base
        }
    }
}

/// Templates are not empty and do not start with the runner's reserved prefix.
fn check_template_start(cx: &mut Cx, text: &str, span: Span) -> Option<()> {
    if text.is_empty() {
        let d = Diagnostic::error("dyngen::empty_template", "a key template cannot be empty")
            .label(span, "empty")
            .help("DynamoDB rejects empty key values; use a constant such as `user#`");
        cx.error(d);
        return None;
    }
    if text.starts_with("#dyngen") {
        let d = Diagnostic::error("dyngen::reserved_key_prefix", "key templates cannot start with `#dyngen`")
            .label(span, "reserved prefix")
            .help("the migration runner keeps its ledger and lock under `#dyngen#...` keys; choose another prefix");
        cx.error(d);
        return None;
    }
    Some(())
}

fn template_syntax_error<T>(cx: &mut Cx, span: Span, what: &str) -> Option<T> {
    let label = if what.starts_with("`}`") {
        "unmatched"
    } else {
        "unclosed"
    };
    let d = Diagnostic::error("dyngen::template_syntax", format!("{what} in key template"))
        .label(span, label)
        .help("placeholders are written `{attribute}`");
    cx.error(d);
    None
}

pub(super) fn resolve_placeholder(
    cx: &mut Cx,
    body: &str,
    span: Span,
    attrs: &[ir::Attribute],
) -> Option<Placeholder> {
    let (name, format) = match body.split_once(':') {
        Some((n, f)) => (n, Some(f)),
        None => (body, None),
    };
    let Some(attr) = attrs.iter().position(|a| a.name == name) else {
        let mut d = Diagnostic::error(
            "dyngen::unknown_placeholder",
            format!("placeholder `{{{body}}}` names no attribute of this entity"),
        )
        .label(span, "unknown attribute");
        d = match closest(name, attrs.iter().map(|a| a.name.as_str())) {
            Some(c) => d.help(format!("did you mean `{{{c}}}`?")),
            None => d.help("declare the attribute under `attributes:`, or fix the placeholder"),
        };
        cx.error(d);
        return None;
    };
    let ty = &attrs[attr].ty;
    if !ty.is_key_compatible() {
        let d = Diagnostic::error(
            "dyngen::non_key_type",
            format!(
                "attribute `{name}` is a {}, which cannot be part of a key",
                type_word(ty)
            ),
        )
        .label(span, "used in a key template")
        .help("keys can use string, integer, bool, date, timestamp and enum attributes");
        cx.error(d);
        return None;
    }
    let format = match format {
        None => PlaceholderFormat::Value,
        Some("year") if matches!(ty, Type::Date | Type::Timestamp) => PlaceholderFormat::Year,
        Some(f) if *ty == Type::Integer && padding(f).is_some() => {
            padding(f).unwrap_or(PlaceholderFormat::Value)
        }
        Some("raw") if matches!(ty, Type::String | Type::Enum(_)) => {
            check_raw_enum(cx, ty, span)?;
            PlaceholderFormat::Raw
        }
        Some(f) => {
            let d = Diagnostic::error(
                "dyngen::unknown_placeholder_format",
                format!("`{f}` is not a format dyngen knows for {} attributes", type_word(ty)),
            )
            .label(span, "this placeholder")
            .help("formats are `:year` on date and timestamp attributes, `:07` (zero-padded to 7 digits, up to 19) on integer attributes, and `:raw` (stored unescaped) on string and enum attributes");
            cx.error(d);
            return None;
        }
    };
    Some(Placeholder { attr, format })
}

/// An enum stands raw in a key only if none of its values holds the delimiter: its values
/// are known here, so the schema is refused rather than every write of that value.
fn check_raw_enum(cx: &mut Cx, ty: &Type, span: Span) -> Option<()> {
    let Type::Enum(e) = ty else { return Some(()) };
    let delimiter = dyngen_runtime::key::DELIMITER;
    let Some(v) = e.variants.iter().find(|v| v.value.contains(delimiter)) else {
        return Some(());
    };
    let d = Diagnostic::error(
        "dyngen::raw_delimiter",
        format!("enum value `{}` holds `{delimiter}`, which a raw key cannot hold", v.value),
    )
    .label(span, "stored raw")
    .help("escape this placeholder (drop `:raw`, or `escape: true` on the entity), or rename the value");
    cx.error(d);
    None
}

/// `escape: false` on the entity or the table: the string and enum values of this
/// template stand raw, as `{name:raw}` would make them, and its source says so, so the
/// migration files and the breaking-change check see how the key is encoded. A template
/// that is an attribute key (`{GameTitle}` for the key attribute `GameTitle`) holds the
/// attribute itself and is left as it is.
fn store_raw(
    cx: &mut Cx,
    t: &mut ir::Template,
    attrs: &[ir::Attribute],
    key_attr: &str,
    span: Span,
) {
    if ir::is_attribute_key(t, attrs, key_attr) {
        return;
    }
    let mut changed = false;
    for part in &mut t.parts {
        if let Part::Placeholder(ph) = part {
            let ty = &attrs[ph.attr].ty;
            if ph.format == PlaceholderFormat::Value
                && matches!(ty, Type::String | Type::Enum(_))
                && check_raw_enum(cx, ty, span).is_some()
            {
                ph.format = PlaceholderFormat::Raw;
                changed = true;
            }
        }
    }
    if changed {
        t.source = t
            .parts
            .iter()
            .map(|p| match p {
                Part::Literal(l) => l.clone(),
                Part::Placeholder(ph) => {
                    format!("{{{}{}}}", attrs[ph.attr].name, ph.format.suffix())
                }
            })
            .collect();
    }
}

/// A padding format (`07`: seven digits), as the runtime reads it.
pub(super) fn padding(text: &str) -> Option<PlaceholderFormat> {
    match dyngen_runtime::key::Format::parse(text)? {
        dyngen_runtime::key::Format::Padded(w) => Some(PlaceholderFormat::Padded(w)),
        _ => None,
    }
}

/// The candidate within edit distance 2, for "did you mean".
pub(super) use crate::diag::closest;

pub(super) fn check_key_attribute_types(
    cx: &mut Cx,
    table: &ir::Table,
    entities: &[ir::Entity],
    spans: &Spans,
) {
    // key attribute → (numeric?, entity name, span)
    let mut seen: BTreeMap<String, (bool, String, Span)> = BTreeMap::new();
    for (e, entity) in entities.iter().enumerate() {
        // Multi-attribute keys: `check_composite_types`.
        for (i, key) in entity.keys.iter().enumerate().filter(|(_, k)| !k.composite) {
            let (pk_attr, sk_attr) = match key.index {
                IndexRef::Primary => (table.partition_key.clone(), table.sort_key.clone()),
                IndexRef::Gsi(g) => (
                    table.indexes[g].partition_key.clone(),
                    table.indexes[g].sort_key.clone(),
                ),
            };
            let templates = std::iter::once((pk_attr, Some(&key.pk)))
                .chain(sk_attr.map(|s| (s, key.sk.as_ref())));
            for (attr, tpl) in templates {
                let Some(tpl) = tpl else { continue };
                let numeric = template_is_numeric(tpl, &entity.attributes);
                let (pk_span, sk_span) = spans.keys[e][i];
                let span = if std::ptr::eq(tpl, &key.pk) {
                    pk_span
                } else {
                    sk_span.unwrap_or(pk_span)
                };
                match seen.get(&attr) {
                    Some((other, other_entity, other_span)) if *other != numeric => {
                        let d = Diagnostic::error("dyngen::key_type_conflict", format!("key attribute `{attr}` would be a {} for `{}` but a {} for `{other_entity}`", if numeric { "number" } else { "string" }, entity.name, if *other { "number" } else { "string" }))
                            .label(span, "here")
                            .label(*other_span, "and here")
                            .help("DynamoDB defines one type per key attribute; a template that is a single integer placeholder is a number, anything else a string");
                        cx.error(d);
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(attr, (numeric, entity.name.clone(), span));
                    }
                }
            }
        }
    }
}

pub(super) fn check_type_name_collisions(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    entities: &[ir::Entity],
    patterns: &[ir::Pattern],
) {
    let mut taken: BTreeMap<String, (String, Span)> = BTreeMap::new();
    for ((name, _), p) in file
        .access_patterns
        .iter()
        .filter(|(n, _)| patterns.iter().any(|p| p.name == n.value))
        .zip(patterns)
    {
        // Collections and projections get a `<Pattern>Item` type.
        taken.insert(
            format!("{}Item", p.type_ident),
            (format!("pattern {} (Item type)", p.name), cx.span(name)),
        );
    }
    for ((name, ast_entity), entity) in file.entities.iter().zip(entities) {
        let mut names = vec![(entity.type_ident.clone(), name.value.clone(), cx.span(name))];
        // When the entity's own name collides, its derived names would only repeat that.
        if !taken.contains_key(&entity.type_ident) {
            for suffix in ["Key", "Update"] {
                names.push((
                    format!("{}{suffix}", entity.type_ident),
                    format!("{} ({suffix} type)", name.value),
                    cx.span(name),
                ));
            }
        }
        for (attr_name, _) in ast_entity.value.attributes.iter() {
            if let Some(a) = entity.attributes.iter().find(|a| a.name == attr_name.value)
                && let Type::Enum(e) = &a.ty
            {
                names.push((
                    e.type_ident.clone(),
                    format!("{}.{}", name.value, a.name),
                    cx.span(attr_name),
                ));
            }
        }
        for (ident, what, span) in names {
            if let Some((other, other_span)) = taken.get(&ident) {
                let d = Diagnostic::error("dyngen::name_collision", format!("`{what}` and `{other}` both become the Rust type `{ident}`"))
                    .label(span, "this one")
                    .label(*other_span, "collides with this one")
                    .help("rename one of them; enum types are named entity + attribute, key and update types entity + `Key` / `Update`, pattern result types pattern + `Item`");
                cx.error(d);
            } else {
                taken.insert(ident, (what, span));
            }
        }
    }
}
