//! Warnings about designs that work but will hurt: prefixes that match more than intended,
//! hot partitions, unpadded ranges. The key space's own warnings (`key_prefix_collision`,
//! `unreachable_entity`) come with its errors, from one pass of its model
//! (`validate::key_space`); their levels are applied with these.

use crate::diag::Diagnostic;
use crate::ir::{self, Part, SortCondition};
use crate::spans::Spans;

/// Every lint, by the name the schema's `lints:` and `allow:` use (its code without
/// `dyngen::`).
pub const LINTS: &[&str] = &[
    "key_prefix_collision",
    "over_matching_prefix",
    "hot_partition",
    "renamed_type",
    "unpadded_number",
    "unreachable_entity",
];

pub fn lint(schema: &ir::Schema, spans: &Spans) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    over_matching_prefixes(schema, spans, &mut out);
    constant_partition_keys(schema, spans, &mut out);
    unpadded_numbers(schema, spans, &mut out);
    out
}

/// A range (`lt`, `between`, ...) over an integer written unpadded into a string sort key
/// compares digits, not numbers: `between(1, 20)` returns 1, 10, 100, 11, ...
fn unpadded_numbers(schema: &ir::Schema, spans: &Spans, out: &mut Vec<Diagnostic>) {
    for (pi, p) in schema.patterns.iter().enumerate() {
        let SortCondition::Compare { range, .. } = &p.sort else {
            continue;
        };
        if schema.is_composite(p.index) {
            continue;
        }
        let entity = &schema.entities[p.entities[0]];
        let attr = &entity.attributes[range.attr];
        let Some(sk) = entity.key_for(p.index).and_then(|k| k.sk.as_ref()) else {
            continue;
        };
        let numeric_key = crate::ir::template_is_numeric(sk, &entity.attributes);
        if attr.ty != ir::Type::Integer
            || range.format != ir::PlaceholderFormat::Value
            || numeric_key
        {
            continue;
        }
        out.push(
            Diagnostic::warning(
                "dyngen::unpadded_number",
                format!("`{}` compares the integer `{}` inside the string sort key `{}`, where 10 sorts before 9", p.name, attr.name, sk.source),
            )
            .label(spans.pattern_sort[pi], "range on an unpadded number")
            .help(format!("zero-pad it in the template, e.g. `{{{}:07}}` (7 digits; values 0 to 9999999)", attr.name))
            .about(&p.name),
        );
    }
}

fn over_matching_prefixes(schema: &ir::Schema, spans: &Spans, out: &mut Vec<Diagnostic>) {
    for (pi, p) in schema.patterns.iter().enumerate() {
        // On a multi-attribute key, given sort attributes are compared for equality.
        if p.sort != SortCondition::BeginsWith || schema.is_composite(p.index) {
            continue;
        }
        let entity = &schema.entities[p.entities[0]];
        let Some(sk) = entity.key_for(p.index).and_then(|k| k.sk.as_ref()) else {
            continue;
        };
        let given = |ph: &ir::Placeholder| {
            p.inputs.iter().any(|i| &i.placeholder == ph) || p.fixed.iter().any(|(f, _)| f == ph)
        };
        // The prefix runs up to the first placeholder that is not given.
        let mut last_in_prefix: Option<&Part> = None;
        for part in &sk.parts {
            if let Part::Placeholder(ph) = part
                && !given(ph)
            {
                break;
            }
            last_in_prefix = Some(part);
        }
        if let Some(Part::Placeholder(ph)) = last_in_prefix {
            let attr = &entity.attributes[ph.attr].name;
            out.push(
                Diagnostic::warning(
                    "dyngen::over_matching_prefix",
                    format!("begins_with on `{}` ends with the value of `{attr}`, so `{attr}` = \"1\" also matches \"10\", \"1x\", ...", sk.source),
                )
                .label(spans.pattern_sort[pi], "begins_with")
                .help(format!("end the sort key with a delimiter after `{{{attr}}}` (e.g. `...{{{attr}}}#`), or use `equals`"))
                .about(&p.name),
            );
        }
    }
}

fn constant_partition_keys(schema: &ir::Schema, spans: &Spans, out: &mut Vec<Diagnostic>) {
    for (i, e) in schema.entities.iter().enumerate() {
        for (k, key) in e.keys.iter().enumerate() {
            if key.pk.is_constant() {
                out.push(
                    Diagnostic::warning(
                        "dyngen::hot_partition",
                        format!("every `{}` item shares the partition `{}` of `{}`", e.name, key.pk.source, schema.index_name(key.index)),
                    )
                    .label(spans.keys[i][k].0, "constant partition key")
                    .help("a single partition serves at most 3,000 reads and 1,000 writes per second; add a placeholder such as `{id}` or shard the key")
                    .about(&e.name),
                );
            }
        }
    }
}
