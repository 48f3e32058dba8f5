//! Where IR items are declared, kept beside the IR (which has no spans) for diagnostics
//! raised after lowering: the naming pass, the lints, breaking-change reports.

use crate::diag::Span;

/// Locations of IR items, for diagnostics raised after lowering (the lints).
#[derive(Debug, Default)]
pub struct Spans {
    pub entity: Vec<Span>,
    /// Per entity, per key: (pk template span, sk template span).
    pub keys: Vec<Vec<(Span, Option<Span>)>>,
    pub pattern: Vec<Span>,
    pub pattern_sort: Vec<Span>,
    /// Per entity, per attribute: where it is declared (the entity for managed ones).
    pub attrs: Vec<Vec<Span>>,
    /// Per index: its name in the table.
    pub indexes: Vec<Span>,
    /// The table's partition and sort key names.
    pub table_keys: (Span, Span),
    /// Per relationship: its name.
    pub relationships: Vec<Span>,
}
