//! An item collection's `sort_key`: a condition with literal bounds on the sort key its
//! entities share.

#[allow(unused_imports)]
use super::*;

/// An item collection's `sort_key`: literal bounds on its string sort key. DynamoDB refuses
/// an empty key value and a `between` whose bounds are out of order.
pub(super) fn literal_sort(
    cx: &mut Cx,
    p: &ast::AccessPattern,
    literal: &Sp<ast::LiteralSort>,
    collection: bool,
    sk: &ir::Template,
    first: &ir::Entity,
) -> ir::SortCondition {
    use ast::LiteralSort as L;
    let span = cx.span(literal);
    let refuse = |cx: &mut Cx, code: &'static str, message: String, help: &str| {
        let d = Diagnostic::error(code, message)
            .label(span, "sort_key")
            .help(help.to_string());
        cx.error(d);
        ir::SortCondition::None
    };
    if !collection {
        return refuse(
            cx,
            "dyngen::sort_key_on_entity",
            "`sort_key` bounds an item collection's sort key".into(),
            "for one entity, give the sort key's placeholders in `inputs` and a `sort` condition",
        );
    }
    if p.sort.is_some() {
        return refuse(
            cx,
            "dyngen::sort_and_sort_key",
            "`sort` and `sort_key` both given".into(),
            "an item collection takes `sort_key` only",
        );
    }
    if template_is_numeric(sk, &first.attributes) {
        return refuse(
            cx,
            "dyngen::sort_key_on_number",
            "the collection's sort key holds numbers; `sort_key` bounds are strings".into(),
            "remove `sort_key`",
        );
    }
    let (op, values) = match &literal.value {
        L::BeginsWith(v) => (ir::LiteralOp::BeginsWith, vec![v.clone()]),
        L::Between(v) => (ir::LiteralOp::Between, v.clone()),
        L::Lt(v) => (ir::LiteralOp::Lt, vec![v.clone()]),
        L::Lte(v) => (ir::LiteralOp::Lte, vec![v.clone()]),
        L::Gt(v) => (ir::LiteralOp::Gt, vec![v.clone()]),
        L::Gte(v) => (ir::LiteralOp::Gte, vec![v.clone()]),
    };
    if op == ir::LiteralOp::Between && values.len() != 2 {
        return refuse(
            cx,
            "dyngen::sort_key_between",
            format!("`between` takes two bounds, not {}", values.len()),
            "write `between: [\"from\", \"to\"]`",
        );
    }
    if values.iter().any(String::is_empty) {
        return refuse(
            cx,
            "dyngen::sort_key_empty",
            "an empty sort-key bound matches nothing (DynamoDB refuses an empty key value)".into(),
            "give a non-empty literal",
        );
    }
    if op == ir::LiteralOp::Between && values[0].as_bytes() > values[1].as_bytes() {
        return refuse(
            cx,
            "dyngen::sort_key_between",
            format!(
                "`between` bounds out of order: `{}` sorts after `{}`",
                values[0], values[1]
            ),
            "DynamoDB compares strings by their UTF-8 bytes: put the lower bound first",
        );
    }
    ir::SortCondition::Literal { op, values }
}
