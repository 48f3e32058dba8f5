//! The write model's invariants over random operation sequences, on DynamoDB Local, against
//! an in-memory model of the same operations.
//!
//! A seeded generator draws operations over a small key space (so they collide): creates,
//! puts with current and stale versions, updates of key-feeding attributes with right and
//! wrong key inputs, transactions, batches, deletes, links and TTL changes. Each operation's
//! outcome must be the one the model predicts (a stale version never succeeds), and every
//! stored entity must equal the model's, `createdAt` never changing, `updatedAt` moving
//! on every write and `version` rising by one. Every `CHECK_EVERY` operations the whole
//! table is scanned: each item's key attributes must be what its templates give (absent
//! exactly outside a sparse index), the items must be the model's, and every access pattern
//! must return what the model predicts. A failing sequence is shrunk (replayed on fresh
//! tables without chunks of it) and printed.
//!
//! `DYNGEN_INVARIANT_OPS` (default 10000) and `DYNGEN_INVARIANT_SEED` change the run.

mod common;
#[path = "support/invariants.rs"]
mod invariants;
#[path = "support/model.rs"]
mod model;

use model::{Op, World};

const CHECK_EVERY: usize = 50;
const DEFAULT_OPS: usize = 10_000;
const DEFAULT_SEED: u64 = 0x5eed_d1a6;
/// Replays allowed while shrinking a failure (each on a fresh table).
const SHRINK_BUDGET: usize = 150;

/// Runs `ops` on a fresh table; the index of the failing operation and why, if one fails.
async fn run(ops: &[Op], check_every: usize) -> Result<(), (usize, String)> {
    let mut world = World::new(common::client(), common::table("invariants")).await;
    for (i, op) in ops.iter().enumerate() {
        world.apply(op).await.map_err(|e| (i, e))?;
        if (i + 1) % check_every == 0 || i + 1 == ops.len() {
            world.check_all().await.map_err(|e| (i, e))?;
        }
    }
    Ok(())
}

/// The shortest failing sequence found by removing chunks, halving the chunk size down to
/// single operations; each candidate is checked after every operation.
async fn shrink(mut ops: Vec<Op>) -> (Vec<Op>, String) {
    let mut why = match run(&ops, 1).await {
        Err((i, e)) => {
            ops.truncate(i + 1);
            e
        }
        Ok(()) => return (ops, "the failure did not reproduce on replay".into()),
    };
    let mut budget = SHRINK_BUDGET;
    let mut chunk = ops.len() / 2;
    while chunk >= 1 && budget > 0 {
        let mut start = 0;
        while start < ops.len() && budget > 0 {
            let mut candidate = ops.clone();
            candidate.drain(start..(start + chunk).min(ops.len()));
            budget -= 1;
            match run(&candidate, 1).await {
                Err((i, e)) => {
                    candidate.truncate(i + 1);
                    ops = candidate;
                    why = e;
                }
                Ok(()) => start += chunk,
            }
        }
        chunk /= 2;
    }
    (ops, why)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_operation_sequences_keep_every_invariant() {
    let count = common::env_or("DYNGEN_INVARIANT_OPS", DEFAULT_OPS);
    let seed = common::env_or("DYNGEN_INVARIANT_SEED", DEFAULT_SEED);
    let ops = model::generate(seed, count);
    assert_eq!(ops.len(), count);
    if let Err((i, first)) = run(&ops, CHECK_EVERY).await {
        let (minimal, why) = shrink(ops[..=i].to_vec()).await;
        let listing: Vec<String> = minimal
            .iter()
            .enumerate()
            .map(|(n, op)| format!("  {n:>4}: {op:?}"))
            .collect();
        panic!(
            "seed {seed:#x}: operation {i} broke an invariant: {first}\n\
             shrunk to {} operations, failing with: {why}\n{}",
            minimal.len(),
            listing.join("\n")
        );
    }
}

/// The checker itself must catch a broken item: a key attribute written by hand with a
/// stale value is reported (so a passing run means something).
#[tokio::test]
async fn the_checker_catches_a_stale_index_key() {
    let mut world = World::new(common::client(), common::table("checker")).await;
    let ops = model::generate(7, 30);
    for op in &ops {
        world.apply(op).await.unwrap();
    }
    world.check_all().await.unwrap();
    assert!(
        world.corrupt_one_index_key().await,
        "the sequence wrote an indexed item"
    );
    let err = world.check_all().await.unwrap_err();
    assert!(err.contains("templates give"), "{err}");
}
