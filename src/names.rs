//! The naming pass: every generated method and parameter name that derives from more than
//! one schema name (update setters, `link_`/`unlink_` methods, range parameters) is decided
//! here, written into the IR, and then checked for collisions scope by scope — the `Db`
//! handle, each entity's update builder, each pattern's parameter list — with a diagnostic
//! that names both sources. Emitters print these names; they never derive one.
//!
//! Base identifiers (types, fields, pattern methods) are converted in [`crate::naming`] when
//! the schema is lowered; type names are checked there too.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Span};
use crate::ir::{self, AttrRole, LinkMethods, Schema, Setter, SetterKind, SortCondition, Type};
use crate::naming;
use crate::spans::Spans;

/// Methods a generated `Db` has before any schema name is added: its own, and those of
/// `dyngen_runtime::Table` it dereferences to.
pub const DB_METHODS: &[&str] = &[
    "new",
    "with_table_name",
    "with_batch_retry",
    "create_table",
    "migrate",
    "client",
    "table_name",
    "design",
    "batch_retry",
    "batch_write",
    "transaction",
    "clone",
    "deref",
];

/// Methods every update builder has besides its setters.
const UPDATE_METHODS: &[&str] = &["send", "expect_version", "into_parts"];

/// Decides the derived names and writes them into the IR.
pub fn assign(schema: &mut Schema) {
    let setters: Vec<Vec<Setter>> = (schema.entities.iter())
        .map(|e| setters_of(schema, e))
        .collect();
    for (entity, s) in schema.entities.iter_mut().zip(setters) {
        entity.setters = s;
    }
    for r in &mut schema.relationships {
        r.methods = link_methods(r);
    }
    for p in &mut schema.patterns {
        p.range_params = range_params(&schema.entities[p.entities[0]], p);
    }
    schema.other_change = other_change(&schema.entities);
}

/// `TableChange`'s variant for items of no entity: `Other`, then `OtherItem`,
/// `OtherItemItem`.. until no entity's variant has the name.
fn other_change(entities: &[ir::Entity]) -> String {
    let mut name = "Other".to_string();
    while entities.iter().any(|e| e.type_ident == name) {
        name.push_str("Item");
    }
    name
}

/// `link_<rel>` / `unlink_<rel>` for a many-to-many relationship with one item per direction.
fn link_methods(r: &ir::Relationship) -> Option<LinkMethods> {
    if r.kind != ir::RelationshipKind::ManyToMany || r.through.len() != 2 {
        return None;
    }
    let rel = naming::snake_ident(&r.name)?;
    let rel = naming::bare(&rel).trim_start_matches('_');
    Some(LinkMethods {
        link: prefixed("link", rel),
        unlink: prefixed("unlink", rel),
    })
}

/// `<prefix>_<name>` as an identifier (the name is already snake case; its leading
/// underscores, added for digits or keywords, are not needed behind a prefix).
fn prefixed(prefix: &str, name: &str) -> String {
    joined(prefix, name.trim_start_matches('_'))
}

/// `<left>_<right>` as an identifier; both halves already hold usable characters.
fn joined(left: &str, right: &str) -> String {
    naming::snake_ident(&format!("{left}_{right}")).unwrap_or_else(|| right.to_string())
}

/// The bound parameters of a range condition: `<input>` or `<input>_from` / `<input>_to`.
fn range_params(entity: &ir::Entity, p: &ir::Pattern) -> Vec<String> {
    let SortCondition::Compare { op, range } = &p.sort else {
        return Vec::new();
    };
    let base = entity.placeholder_ident(range);
    match op {
        ir::CompareOp::Between => {
            let b = naming::bare(&base);
            vec![joined(b, "from"), joined(b, "to")]
        }
        _ => vec![base],
    }
}

/// The setters of an entity's update builder: `set_` for every attribute the application
/// writes and the primary key does not use, `remove_` for optional ones, and the atomic
/// `add_`, `append_`, `add_to_`, `remove_from_` where no index key depends on the value;
/// `with_` for each input of a key built from `updatedAt` that the primary key lacks.
fn setters_of(schema: &Schema, entity: &ir::Entity) -> Vec<Setter> {
    let primary = entity.primary_key();
    let mut out = Vec::new();
    for (ai, attr) in entity.attributes.iter().enumerate() {
        if !matches!(attr.role, AttrRole::Data | AttrRole::Ttl) || primary.uses(ai) {
            continue;
        }
        let field = naming::bare(&attr.field_ident).trim_start_matches('_');
        let mut push = |kind: SetterKind| {
            out.push(Setter {
                kind,
                attr: ai,
                ident: prefixed(kind.prefix(), field),
            });
        };
        push(SetterKind::Set);
        if attr.optional {
            push(SetterKind::Remove);
        }
        if entity.keys_using(ai).next().is_some() || attr.role == AttrRole::Ttl {
            continue;
        }
        match &attr.ty {
            Type::Integer | Type::Float => push(SetterKind::Add),
            Type::List(_) => push(SetterKind::Append),
            Type::StringSet | Type::NumberSet => {
                push(SetterKind::AddTo);
                push(SetterKind::RemoveFrom);
            }
            _ => {}
        }
    }
    // Any attribute can be such an input, the creation time included.
    for ai in schema.restamp_inputs(entity) {
        let field = naming::bare(&entity.attributes[ai].field_ident).trim_start_matches('_');
        out.push(Setter {
            kind: SetterKind::With,
            attr: ai,
            ident: prefixed(SetterKind::With.prefix(), field),
        });
    }
    out
}

/// One scope of names: the first claimant of each name, with where it was declared.
struct Scope<'a> {
    what: &'a str,
    taken: BTreeMap<String, (String, Option<Span>)>,
    diags: &'a mut Vec<Diagnostic>,
}

impl<'a> Scope<'a> {
    fn new(what: &'a str, diags: &'a mut Vec<Diagnostic>) -> Self {
        Scope {
            what,
            taken: BTreeMap::new(),
            diags,
        }
    }

    /// Claims `ident` for `source`; a second claimant gets a diagnostic naming both.
    fn claim(&mut self, ident: &str, source: String, span: Option<Span>) {
        let key = naming::bare(ident).to_string();
        if let Some((other, other_span)) = self.taken.get(&key) {
            let mut d = Diagnostic::error(
                "dyngen::name_collision",
                format!("{source} and {other} both become `{key}` in {}", self.what),
            );
            if let Some(span) = span {
                d = d.label(span, "this one");
            }
            if let Some(other_span) = other_span {
                d = d.label(*other_span, "collides with this one");
            }
            self.diags.push(d.help(
                "rename one of them; names are compared after conversion to snake_case, with the prefix dyngen adds",
            ));
        } else {
            self.taken.insert(key, (source, span));
        }
    }
}

/// Checks every scope of generated names for collisions.
pub fn check(schema: &Schema, spans: &Spans) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    check_db(schema, spans, &mut diags);
    for (i, e) in schema.entities.iter().enumerate() {
        check_update_builder(e, spans.attrs.get(i), &mut diags);
    }
    for (i, p) in schema.patterns.iter().enumerate() {
        check_parameters(schema, p, spans.pattern.get(i).copied(), &mut diags);
    }
    diags
}

fn check_db(schema: &Schema, spans: &Spans, diags: &mut Vec<Diagnostic>) {
    let mut db = Scope::new("the methods of `Db`", diags);
    for m in DB_METHODS {
        db.claim(m, format!("the built-in method `{m}`"), None);
    }
    for (i, e) in schema.entities.iter().enumerate() {
        db.claim(
            &e.snake_ident,
            format!("entity `{}` (its repository accessor)", e.name),
            spans.entity.get(i).copied(),
        );
    }
    for (i, p) in schema.patterns.iter().enumerate() {
        db.claim(
            &p.method_ident,
            format!("pattern `{}`", p.name),
            spans.pattern.get(i).copied(),
        );
    }
    for (i, r) in schema.relationships.iter().enumerate() {
        if let Some(m) = &r.methods {
            let span = spans.relationships.get(i).copied();
            db.claim(&m.link, format!("relationship `{}` (link)", r.name), span);
            db.claim(
                &m.unlink,
                format!("relationship `{}` (unlink)", r.name),
                span,
            );
        }
    }
}

fn check_update_builder(
    e: &ir::Entity,
    attr_spans: Option<&Vec<Span>>,
    diags: &mut Vec<Diagnostic>,
) {
    let what = format!("the update builder of `{}`", e.name);
    let mut scope = Scope::new(&what, diags);
    for m in UPDATE_METHODS {
        scope.claim(m, format!("the built-in method `{m}`"), None);
    }
    for s in &e.setters {
        let attr = &e.attributes[s.attr];
        scope.claim(
            &s.ident,
            format!(
                "the `{}` setter of attribute `{}`",
                s.kind.prefix(),
                attr.name
            ),
            attr_spans.and_then(|v| v.get(s.attr)).copied(),
        );
    }
}

fn check_parameters(
    schema: &Schema,
    p: &ir::Pattern,
    span: Option<Span>,
    diags: &mut Vec<Diagnostic>,
) {
    let what = format!("the parameters of pattern `{}`", p.name);
    let mut scope = Scope::new(&what, diags);
    scope.claim("self", "the receiver `self`".to_string(), None);
    let entity = &schema.entities[p.entities[0]];
    for i in &p.inputs {
        let name = &entity.attributes[i.placeholder.attr].name;
        scope.claim(&i.param_ident, format!("input `{name}`"), span);
    }
    for r in &p.range_params {
        scope.claim(r, "the sort-key bound".to_string(), span);
    }
    for f in &p.filters {
        if let Some(param) = &f.param_ident {
            let name = &entity.attributes[f.attr].name;
            scope.claim(param, format!("the filter on `{name}`"), span);
        }
    }
}

/// Every schema name that becomes part of generated code or of a DynamoDB request, with
/// where it is written; for the check that names are single printable lines.
fn schema_names(file: &crate::ast::SchemaFile) -> Vec<(&'static str, &crate::ast::Sp<String>)> {
    let t = &file.table.value;
    let mut out = vec![("table name", &t.name), ("partition key", &t.partition_key)];
    out.extend(t.sort_key.iter().map(|n| ("sort key", n)));
    out.extend(
        t.entity_type_attribute
            .iter()
            .map(|n| ("entity-type attribute", n)),
    );
    out.extend(t.ttl_attribute.iter().map(|n| ("TTL attribute", n)));
    for (name, ix) in t.indexes.iter() {
        out.push(("index name", name));
        out.extend(
            ix.value
                .partition_key
                .iter()
                .map(|n| ("index key attribute", n)),
        );
        out.extend(ix.value.sort_key.iter().map(|n| ("index key attribute", n)));
    }
    for (name, e) in file.entities.iter() {
        out.push(("entity name", name));
        for (attr, spec) in e.value.attributes.iter() {
            out.push(("attribute name", attr));
            if let crate::ast::Attribute::Full(spec) = &spec.value {
                out.extend(spec.values.iter().flatten().map(|v| ("enum value", v)));
            }
        }
    }
    out.extend(
        file.access_patterns
            .iter()
            .map(|(n, _)| ("pattern name", n)),
    );
    out.extend(
        file.relationships
            .iter()
            .map(|(n, _)| ("relationship name", n)),
    );
    out.extend(file.consumers.iter().map(|(n, _)| ("consumer name", n)));
    out
}

/// Names must be single lines of printable text: a line break, NUL or other control
/// character in a name could end a comment or a string in generated code, and no reviewer
/// would see it. (Docs may hold line breaks; they are emitted line by line.)
pub fn check_printable(
    file: &crate::ast::SchemaFile,
    src: &crate::diag::Source,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (what, name) in schema_names(file) {
        if let Some(c) = name.value.chars().find(|c| c.is_control()) {
            diags.push(
                Diagnostic::error(
                    "dyngen::unprintable_name",
                    format!(
                        "the {what} {:?} contains the control character {:?}",
                        name.value, c
                    ),
                )
                .label(src.span_of(&name.referenced), "here")
                .help("names are single lines of printable text; put explanations in `doc:`"),
            );
        }
    }
    diags
}
