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

/// The `i`-th order of a customer, as the request benchmarks write it.
pub fn order(customer: &str, i: usize) -> generated::Order {
    generated::Order {
        customer: customer.into(),
        id: format!("o{i:06}"),
        status: "new".into(),
        note: None,
        paid: i.is_multiple_of(2),
        total: i as i64 * 100,
        items: vec!["a".into(), "b".into()],
        channel: "web".into(),
    }
}

/// The same order as the hand-written baseline's struct.
pub fn hand(o: &generated::Order) -> baselines::Order {
    baselines::Order {
        customer: o.customer.clone(),
        id: o.id.clone(),
        status: o.status.clone(),
        note: o.note.clone(),
        paid: o.paid,
        total: o.total,
        items: o.items.clone(),
        channel: o.channel.clone(),
    }
}
