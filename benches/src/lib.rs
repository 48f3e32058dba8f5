//! dyngen's benchmark suite. The benches live in `benches/`; this crate holds what they
//! share: the synthetic-schema generator, the generated code for the bench schema, and the
//! hand-written and serde_dynamo baselines.

pub mod synthetic;

/// Generated for `bench.yaml` by build.rs.
#[rustfmt::skip]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/dyngen/rust/dyngen.rs"));
}

pub mod baselines;

/// Median of samples.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
