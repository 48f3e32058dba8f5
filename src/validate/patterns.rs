//! Access patterns: the index, inputs, sort condition, projection and filters of each.

#[allow(unused_imports)]
use super::*;

pub(super) fn lower_patterns(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    table: &ir::Table,
    entities: &[ir::Entity],
    spans: &mut Spans,
) -> Vec<ir::Pattern> {
    let mut out = Vec::new();
    for (name, p) in file.access_patterns.iter() {
        if let Some(pattern) = lower_pattern(cx, name, &p.value, table, entities) {
            spans.pattern.push(cx.span(name));
            spans
                .pattern_sort
                .push(p.value.sort.as_ref().map_or(cx.span(name), |s| cx.span(s)));
            out.push(pattern);
        }
    }
    out
}

pub(super) fn entity_index(entities: &[ir::Entity], name: &str) -> Option<usize> {
    entities.iter().position(|e| e.name == name)
}

pub(super) fn lower_pattern(
    cx: &mut Cx,
    name: &Sp<String>,
    p: &ast::AccessPattern,
    table: &ir::Table,
    entities: &[ir::Entity],
) -> Option<ir::Pattern> {
    let name_span = cx.span(name);
    let (method_ident, type_ident) = pattern_idents(cx, name)?;
    let ents = pattern_entities(cx, name, p, entities)?;
    let index = pattern_index(cx, name, p, table)?;
    let index_span = p.index.as_ref().map_or(name_span, |i| cx.span(i));
    check_entities_in_index(cx, p, table, index, index_span, &ents, entities)?;
    let first = &entities[ents[0]];
    let key = first.key_for(index).expect("checked above");
    let mut inputs = pattern_inputs(cx, p, first, key);
    check_partition_determined(cx, name, first, key, &inputs.given);
    check_collection_partitions(cx, name_span, &ents, entities, index);
    let sort = sort_condition(cx, name, p, &ents, key, first, &inputs.given, index_span);
    reserve_range_params(&sort, first, name_span, &mut inputs.params);
    let projection = pattern_projection(cx, name_span, p, &ents, entities);
    check_index_projection(
        cx,
        name_span,
        p,
        table,
        index,
        &ents,
        entities,
        projection.as_ref(),
    );
    let filters = p
        .filter
        .iter()
        .filter_map(|f| lower_filter(cx, f, first, &mut inputs.params))
        .collect();
    let skip_expired = skip_expired(cx, name_span, p, table, index, &ents, entities);
    Some(ir::Pattern {
        name: name.value.clone(),
        method_ident,
        type_ident,
        doc: p.doc.clone(),
        entities: ents,
        index,
        inputs: inputs.inputs,
        fixed: inputs.fixed,
        sort,
        descending: p
            .order
            .as_ref()
            .is_some_and(|o| o.value == ast::Order::Desc),
        limit: pattern_limit(cx, p),
        projection,
        filters,
        consumers: pattern_consumers(cx, p),
        range_params: Vec::new(),
        skip_expired,
    })
}

/// The pattern's method and type identifiers, or an error when its name has no usable
/// character.
fn pattern_idents(cx: &mut Cx, name: &Sp<String>) -> Option<(String, String)> {
    let method_ident = naming::snake_ident(&name.value);
    let type_ident = naming::type_ident(&name.value);
    if let (Some(m), Some(t)) = (method_ident, type_ident) {
        return Some((m, t));
    }
    let d = Diagnostic::error(
        "dyngen::unusable_name",
        format!(
            "`{}` has no character a Rust method name could use",
            name.value
        ),
    )
    .label(cx.span(name), "pattern name")
    .help("use letters in pattern names, e.g. `usersOfCompany`");
    cx.error(d);
    None
}

/// The entities a pattern returns, as positions, each known and listed once.
fn pattern_entities(
    cx: &mut Cx,
    name: &Sp<String>,
    p: &ast::AccessPattern,
    entities: &[ir::Entity],
) -> Option<Vec<usize>> {
    let name_span = cx.span(name);
    let entity_refs: Vec<&Sp<String>> = match (&p.entity, &p.entities) {
        (Some(e), None) => vec![e],
        (None, Some(list)) if !list.is_empty() => list.iter().collect(),
        (Some(_), Some(_)) => {
            let d = Diagnostic::error(
                "dyngen::entity_and_entities",
                "a pattern gives either `entity` or `entities`, not both",
            )
            .label(name_span, "this pattern")
            .help("use `entity` for one entity, `entities` for an item collection");
            cx.error(d);
            return None;
        }
        _ => {
            let d = Diagnostic::error(
                "dyngen::missing_entity",
                format!(
                    "pattern `{}` does not say which entity it returns",
                    name.value
                ),
            )
            .label(name_span, "this pattern")
            .help("add `entity: User` (or `entities: [A, B]` for an item collection)");
            cx.error(d);
            return None;
        }
    };
    let mut ents = Vec::new();
    for e in &entity_refs {
        match entity_index(entities, &e.value) {
            Some(i) if !ents.contains(&i) => ents.push(i),
            Some(_) => {
                let d = Diagnostic::error(
                    "dyngen::duplicate_entity",
                    format!("entity `{}` is listed twice", e.value),
                )
                .label(cx.span(e), "again")
                .help("list each entity once");
                cx.error(d);
            }
            None => report_unknown_entity(cx, name, e, entities),
        }
    }
    (ents.len() == entity_refs.len()).then_some(ents)
}

fn report_unknown_entity(cx: &mut Cx, name: &Sp<String>, e: &Sp<String>, entities: &[ir::Entity]) {
    let mut d = Diagnostic::error(
        "dyngen::unknown_entity",
        format!(
            "pattern `{}` returns `{}`, which is not an entity",
            name.value, e.value
        ),
    )
    .label(cx.span(e), "unknown entity");
    d = match closest(&e.value, entities.iter().map(|e| e.name.as_str())) {
        Some(c) => d.help(format!("did you mean `{c}`?")),
        None => d.help("declare it under `entities:`"),
    };
    cx.error(d);
}

/// The index a pattern queries: the table's primary key unless it names a GSI.
fn pattern_index(
    cx: &mut Cx,
    name: &Sp<String>,
    p: &ast::AccessPattern,
    table: &ir::Table,
) -> Option<IndexRef> {
    let Some(ix) = &p.index else {
        return Some(IndexRef::Primary);
    };
    if let Some(i) = index_ref(table, &ix.value) {
        return Some(i);
    }
    let d = Diagnostic::error(
        "dyngen::unknown_index",
        format!(
            "pattern `{}` queries `{}`, which the table does not declare",
            name.value, ix.value
        ),
    )
    .label(cx.span(ix), "unknown index")
    .help(format!("known indexes: {}", index_names(table)));
    cx.error(d);
    None
}

/// Every returned entity has key templates on the queried index. An entity whose keys
/// for that index were already reported broken fails quietly.
fn check_entities_in_index(
    cx: &mut Cx,
    p: &ast::AccessPattern,
    table: &ir::Table,
    index: IndexRef,
    index_span: Span,
    ents: &[usize],
    entities: &[ir::Entity],
) -> Option<()> {
    for &e in ents {
        if entities[e].key_for(index).is_some() {
            continue;
        }
        let broken = (
            entities[e].name.clone(),
            table.index_name(index).to_string(),
        );
        if !cx.broken_keys.contains(&broken) {
            let d = Diagnostic::error(
                "dyngen::entity_not_in_index",
                format!(
                    "entity `{}` has no key templates for index `{}`",
                    entities[e].name,
                    p.index.as_ref().map_or("primary", |i| i.value.as_str())
                ),
            )
            .label(index_span, "queried here")
            .help(format!(
                "add keys for this index to `{}`, or query another index",
                entities[e].name
            ));
            cx.error(d);
        }
        return None;
    }
    Some(())
}

/// What the caller gives (`inputs`) and what the pattern fixes (`fixed`), with every
/// placeholder either provides and the Rust parameter names taken so far.
struct Given {
    inputs: Vec<ir::Input>,
    fixed: Vec<(Placeholder, ir::Literal)>,
    given: Vec<Placeholder>,
    params: BTreeMap<String, Span>,
}

/// Inputs and fixed values: placeholders of the first entity's templates on this index.
fn pattern_inputs(
    cx: &mut Cx,
    p: &ast::AccessPattern,
    first: &ir::Entity,
    key: &ir::EntityKey,
) -> Given {
    let in_templates = |ph: &Placeholder| key.placeholders().any(|x| x == ph);
    let mut out = Given {
        inputs: Vec::new(),
        fixed: Vec::new(),
        given: Vec::new(),
        params: BTreeMap::new(),
    };
    for input in &p.inputs {
        let span = cx.span(input);
        let Some(ph) = pattern_placeholder(cx, &input.value, span, first, &in_templates) else {
            continue;
        };
        if out.given.contains(&ph) {
            let d = Diagnostic::error(
                "dyngen::duplicate_input",
                format!("input `{}` is given twice", input.value),
            )
            .label(span, "again")
            .help("list each input once");
            cx.error(d);
            continue;
        }
        let param = first.placeholder_ident(&ph);
        out.params.insert(naming::bare(&param).to_string(), span);
        out.given.push(ph.clone());
        out.inputs.push(ir::Input {
            placeholder: ph,
            param_ident: param,
        });
    }
    for (k, v) in p.fixed.iter() {
        let span = cx.span(k);
        let Some(ph) = pattern_placeholder(cx, &k.value, span, first, &in_templates) else {
            continue;
        };
        if out.given.contains(&ph) {
            let d = Diagnostic::error(
                "dyngen::duplicate_input",
                format!("`{}` is both an input and fixed", k.value),
            )
            .label(span, "fixed here")
            .help("either the caller gives it or the pattern fixes it");
            cx.error(d);
            continue;
        }
        let ty = if ph.format == PlaceholderFormat::Year {
            Type::Integer
        } else {
            first.attributes[ph.attr].ty.clone()
        };
        let span = cx.span(v);
        if let Some(lit) = literal(cx, &ty, v)
            && fixed_value_fits(cx, first, &ph, &lit, span)
        {
            out.given.push(ph.clone());
            out.fixed.push((ph, lit));
        }
    }
    out
}

/// A fixed value for a zero-padded placeholder must fit its width (no stored key could
/// match it otherwise).
fn fixed_value_fits(
    cx: &mut Cx,
    first: &ir::Entity,
    ph: &Placeholder,
    lit: &Literal,
    span: Span,
) -> bool {
    let (PlaceholderFormat::Padded(w), Literal::Integer(n)) = (ph.format, lit) else {
        return true;
    };
    let Err(why) = dyngen_runtime::key::fits_padded(*n, w) else {
        return true;
    };
    let d = Diagnostic::error(
        "dyngen::padded_value_too_wide",
        format!(
            "`{n}` cannot stand in `{{{}}}`: {why}",
            placeholder_name(first, ph)
        ),
    )
    .label(span, "fixed value")
    .help(format!(
        "a zero-padded key holds 0 to {}; widen the padding, or fix another value",
        dyngen_runtime::key::padded_max(w)
    ));
    cx.error(d);
    false
}

/// A Query needs the whole partition key: every placeholder of it is given or fixed.
fn check_partition_determined(
    cx: &mut Cx,
    name: &Sp<String>,
    first: &ir::Entity,
    key: &ir::EntityKey,
    given: &[Placeholder],
) {
    let missing: Vec<String> = key
        .pk
        .placeholders()
        .filter(|ph| !given.contains(ph))
        .map(|ph| placeholder_name(first, ph))
        .collect();
    if missing.is_empty() {
        return;
    }
    let d = Diagnostic::error(
        "dyngen::partition_key_not_determined",
        format!(
            "pattern `{}` does not determine the partition key `{}`",
            name.value, key.pk.source
        ),
    )
    .label(cx.span(name), format!("missing: {}", missing.join(", ")))
    .help(format!(
        "add {} to `inputs` (a Query needs the whole partition key; dyngen never scans)",
        missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    cx.error(d);
}

/// The entities of an item collection share the first entity's partition on the index.
fn check_collection_partitions(
    cx: &mut Cx,
    name_span: Span,
    ents: &[usize],
    entities: &[ir::Entity],
    index: IndexRef,
) {
    let first = &entities[ents[0]];
    let key = first.key_for(index).expect("checked by the caller");
    for &e in &ents[1..] {
        let other = entities[e].key_for(index).expect("checked by the caller");
        if same_shape(
            &key.pk,
            &first.attributes,
            &other.pk,
            &entities[e].attributes,
        ) {
            continue;
        }
        let d = Diagnostic::error("dyngen::collection_partition_mismatch", format!("`{}` and `{}` do not share a partition on this index: `{}` vs `{}`", first.name, entities[e].name, key.pk.source, other.pk.source))
            .label(name_span, "item collection")
            .help("an item collection needs partition key templates with the same literals and placeholder types");
        cx.error(d);
    }
}

/// The parameter names a sort-key range will take (`x`, or `x_from` and `x_to`), so
/// filters cannot take them too.
fn reserve_range_params(
    sort: &ir::SortCondition,
    first: &ir::Entity,
    name_span: Span,
    params: &mut BTreeMap<String, Span>,
) {
    let ir::SortCondition::Compare { range, op } = sort else {
        return;
    };
    let base = first.placeholder_ident(range);
    let base = naming::bare(&base);
    if *op == ir::CompareOp::Between {
        params.insert(format!("{base}_from"), name_span);
        params.insert(format!("{base}_to"), name_span);
    } else {
        params.insert(base.to_string(), name_span);
    }
}

fn pattern_limit(cx: &mut Cx, p: &ast::AccessPattern) -> Option<u32> {
    let l = p.limit.as_ref()?;
    if l.value > i32::MAX as u32 {
        let d = Diagnostic::error(
            "dyngen::limit_too_large",
            format!(
                "a limit of {} is more than a query's page size can be",
                l.value
            ),
        )
        .label(cx.span(l), "too large")
        .help(format!(
            "DynamoDB's `Limit` is at most {}; pages also stop at 1 MB",
            i32::MAX
        ));
        cx.error(d);
        return None;
    }
    if l.value != 0 {
        return Some(l.value);
    }
    let d = Diagnostic::error("dyngen::zero_limit", "a limit of 0 reads nothing")
        .label(cx.span(l), "zero")
        .help("remove `limit` or give a positive page size");
    cx.error(d);
    None
}

/// The attributes a pattern reads (`None`: whole items), each one the entities have.
fn pattern_projection(
    cx: &mut Cx,
    name_span: Span,
    p: &ast::AccessPattern,
    ents: &[usize],
    entities: &[ir::Entity],
) -> Option<Vec<String>> {
    let list = p.projection.as_ref()?;
    if list.is_empty() {
        let d = Diagnostic::error(
            "dyngen::empty_projection",
            "a projection must name at least one attribute",
        )
        .label(name_span, "this pattern")
        .help("list the attributes to read, or remove `projection` to read whole items");
        cx.error(d);
    }
    let known = |a: &str| {
        ents.iter()
            .any(|&e| entities[e].attributes.iter().any(|x| x.name == a))
    };
    let mut out = Vec::new();
    for a in list {
        if known(&a.value) {
            out.push(a.value.clone());
            continue;
        }
        let d = Diagnostic::error(
            "dyngen::unknown_attribute",
            format!(
                "projection names `{}`, which the pattern's entities do not have",
                a.value
            ),
        )
        .label(cx.span(a), "unknown attribute")
        .help("list attributes of the returned entities");
        cx.error(d);
    }
    Some(out)
}

/// Consumer names, sorted and deduplicated; each must be usable as a Terraform and IAM
/// identifier.
fn pattern_consumers(cx: &mut Cx, p: &ast::AccessPattern) -> Vec<String> {
    for c in &p.consumers {
        let usable = naming::snake_ident(&c.value).is_some()
            && c.value
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
        if usable {
            continue;
        }
        let d = Diagnostic::error(
            "dyngen::invalid_consumer",
            format!(
                "consumer name `{}` must use only letters, digits, `_` and `-`",
                c.value
            ),
        )
        .label(cx.span(c), "this consumer")
        .help("consumer names become Terraform and IAM identifiers");
        cx.error(d);
    }
    let mut consumers: Vec<String> = p.consumers.iter().map(|c| c.value.clone()).collect();
    consumers.sort();
    consumers.dedup();
    consumers
}

pub(super) fn placeholder_name(entity: &ir::Entity, ph: &Placeholder) -> String {
    format!("{}{}", entity.attributes[ph.attr].name, ph.format.suffix())
}

pub(super) fn pattern_placeholder(
    cx: &mut Cx,
    text: &str,
    span: Span,
    entity: &ir::Entity,
    in_templates: &dyn Fn(&Placeholder) -> bool,
) -> Option<Placeholder> {
    let (name, format) = match text.split_once(':') {
        Some((n, "year")) => (n, PlaceholderFormat::Year),
        Some((n, "raw")) => (n, PlaceholderFormat::Raw),
        Some((n, f)) if padding(f).is_some() => (n, padding(f).unwrap_or(PlaceholderFormat::Value)),
        Some((_, f)) => {
            let d = Diagnostic::error(
                "dyngen::unknown_placeholder_format",
                format!("`{f}` is not a placeholder format"),
            )
            .label(span, "this input")
            .help("formats are `:year` (dates and timestamps), `:07` (integers zero-padded to 7 digits) and `:raw` (strings stored unescaped)");
            cx.error(d);
            return None;
        }
        None => (text, PlaceholderFormat::Value),
    };
    let Some(attr) = entity.attributes.iter().position(|a| a.name == name) else {
        let mut d = Diagnostic::error(
            "dyngen::unknown_input",
            format!("input `{text}` names no attribute of `{}`", entity.name),
        )
        .label(span, "unknown attribute");
        d = match closest(name, entity.attributes.iter().map(|a| a.name.as_str())) {
            Some(c) => d.help(format!("did you mean `{c}`?")),
            None => d.help(
                "inputs name placeholders of the entity's key templates on the queried index",
            ),
        };
        cx.error(d);
        return None;
    };
    let mut ph = Placeholder { attr, format };
    // `number` names the placeholder `{number:07}` too, and `email` names `{email:raw}`:
    // the caller gives the value.
    if format == PlaceholderFormat::Value && !in_templates(&ph) {
        let padded = (1..=dyngen_runtime::key::MAX_PAD)
            .map(|w| Placeholder {
                attr,
                format: PlaceholderFormat::Padded(w),
            })
            .chain([Placeholder {
                attr,
                format: PlaceholderFormat::Raw,
            }])
            .find(|p| in_templates(p));
        if let Some(p) = padded {
            ph = p;
        }
    }
    if !in_templates(&ph) {
        let d = Diagnostic::error(
            "dyngen::input_not_in_key",
            format!(
                "`{text}` is not a placeholder of `{}`'s key templates on this index",
                entity.name
            ),
        )
        .label(span, "not part of the key")
        .help("to narrow results by a non-key attribute, use `filter:`");
        cx.error(d);
        return None;
    }
    Some(ph)
}

pub(super) fn same_shape(
    a: &ir::Template,
    a_attrs: &[ir::Attribute],
    b: &ir::Template,
    b_attrs: &[ir::Attribute],
) -> bool {
    a.parts.len() == b.parts.len()
        && a.parts.iter().zip(&b.parts).all(|(x, y)| match (x, y) {
            (Part::Literal(l), Part::Literal(r)) => l == r,
            (Part::Placeholder(p), Part::Placeholder(q)) => {
                p.format == q.format && a_attrs[p.attr].ty == b_attrs[q.attr].ty
            }
            _ => false,
        })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn sort_condition(
    cx: &mut Cx,
    name: &Sp<String>,
    p: &ast::AccessPattern,
    ents: &[usize],
    key: &ir::EntityKey,
    first: &ir::Entity,
    given: &[Placeholder],
    index_span: Span,
) -> ir::SortCondition {
    let op_span = p.sort.as_ref().map_or(cx.span(name), |s| cx.span(s));
    let Some(sk) = &key.sk else {
        if let Some(op) = &p.sort {
            let d = Diagnostic::error(
                "dyngen::sort_without_sort_key",
                "this index has no sort key to put a condition on",
            )
            .label(cx.span(op), "sort condition")
            .help("remove `sort`");
            cx.error(d);
        }
        return ir::SortCondition::None;
    };
    if let Some(literal) = &p.sort_key {
        if key.composite {
            let d = Diagnostic::error(
                "dyngen::sort_key_on_composite",
                "`sort_key` bounds a string sort key; this index's sort key is several attributes",
            )
            .label(cx.span(literal), "sort_key")
            .help("give the leading sort attributes in `inputs` and a `sort` condition on the next one");
            cx.error(d);
            return ir::SortCondition::None;
        }
        return literal_sort(cx, p, literal, ents.len() > 1, sk, first);
    }
    if ents.len() > 1 {
        if p.sort.is_some() {
            let d = Diagnostic::error(
                "dyngen::collection_sort",
                "`sort` bounds a placeholder of one entity's sort key, and an item collection's entities share none to bound",
            )
            .label(op_span, "sort condition")
            .help("remove `sort`, or bound the collection's sort key with literals: `sort_key: {begins_with: \"ISSUE#\"}`");
            cx.error(d);
        }
        return ir::SortCondition::None;
    }
    let phs: Vec<&Placeholder> = sk.placeholders().collect();
    let leading = phs.iter().take_while(|ph| given.contains(ph)).count();
    if let Some(late) = phs[leading..].iter().find(|ph| given.contains(ph)) {
        let d = Diagnostic::error("dyngen::sort_input_gap", format!("sort-key input `{}` comes after `{}`, which is not given", placeholder_name(first, late), placeholder_name(first, phs[leading])))
            .label(index_span, format!("sort key template `{}`", sk.source))
            .help("a key condition can only fix a prefix of the sort key: give the earlier placeholders too");
        cx.error(d);
    }
    let sort = SortKeyShape {
        sk,
        first,
        phs: &phs,
        leading,
        op_span,
    };
    match p.sort.as_ref().map(|s| s.value) {
        None if leading == phs.len() => ir::SortCondition::Equals,
        None if leading == 0 && sk.literal_prefix().is_empty() => ir::SortCondition::None,
        None => ir::SortCondition::BeginsWith,
        Some(ast::SortOp::Equals) => sort.equals(cx),
        Some(ast::SortOp::BeginsWith) => sort.begins_with(cx),
        Some(op) => sort.compare(cx, op),
    }
}

/// A sort-key template and how much of it a pattern's inputs give: the checks of each
/// requested condition.
struct SortKeyShape<'a> {
    sk: &'a ir::Template,
    first: &'a ir::Entity,
    phs: &'a [&'a Placeholder],
    /// How many leading placeholders are given.
    leading: usize,
    op_span: Span,
}

impl SortKeyShape<'_> {
    fn equals(&self, cx: &mut Cx) -> ir::SortCondition {
        if self.leading < self.phs.len() {
            let d = Diagnostic::error(
                "dyngen::sort_not_determined",
                format!(
                    "`equals` needs every sort-key placeholder; `{}` is not given",
                    placeholder_name(self.first, self.phs[self.leading])
                ),
            )
            .label(self.op_span, "equals")
            .help("add the missing placeholders to `inputs`, or use `begins_with`");
            cx.error(d);
        }
        ir::SortCondition::Equals
    }

    fn begins_with(&self, cx: &mut Cx) -> ir::SortCondition {
        if template_is_numeric(self.sk, &self.first.attributes) {
            let d = Diagnostic::error(
                "dyngen::begins_with_on_number",
                format!(
                    "the sort key `{}` is a number; begins_with works only on strings",
                    self.sk.source
                ),
            )
            .label(self.op_span, "begins_with")
            .help("use `between`, `lt`, `lte`, `gt` or `gte` on a number sort key");
            cx.error(d);
        }
        // Nothing given before the first open placeholder: the prefix is empty, which
        // DynamoDB refuses, and every key starts with it: read the partition.
        if self.leading == 0 && self.sk.literal_prefix().is_empty() && !self.phs.is_empty() {
            return ir::SortCondition::None;
        }
        ir::SortCondition::BeginsWith
    }

    /// A comparison bounds the first sort-key placeholder the inputs leave open.
    fn compare(&self, cx: &mut Cx, op: ast::SortOp) -> ir::SortCondition {
        use ast::SortOp as S;
        let op = match op {
            S::Between => ir::CompareOp::Between,
            S::Lt => ir::CompareOp::Lt,
            S::Lte => ir::CompareOp::Lte,
            S::Gt => ir::CompareOp::Gt,
            S::Gte => ir::CompareOp::Gte,
            S::Equals => return self.equals(cx),
            S::BeginsWith => return self.begins_with(cx),
        };
        if let Some(range) = self.phs.get(self.leading) {
            return ir::SortCondition::Compare {
                op,
                range: (*range).clone(),
            };
        }
        let d = Diagnostic::error(
            "dyngen::nothing_to_compare",
            "every sort-key placeholder is already given, so there is nothing left to compare",
        )
        .label(self.op_span, "comparison")
        .help("drop the last sort-key input (the caller then bounds it), or use `equals`");
        cx.error(d);
        ir::SortCondition::Equals
    }
}
