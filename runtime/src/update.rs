//! Typed updates: what a generated update builder collects, how it becomes one UpdateItem,
//! and the rules that keep it consistent (last setter wins, key inputs guarded, no empty
//! updates, one time stamp).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::deliver::write_failed;
use crate::deliver::{Call, Verdict};
use crate::entity::Entity;
use crate::error::Error;
use crate::expr::{Expr, describe_key};
use crate::item::Item;
use crate::table::Table;
use crate::value::Timestamp;
use crate::write::{UpdateRequest, conflict, found, send_update, version_matches};

/// A generated update builder: the key of the item and the update collected so far.
pub trait IntoUpdate {
    /// The entity being updated.
    type Entity: Entity;
    /// The key attributes and the collected update, with the index keys that depend on
    /// the update's time stamp added.
    fn into_parts(self) -> (Item, UpdateSpec);
}

/// A condition on a stored attribute: this value, or (`None`) absent.
type Guard = (&'static str, Option<AttributeValue>);

/// The action that takes effect on one attribute.
type Change = (&'static str, Action);

/// One change to one attribute.
#[derive(Debug, Clone, PartialEq)]
enum Action {
    Set(AttributeValue),
    Remove,
    Add(AttributeValue),
    Delete(AttributeValue),
    Append(AttributeValue),
}

/// The parts of an update, collected by a generated typed builder.
///
/// Rules, applied when the request is built: when two setters change one attribute the
/// last one wins; an attribute another setter took as a key input (a guard) must hold that
/// value in the stored item, or, if this update sets it, be set to that value; an index
/// key set to an empty string is removed instead (the item leaves that sparse index); an
/// update with no change is [`Error::EmptyUpdate`].
#[derive(Debug, Clone)]
pub struct UpdateSpec {
    actions: Vec<Change>,
    guards: Vec<(&'static str, Option<AttributeValue>)>,
    expect_version: Option<i64>,
    now: Timestamp,
    /// A value a setter was given that no key can hold: (attribute, why).
    refused: Option<(&'static str, String)>,
    /// A value a setter was given that the table's rules refuse: (attribute, why).
    refused_value: Option<(&'static str, String)>,
}

/// Makes `action` the change of `name`: the last setter of an attribute wins.
fn set_action(changes: &mut Vec<Change>, name: &'static str, action: Action) {
    match changes.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = action,
        None => changes.push((name, action)),
    }
}

impl Default for UpdateSpec {
    fn default() -> Self {
        UpdateSpec::new()
    }
}

impl UpdateSpec {
    /// An empty update, stamped with the current time.
    pub fn new() -> Self {
        UpdateSpec {
            actions: Vec::new(),
            guards: Vec::new(),
            expect_version: None,
            now: Timestamp::now(),
            refused: None,
            refused_value: None,
        }
    }

    /// Records that a setter was given a value no key can hold (a number too wide for
    /// its padding): the update is [`Error::InvalidKey`] before any request.
    pub fn refuse(&mut self, attribute: &'static str, reason: String) {
        self.refused.get_or_insert((attribute, reason));
    }
    /// Records that a setter was given a value the table's rules refuse (an unsafe
    /// integer): the update is [`Error::InvalidValue`] before any request.
    pub fn refuse_value(&mut self, attribute: &'static str, reason: String) {
        self.refused_value.get_or_insert((attribute, reason));
    }
    /// Whether no setter was called.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
    /// The time this update stamps (`updatedAt`, and every key built from it).
    pub fn now(&self) -> Timestamp {
        self.now
    }
    /// Sets an attribute.
    pub fn set(&mut self, name: &'static str, value: AttributeValue) {
        self.actions.push((name, Action::Set(value)));
    }
    /// Removes an attribute.
    pub fn remove(&mut self, name: &'static str) {
        self.actions.push((name, Action::Remove));
    }
    /// Adds to a number or set attribute.
    pub fn add(&mut self, name: &'static str, value: AttributeValue) {
        self.actions.push((name, Action::Add(value)));
    }
    /// Removes members from a set attribute.
    pub fn delete(&mut self, name: &'static str, value: AttributeValue) {
        self.actions.push((name, Action::Delete(value)));
    }
    /// Appends to a list attribute.
    pub fn append(&mut self, name: &'static str, value: AttributeValue) {
        self.actions.push((name, Action::Append(value)));
    }
    /// Requires the stored `name` to be `value`: a key input the caller gave a setter.
    pub fn guard(&mut self, name: &'static str, value: AttributeValue) {
        self.guards.push((name, Some(value)));
    }
    /// An update of the item with `key`, refused before the request if the key cannot
    /// hold one of its values ([`crate::EntityKey::check_key`]).
    pub fn for_key<K: crate::entity::EntityKey>(key: &K) -> UpdateSpec {
        let mut spec = UpdateSpec::new();
        if let Err((attribute, reason)) = key.check_key() {
            spec.refuse(attribute, reason);
        }
        spec
    }
    /// Requires the item to have no `name`: an optional key input the caller said is absent.
    pub fn guard_absent(&mut self, name: &'static str) {
        self.guards.push((name, None));
    }
    /// Applies only if the stored version is `version` (a missing version counts as 0).
    pub fn expect_version(&mut self, version: i64) {
        self.expect_version = Some(version);
    }
    /// The version this update expects, if any.
    pub fn expected_version(&self) -> Option<i64> {
        self.expect_version
    }

    /// The actions that take effect (the last per attribute, empty index keys removed)
    /// and the guards still to check against the stored item.
    fn resolve<E: Entity>(&self) -> Result<(Vec<Change>, Vec<Guard>), Error> {
        if let Some((attribute, reason)) = &self.refused {
            return Err(Error::InvalidKey {
                entity: E::ENTITY_TYPE,
                attribute,
                reason: reason.clone(),
            });
        }
        if let Some((attribute, reason)) = &self.refused_value {
            return Err(Error::InvalidValue {
                entity: E::ENTITY_TYPE,
                attribute,
                reason: reason.clone(),
            });
        }
        let mut last: Vec<Change> = Vec::new();
        for (name, action) in &self.actions {
            let is_index_key = E::INDEX_KEYS.iter().any(|index| index.contains(name));
            let action = match action {
                Action::Set(AttributeValue::S(s)) if s.is_empty() && is_index_key => Action::Remove,
                a => a.clone(),
            };
            set_action(&mut last, name, action);
        }
        // An index's key attributes leave together: one removed removes the rest.
        for index in E::INDEX_KEYS {
            let leaves = (index.iter())
                .any(|k| matches!(last.iter().find(|(n, _)| n == k), Some((_, Action::Remove))));
            if leaves {
                for k in *index {
                    set_action(&mut last, k, Action::Remove);
                }
            }
        }
        if last.is_empty() {
            return Err(Error::EmptyUpdate {
                entity: E::ENTITY_TYPE,
            });
        }
        let mut guards = Vec::new();
        for (name, value) in &self.guards {
            match last.iter().find(|(n, _)| n == name) {
                None => {
                    if !guards.iter().any(|(n, v)| n == name && v == value) {
                        guards.push((*name, value.clone()));
                    }
                }
                Some((_, Action::Set(v))) if Some(v) == value.as_ref() => {}
                Some((_, Action::Remove)) if value.is_none() => {}
                Some(_) => {
                    return Err(Error::InvalidUpdate {
                        entity: E::ENTITY_TYPE,
                        reason: format!(
                            "`{name}` is changed by this update and given to another setter as a key input with a different value"
                        ),
                    });
                }
            }
        }
        // Two guards on one attribute with different values can never both hold.
        for (i, (n, v)) in guards.iter().enumerate() {
            if guards[..i].iter().any(|(m, w)| m == n && w != v) {
                return Err(Error::InvalidUpdate {
                    entity: E::ENTITY_TYPE,
                    reason: format!("`{n}` is given to two setters with different values"),
                });
            }
        }
        Ok((last, guards))
    }

    /// The update and condition expressions for this update on an existing item of `E`.
    pub fn expression<E: Entity>(&self, expr: &mut Expr) -> Result<(String, String), Error> {
        self.expression_with::<E>(expr, &[])
    }

    /// The values this update gives `E`'s constrained attributes (`None`: removed), if it
    /// changes any; a change other than set or remove cannot be guarded.
    pub(crate) fn unique_changes<E: Entity>(
        &self,
    ) -> Result<Vec<(&'static str, Option<AttributeValue>)>, Error> {
        let (actions, _) = self.resolve::<E>()?;
        let constrained = |n: &str| E::UNIQUE.iter().any(|u| u.attributes.contains(&n));
        let mut out = Vec::new();
        for (name, action) in actions.into_iter().filter(|(n, _)| constrained(n)) {
            match action {
                Action::Set(v) => out.push((name, Some(v))),
                Action::Remove => out.push((name, None)),
                _ => {
                    return Err(Error::InvalidUpdate {
                        entity: E::ENTITY_TYPE,
                        reason: format!(
                            "`{name}` is unique: it can be set or removed, not changed in place"
                        ),
                    });
                }
            }
        }
        Ok(out)
    }

    /// As [`UpdateSpec::expression`], with `extra` conditions joined to the condition.
    pub(crate) fn expression_with<E: Entity>(
        &self,
        expr: &mut Expr,
        extra: &[String],
    ) -> Result<(String, String), Error> {
        let (actions, guards) = self.resolve::<E>()?;
        let mut sets: Vec<String> = Vec::new();
        let mut removes: Vec<String> = Vec::new();
        let mut adds: Vec<String> = Vec::new();
        let mut deletes: Vec<String> = Vec::new();
        for (name, action) in actions {
            let n = expr.name(name);
            match action {
                Action::Set(v) => sets.push(format!("{n} = {}", expr.value(v))),
                Action::Remove => removes.push(n),
                Action::Add(v) => adds.push(format!("{n} {}", expr.value(v))),
                Action::Delete(v) => deletes.push(format!("{n} {}", expr.value(v))),
                Action::Append(v) => {
                    let v = expr.value(v);
                    let empty = expr.value(AttributeValue::L(Vec::new()));
                    sets.push(format!(
                        "{n} = list_append(if_not_exists({n}, {empty}), {v})"
                    ));
                }
            }
        }
        if let Some(u) = E::UPDATED_AT {
            let n = expr.name(u);
            let v = expr.value(E::TIMESTAMPS_STORED_AS.to_av(&self.now));
            sets.push(format!("{n} = {v}"));
        }
        if let Some(ver) = E::VERSION {
            let n = expr.name(ver);
            let one = expr.value(AttributeValue::N("1".into()));
            adds.push(format!("{n} {one}"));
        }
        let mut update = Vec::new();
        for (kw, parts) in [
            ("SET", sets),
            ("REMOVE", removes),
            ("ADD", adds),
            ("DELETE", deletes),
        ] {
            if !parts.is_empty() {
                update.push(format!("{kw} {}", parts.join(", ")));
            }
        }
        let mut cond = format!("attribute_exists({})", expr.name(E::DESIGN.partition_key));
        for (name, value) in guards {
            let n = expr.name(name);
            match value {
                Some(value) => {
                    let v = expr.value(value);
                    cond.push_str(&format!(" AND {n} = {v}"));
                }
                None => cond.push_str(&format!(" AND attribute_not_exists({n})")),
            }
        }
        if let (Some(ver), Some(v)) = (E::VERSION, self.expect_version) {
            cond.push_str(&format!(" AND {}", version_matches(expr, ver, v)));
        }
        for e in extra {
            cond.push_str(" AND ");
            cond.push_str(e);
        }
        Ok((update.join(" "), cond))
    }

    /// Whether applying this update twice would count twice: it adds to a number, appends
    /// to a list, or bumps the version without expecting one (an expected version makes a
    /// second application fail instead). Setting, removing and set changes do not.
    pub(crate) fn accumulates<E: Entity>(&self) -> bool {
        if self.expect_version.is_some() && E::VERSION.is_some() {
            return false;
        }
        E::VERSION.is_some()
            || self
                .actions
                .iter()
                .any(|(_, a)| matches!(a, Action::Append(_) | Action::Add(AttributeValue::N(_))))
    }

    /// The attributes guarded by this update, for telling which one failed.
    pub(crate) fn guarded(&self) -> impl Iterator<Item = (&'static str, Option<&AttributeValue>)> {
        self.guards.iter().map(|(n, v)| (*n, v.as_ref()))
    }
}

/// Applies an update that changes no unique value to an existing item, and returns the
/// item as stored afterwards. After a lost answer, an update that finds its own write
/// reports it done with the item as found.
pub(crate) async fn update_plain<E: Entity>(
    db: &Table,
    key: Item,
    spec: &UpdateSpec,
) -> Result<E, Error> {
    let mut expr = Expr::default();
    let (update, cond) = spec.expression::<E>(&mut expr)?;
    let accumulates = spec.accumulates::<E>();
    let mut call = Call::new();
    let request = UpdateRequest {
        key: key.clone(),
        update,
        condition: Some(cond),
        expr,
        accumulates,
    };
    // The same request again for a retry (the spec's time stamp is fixed); it was built
    // once, so it builds again.
    let rebuild = || {
        let mut expr = Expr::default();
        let (update, cond) = spec.expression::<E>(&mut expr).unwrap_or_default();
        UpdateRequest {
            key: key.clone(),
            update,
            condition: Some(cond),
            expr,
            accumulates,
        }
    };
    let desc = || describe_key(E::DESIGN, &key);
    match send_update(db, &mut call, request, rebuild).await {
        Ok(out) => match out.attributes {
            Some(item) => Ok(E::from_item_owned(item)?),
            None => Err(Error::NotFound {
                entity: E::ENTITY_TYPE,
                key: desc(),
            }),
        },
        Err(e) => {
            use ::aws_sdk_dynamodb::operation::update_item::UpdateItemError;
            let Some(UpdateItemError::ConditionalCheckFailedException(c)) = e.as_service_error()
            else {
                return Err(write_failed(
                    &mut call,
                    e,
                    E::ENTITY_TYPE,
                    desc,
                    "update",
                    !accumulates,
                ));
            };
            match call.verdict(c.item()) {
                Verdict::Own => Ok(E::from_item_owned(found(c.item()))?),
                Verdict::Unknown => {
                    Err(call.ambiguous(E::ENTITY_TYPE, desc(), "update", !accumulates, true))
                }
                Verdict::Refused => Err(conflict::<E>(
                    e,
                    &key,
                    spec.expected_version(),
                    spec.guarded(),
                    true,
                )),
            }
        }
    }
}
