//! Code migrations: Rust steps the application registers with the runner under the name a
//! migration file's `code:` step gives. They run under the same lock and ledger as every
//! other step; an each-item step is a scan pass like a backfill, with the same segment
//! checkpoints (so a killed run resumes) and the same sharing between runners.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;

use crate::entity::Entity;
use crate::item::Item;
use crate::value::Timestamp;

/// The error a code step returns; the runner reports it with the step's name.
pub type StepError = Box<dyn std::error::Error + Send + Sync>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type ItemFn = dyn Fn(Item) -> BoxFuture<Result<ItemChange, StepError>> + Send + Sync;
type OnceFn = dyn Fn(Client, String) -> BoxFuture<Result<(), StepError>> + Send + Sync;

/// What an each-item step does with one raw item.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemChange {
    /// Leave it as it is.
    Keep,
    /// Replace it with this item (all attributes, keys included; a different key moves it).
    Put(Item),
    /// Delete it.
    Delete,
}

/// What a typed step does with one entity.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<E> {
    Keep,
    /// Store this value instead (its `updatedAt` and version are maintained as by `put`).
    Put(E),
    Delete,
}

/// A Rust migration step, registered with [`super::Options::code_step`].
#[derive(Clone)]
pub struct CodeStep {
    pub(super) kind: CodeKind,
}

impl std::fmt::Debug for CodeStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            CodeKind::EachItem(e) => write!(f, "CodeStep::each({})", e.entity_type),
            CodeKind::Once(_) => f.write_str("CodeStep::once"),
        }
    }
}

#[derive(Clone)]
pub(super) enum CodeKind {
    EachItem(EachItem),
    Once(Arc<OnceFn>),
}

/// A function over every item of one entity type.
#[derive(Clone)]
pub(super) struct EachItem {
    pub(super) type_attribute: String,
    pub(super) entity_type: String,
    /// Guards each write against a concurrent writer (the item is read again and the
    /// function runs again on the new value).
    pub(super) version_attribute: Option<String>,
    pub(super) f: Arc<ItemFn>,
}

impl CodeStep {
    /// A function over every stored `E`: it gets the decoded entity and says what to do
    /// with it. Each item is changed once, even when a killed run resumes or several
    /// runners share the pass; an item that does not decode stops the step with its key.
    pub fn each<E, F, Fut>(f: F) -> CodeStep
    where
        E: Entity + Send + 'static,
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Change<E>, StepError>> + Send + 'static,
    {
        let f = Arc::new(f);
        let each = move |item: Item| -> BoxFuture<Result<ItemChange, StepError>> {
            let f = Arc::clone(&f);
            Box::pin(async move {
                let value = E::from_item_owned(item)?;
                let version = value.version();
                Ok(match f(value).await? {
                    Change::Keep => ItemChange::Keep,
                    Change::Delete => ItemChange::Delete,
                    Change::Put(mut new) => {
                        new.stamp(Timestamp::now(), false, version.map(|v| v + 1));
                        ItemChange::Put(new.to_item())
                    }
                })
            })
        };
        CodeStep {
            kind: CodeKind::EachItem(EachItem {
                type_attribute: E::DESIGN.entity_type_attribute.to_string(),
                entity_type: E::ENTITY_TYPE.to_string(),
                version_attribute: E::VERSION.map(str::to_string),
                f: Arc::new(each),
            }),
        }
    }

    /// A function over every raw item whose `type_attribute` is `entity_type`, for items
    /// no generated type describes (an entity being retired, another writer's items).
    pub fn each_item<F, Fut>(type_attribute: &str, entity_type: &str, f: F) -> CodeStep
    where
        F: Fn(Item) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ItemChange, StepError>> + Send + 'static,
    {
        let f = Arc::new(f);
        let each = move |item: Item| -> BoxFuture<Result<ItemChange, StepError>> {
            let f = Arc::clone(&f);
            Box::pin(async move { f(item).await })
        };
        CodeStep {
            kind: CodeKind::EachItem(EachItem {
                type_attribute: type_attribute.to_string(),
                entity_type: entity_type.to_string(),
                version_attribute: None,
                f: Arc::new(each),
            }),
        }
    }

    /// For [`CodeStep::each_item`]: the number attribute that versions items, so a write
    /// made meanwhile by the application is never overwritten.
    pub fn version_attribute(mut self, name: &str) -> CodeStep {
        if let CodeKind::EachItem(e) = &mut self.kind {
            e.version_attribute = Some(name.to_string());
        }
        self
    }

    /// A one-off function with the client and the table name (seeding reference items,
    /// copying a table). It runs under the lock and is recorded when it returns `Ok`; a run
    /// killed inside it runs it again, so it must be safe to repeat.
    pub fn once<F, Fut>(f: F) -> CodeStep
    where
        F: Fn(Client, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), StepError>> + Send + 'static,
    {
        let f = Arc::new(f);
        let once = move |client: Client, table: String| -> BoxFuture<Result<(), StepError>> {
            let f = Arc::clone(&f);
            Box::pin(async move { f(client, table).await })
        };
        CodeStep {
            kind: CodeKind::Once(Arc::new(once)),
        }
    }
}
