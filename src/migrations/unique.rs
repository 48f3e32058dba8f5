//! Unique constraints in the migrations: the constraints the migrations leave the table
//! with, and the steps that bring it to the schema's (a new constraint claims a guard for
//! every existing item; a removed one has its guards deleted).

use dyngen_runtime::migrate::{Step, UniqueDef};

use super::Planned;
use crate::ir::Schema;

/// The schema's unique constraints, as the runner sees them.
pub fn wanted(schema: &Schema) -> Vec<UniqueDef> {
    schema
        .entities
        .iter()
        .flat_map(|e| {
            e.uniques.iter().map(|u| UniqueDef {
                entity: e.type_value.clone(),
                type_attribute: schema.table.entity_type_attribute.clone(),
                name: u.name.clone(),
                attributes: u
                    .attrs
                    .iter()
                    .map(|&a| e.attributes[a].name.clone())
                    .collect(),
            })
        })
        .collect()
}

/// What a step leaves the table's constraints as.
pub fn replay_step(state: &mut Vec<UniqueDef>, step: &Step) {
    match step {
        Step::AddUnique(u) => {
            state.retain(|s| !same_constraint(s, u));
            state.push(u.clone());
        }
        Step::DropUnique(u) => state.retain(|s| !same_constraint(s, u)),
        _ => {}
    }
}

fn same_constraint(a: &UniqueDef, b: &UniqueDef) -> bool {
    a.entity == b.entity && a.name == b.name
}

/// One migration per constraint removed (first: its values are free again) and per
/// constraint added.
pub fn plans(current: &[UniqueDef], wanted: &[UniqueDef]) -> Vec<Planned> {
    let mut out = Vec::new();
    for old in current.iter().filter(|c| !wanted.contains(c)) {
        out.push(Planned {
            slug: format!("drop_unique_{}", slug(old)),
            steps: vec![Step::DropUnique(old.clone())],
            summary: vec![format!(
                "Scan: delete the guard items of the unique constraint `{}` of `{}`",
                old.name, old.entity
            )],
        });
    }
    for new in wanted.iter().filter(|w| !current.contains(w)) {
        out.push(Planned {
            slug: format!("add_unique_{}", slug(new)),
            steps: vec![Step::AddUnique(new.clone())],
            summary: vec![format!(
                "Scan: every `{}` item claims the guard of its `{}` value; two items with one value stop the migration, naming both",
                new.entity, new.name
            )],
        });
    }
    out
}

/// A file-name-safe form of `entity_constraint`: lowercase letters, digits and `_`.
fn slug(u: &UniqueDef) -> String {
    let raw = format!("{}_{}", u.entity, u.attributes.join("_"));
    let mut out = String::new();
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_');
    if out.is_empty() {
        "constraint".into()
    } else {
        out.chars().take(60).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(entity: &str, attrs: &[&str]) -> UniqueDef {
        UniqueDef {
            entity: entity.into(),
            type_attribute: "_type".into(),
            name: attrs.join("+"),
            attributes: attrs.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn a_removed_constraint_is_dropped_before_a_new_one_is_added() {
        let email = def("User", &["email"]);
        let pair = def("User", &["org", "handle"]);
        let plans = plans(std::slice::from_ref(&email), std::slice::from_ref(&pair));
        let slugs: Vec<&str> = plans.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(
            slugs,
            ["drop_unique_user_email", "add_unique_user_org_handle"]
        );
        let mut state = vec![email];
        for p in &plans {
            for s in &p.steps {
                replay_step(&mut state, s);
            }
        }
        assert_eq!(state, [pair]);
    }

    #[test]
    fn slugs_of_unusual_names_are_file_safe() {
        assert_eq!(slug(&def("Ünïcode Ent", &["e-mail"])), "n_code_ent_e_mail");
        assert_eq!(slug(&def("€", &["$"])), "constraint");
    }
}
