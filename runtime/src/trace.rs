//! Tracing (feature `tracing`): one `dyngen` span per repository operation, batch,
//! transaction and access-pattern call, with the table, the entity or pattern, the index,
//! the pages and items a query read, and the capacity DynamoDB reports it consumed
//! (requested with `ReturnConsumedCapacity::TOTAL` only when the feature is on). Key
//! values are never recorded. Without the feature, all of this compiles to nothing.
//!
//! Requests made while an operation's future runs add to its totals: the future keeps
//! them in a thread-local while it is polled, as `tracing` enters a span, so concurrent
//! operations on one thread never mix.

use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};

/// What an operation is, for its span.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) struct OpInfo<'a> {
    /// `get`, `create`, `query`, `batch_write`, ...
    pub op: &'static str,
    pub table: &'a str,
    /// The entity, or `""` for operations over several.
    pub entity: &'static str,
    /// The access pattern of a query.
    pub pattern: Option<&'static str>,
    /// The index a query reads.
    pub index: Option<&'static str>,
}

impl<'a> OpInfo<'a> {
    /// An operation on the items of `entity` (`""`: several entities).
    pub(crate) fn new(op: &'static str, table: &'a str, entity: &'static str) -> Self {
        OpInfo {
            op,
            table,
            entity,
            pattern: None,
            index: None,
        }
    }
}

#[cfg(feature = "tracing")]
mod on {
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll};

    use super::OpInfo;

    /// The running totals of one operation.
    #[derive(Default)]
    pub(crate) struct Totals {
        capacity: f64,
        pages: u64,
        items: u64,
    }

    struct Current {
        span: tracing::Span,
        totals: Arc<Mutex<Totals>>,
        /// The operation this one runs inside, if any: its totals include this one's.
        parent: Mutex<Option<Arc<Current>>>,
    }

    thread_local! {
        static CURRENT: RefCell<Option<Arc<Current>>> = const { RefCell::new(None) };
    }

    /// An operation's future, in its span, with its totals current while it is polled.
    pub(crate) struct Traced<F> {
        inner: Pin<Box<F>>,
        current: Arc<Current>,
    }

    impl<F: Future> Future for Traced<F> {
        type Output = F::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            let current = self.current.clone();
            let _entered = current.span.enter();
            let outer = CURRENT.with(|c| c.replace(Some(current.clone())));
            if let (Some(o), Ok(mut parent)) = (&outer, current.parent.lock()) {
                *parent = Some(o.clone());
            }
            let out = self.inner.as_mut().poll(cx);
            CURRENT.with(|c| *c.borrow_mut() = outer);
            out
        }
    }

    pub(crate) fn traced<F: Future>(info: OpInfo<'_>, f: F) -> Traced<F> {
        let span = tracing::info_span!(
            "dyngen",
            op = info.op,
            table = info.table,
            entity = info.entity,
            pattern = info.pattern,
            index = info.index,
            pages = tracing::field::Empty,
            items = tracing::field::Empty,
            capacity = tracing::field::Empty,
        );
        Traced {
            inner: Box::pin(f),
            current: Arc::new(Current {
                span,
                totals: Arc::default(),
                parent: Mutex::new(None),
            }),
        }
    }

    /// Applies `change` to the current operation's totals and those of the operations it
    /// runs inside, and records them on their spans.
    pub(crate) fn update(change: impl Fn(&mut Totals)) {
        let mut node = CURRENT.with(|c| c.borrow().clone());
        while let Some(current) = node {
            if let Ok(mut t) = current.totals.lock() {
                change(&mut t);
                current.span.record("capacity", t.capacity);
                if t.pages > 0 {
                    current.span.record("pages", t.pages);
                    current.span.record("items", t.items);
                }
            }
            node = current.parent.lock().ok().and_then(|p| p.clone());
        }
    }

    impl Totals {
        pub(crate) fn add_capacity(&mut self, units: f64) {
            self.capacity += units;
        }
        pub(crate) fn add_page(&mut self, items: usize) {
            self.pages += 1;
            self.items += items as u64;
        }
    }
}

/// Runs an operation's future in its span (feature `tracing`); the future itself otherwise.
#[cfg(feature = "tracing")]
pub(crate) fn traced<F: std::future::Future>(info: OpInfo<'_>, f: F) -> on::Traced<F> {
    on::traced(info, f)
}

/// Runs an operation's future in its span (feature `tracing`); the future itself otherwise.
#[cfg(not(feature = "tracing"))]
pub(crate) fn traced<F: std::future::Future>(_info: OpInfo<'_>, f: F) -> F {
    f
}

/// What requests ask DynamoDB to report: the total consumed capacity when tracing.
pub(crate) fn capacity_mode() -> Option<ReturnConsumedCapacity> {
    cfg!(feature = "tracing").then_some(ReturnConsumedCapacity::Total)
}

/// Adds a response's consumed capacity to the current operation.
pub(crate) fn consumed<'c>(reported: impl IntoIterator<Item = &'c ConsumedCapacity>) {
    #[cfg(feature = "tracing")]
    {
        let units: f64 = reported
            .into_iter()
            .filter_map(|c| c.capacity_units())
            .sum();
        on::update(|t| t.add_capacity(units));
    }
    #[cfg(not(feature = "tracing"))]
    let _ = reported;
}

/// Counts a page of `items` read by the current query.
pub(crate) fn page(items: usize) {
    #[cfg(feature = "tracing")]
    on::update(|t| t.add_page(items));
    #[cfg(not(feature = "tracing"))]
    let _ = items;
}
