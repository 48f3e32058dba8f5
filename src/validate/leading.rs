//! A consumer's `leading_keys`: every request it makes (its entity operations and its
//! patterns) must have a partition key the restriction can express, so the policy never
//! silently allows more, nor denies what the consumer's own code does.

#[allow(unused_imports)]
use super::*;

pub(super) fn check_leading_keys(
    cx: &mut Cx,
    file: &ast::SchemaFile,
    entities: &[ir::Entity],
    patterns: &[ir::Pattern],
    consumers: &[ir::Consumer],
) {
    for c in consumers {
        let Some(keys) = &c.leading_keys else {
            continue;
        };
        let Some(span) = file
            .consumers
            .iter()
            .find(|(n, _)| n.value == c.name)
            .and_then(|(_, v)| v.value.leading_keys.as_ref())
            .map(|m| cx.span(m))
        else {
            continue;
        };
        if keys.is_empty() || keys.iter().any(|(_, v)| v.trim().is_empty()) {
            let d = Diagnostic::error("dyngen::leading_keys", format!("consumer `{}` restricts its partitions to nothing", c.name))
                .label(span, "leading_keys")
                .help("map an attribute of the partition keys to an IAM policy variable, e.g. `{companyName: \"${aws:PrincipalTag/company}\"}`");
            cx.error(d);
            continue;
        }
        if let Some((attr, value)) = keys.iter().find(|(_, v)| holds_wildcard(v)) {
            let d = Diagnostic::error("dyngen::leading_keys", format!("consumer `{}` restricts `{attr}` to `{value}`, which holds `*` or `?` outside a policy variable: IAM reads it as a wildcard and would allow other tenants' partitions", c.name))
                .label(span, "leading_keys")
                .help("give a policy variable alone, e.g. `${aws:PrincipalTag/company}`; a literal `*` or `?` is written `${*}` or `${?}`");
            cx.error(d);
            continue;
        }
        let requests = crate::iam::consumer_requests(entities, patterns, c);
        let requests = requests.iter().filter_map(|r| {
            let what = match r.pattern {
                Some(p) => format!("the pattern `{}`", p.name),
                None => format!("its `{}` operations", r.entity.name),
            };
            Some((what, r.entity, r.key?))
        });
        for (what, entity, key) in requests {
            let why = if key.composite {
                Err("its index has a multi-attribute key".to_string())
            } else {
                crate::iam::leading_key_pattern(&key.pk, entity, keys).map(|_| ())
            };
            if let Err(why) = why {
                let d = Diagnostic::error("dyngen::leading_keys", format!("consumer `{}` cannot restrict {what} to its partitions (partition key `{}`): {why}", c.name, key.pk.source))
                    .label(span, "leading_keys")
                    .help("restrict on an attribute every partition key of the consumer's requests uses, or leave this pattern or operation to another consumer");
                cx.error(d);
            }
        }
    }
}

/// Whether a leading-key value has `*` or `?` outside its `${...}` policy variables (where
/// IAM's StringLike reads them as wildcards; `${*}` and `${?}` are the literal forms). An
/// unclosed `${` counts as text.
fn holds_wildcard(value: &str) -> bool {
    let mut rest = value;
    loop {
        let (text, after) = match rest.split_once("${") {
            Some((text, after)) => (text, Some(after)),
            None => (rest, None),
        };
        if text.contains(['*', '?']) {
            return true;
        }
        match after.and_then(|a| a.split_once('}')) {
            Some((_, next)) => rest = next,
            None => return after.is_some_and(|a| a.contains(['*', '?'])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::holds_wildcard;

    #[test]
    fn wildcards_outside_policy_variables_are_found() {
        for v in [
            "*",
            "${aws:PrincipalTag/t}*",
            "a?${aws:username}",
            "${aws:x*",
            "${a}${b}?",
        ] {
            assert!(holds_wildcard(v), "{v}");
        }
        for v in [
            "${aws:PrincipalTag/t}",
            "${*}",
            "t-${?}-${aws:username}",
            "plain",
        ] {
            assert!(!holds_wildcard(v), "{v}");
        }
    }
}
