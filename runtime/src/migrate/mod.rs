//! Migrations: the file model ([`model`], always available) and, with feature `client`,
//! the runner that applies them.

pub mod model;

#[cfg(feature = "client")]
mod backfill;
#[cfg(feature = "client")]
mod code;
#[cfg(feature = "client")]
mod common;
#[cfg(feature = "client")]
mod guards;
#[cfg(feature = "client")]
mod inspect;
#[cfg(feature = "client")]
mod lease;
#[cfg(feature = "client")]
mod ledger;
#[cfg(feature = "client")]
mod poll;
#[cfg(feature = "client")]
mod runner;
#[cfg(feature = "client")]
mod segments;
#[cfg(feature = "client")]
mod settings;
#[cfg(feature = "client")]
mod tables;
#[cfg(feature = "client")]
mod wait;
#[cfg(feature = "client")]
mod work;

pub use model::{
    Backfill, BackfillEntity, Capacity, DerivedKey, IndexDef, KeyAttr, Migration, MigrationFile,
    ModelError, ProjectionDef, Step, StreamView, TableDef, UniqueDef, checksum,
};

#[cfg(feature = "client")]
pub use {
    backfill::render,
    code::{Change, CodeStep, ItemChange, StepError},
    common::{Counts, MigrateError, Options, PassProgress, Progress, Report},
    inspect::{Difference, Plan, inspect},
    runner::{plan, rerun, run},
    tables::create_table,
    wait::wait_active,
    work::MIGRATED_ATTRIBUTE,
};
