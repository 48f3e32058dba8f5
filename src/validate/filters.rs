//! Filters of access patterns: the attribute, whether the operator applies to its type,
//! and the value (a constant, or a parameter of the pattern method).

#[allow(unused_imports)]
use super::*;

pub(super) fn lower_filter(
    cx: &mut Cx,
    f: &Sp<ast::Filter>,
    entity: &ir::Entity,
    params: &mut BTreeMap<String, Span>,
) -> Option<ir::Filter> {
    let attr = filter_attribute(cx, f, entity)?;
    let ty = &entity.attributes[attr].ty;
    let op = filter_op(f.value.op.value);
    if !filter_applies(op, ty) {
        let d = Diagnostic::error("dyngen::filter_type_mismatch", format!("`{:?}` does not apply to a {} attribute", f.value.op.value, type_word(ty)).to_lowercase())
            .label(cx.span(&f.value.op), "this operator")
            .help("begins_with and contains take strings (contains also string sets); comparisons take strings, numbers, dates and timestamps");
        cx.error(d);
        return None;
    }
    let (value, param_ident) = filter_value(cx, f, entity, attr, op, params)?;
    Some(ir::Filter {
        attr,
        op,
        value,
        param_ident,
    })
}

fn filter_attribute(cx: &mut Cx, f: &Sp<ast::Filter>, entity: &ir::Entity) -> Option<usize> {
    let attr_name = &f.value.attribute;
    let found = entity
        .attributes
        .iter()
        .position(|a| a.name == attr_name.value);
    if found.is_some() {
        return found;
    }
    let mut d = Diagnostic::error(
        "dyngen::unknown_attribute",
        format!(
            "filter on `{}`, which `{}` does not have",
            attr_name.value, entity.name
        ),
    )
    .label(cx.span(attr_name), "unknown attribute");
    d = match closest(
        &attr_name.value,
        entity.attributes.iter().map(|a| a.name.as_str()),
    ) {
        Some(c) => d.help(format!("did you mean `{c}`?")),
        None => d.help("filter on one of the entity's attributes"),
    };
    cx.error(d);
    None
}

fn filter_op(op: ast::FilterOp) -> ir::FilterOp {
    use ast::FilterOp as F;
    match op {
        F::Eq => ir::FilterOp::Eq,
        F::Ne => ir::FilterOp::Ne,
        F::Lt => ir::FilterOp::Lt,
        F::Lte => ir::FilterOp::Lte,
        F::Gt => ir::FilterOp::Gt,
        F::Gte => ir::FilterOp::Gte,
        F::BeginsWith => ir::FilterOp::BeginsWith,
        F::Contains => ir::FilterOp::Contains,
        F::Exists => ir::FilterOp::Exists,
        F::NotExists => ir::FilterOp::NotExists,
    }
}

/// Whether DynamoDB's operator works on an attribute of this type.
fn filter_applies(op: ir::FilterOp, ty: &Type) -> bool {
    use ir::FilterOp as F;
    let fits = match op {
        F::Eq | F::Ne | F::Exists | F::NotExists => true,
        F::Lt | F::Lte | F::Gt | F::Gte => matches!(
            ty,
            Type::String | Type::Integer | Type::Float | Type::Timestamp | Type::Date
        ),
        F::BeginsWith => matches!(ty, Type::String),
        F::Contains => matches!(ty, Type::String | Type::StringSet),
    };
    // Comparing whole lists, maps or number sets to a constant is not offered.
    let compares_collection = op.takes_value()
        && matches!(ty, Type::List(_) | Type::Map(_) | Type::NumberSet)
        && op != F::Contains;
    fits && !compares_collection
}

/// The filter's constant, or the name of the method parameter that gives it.
type FilterValue = (Option<ir::Literal>, Option<String>);

fn filter_value(
    cx: &mut Cx,
    f: &Sp<ast::Filter>,
    entity: &ir::Entity,
    attr: usize,
    op: ir::FilterOp,
    params: &mut BTreeMap<String, Span>,
) -> Option<FilterValue> {
    let ty = &entity.attributes[attr].ty;
    match (&f.value.value, op.takes_value()) {
        (Some(v), true) => {
            let lit_ty = if op == ir::FilterOp::Contains && *ty == Type::StringSet {
                Type::String
            } else {
                ty.clone()
            };
            Some((Some(literal(cx, &lit_ty, v)?), None))
        }
        (Some(v), false) => {
            let d = Diagnostic::error(
                "dyngen::unexpected_filter_value",
                "`exists` and `not_exists` take no value",
            )
            .label(cx.span(v), "value given here")
            .help("remove `value`");
            cx.error(d);
            None
        }
        (None, true) => {
            let ident = entity.attributes[attr].field_ident.clone();
            let attr_span = cx.span(&f.value.attribute);
            if let Some(prev) = params.get(naming::bare(&ident)) {
                let d = Diagnostic::error(
                    "dyngen::name_collision",
                    format!(
                        "the filter parameter `{}` has the same name as another parameter",
                        naming::bare(&ident)
                    ),
                )
                .label(attr_span, "this filter's value is a parameter")
                .label(*prev, "the other parameter")
                .help("give the filter a constant `value`, or filter on another attribute");
                cx.error(d);
                return None;
            }
            params.insert(naming::bare(&ident).to_string(), attr_span);
            Some((None, Some(ident)))
        }
        (None, false) => Some((None, None)),
    }
}
