//! Item conversion: entity → item → entity for an entity of eight fields with key
//! templates, three ways, measured interleaved in the same run and reported as ratios.

use std::hint::black_box;
use std::time::Instant;

use dyngen_bench::baselines::{self, Order as Hand};
use dyngen_bench::generated::Order;
use dyngen_bench::median;

const ROUNDS: usize = 21;

type Variant<'a> = (&'static str, Box<dyn FnMut() + 'a>);
const ITERS: usize = 20_000;

fn sample() -> (Order, Hand) {
    let g = Order {
        customer: "c-000042".into(),
        id: "o-2024-000123".into(),
        status: "shipped".into(),
        note: Some("leave at the door".into()),
        paid: true,
        total: 129_990,
        items: vec!["sku-1".into(), "sku-22".into(), "sku-333".into()],
        channel: "web".into(),
    };
    let h = Hand {
        customer: g.customer.clone(),
        id: g.id.clone(),
        status: g.status.clone(),
        note: g.note.clone(),
        paid: g.paid,
        total: g.total,
        items: g.items.clone(),
        channel: g.channel.clone(),
    };
    (g, h)
}

/// Nanoseconds per call of `f`, over `ITERS` calls.
fn time(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..ITERS {
        f();
    }
    start.elapsed().as_nanos() as f64 / ITERS as f64
}

fn main() {
    let (g, h) = sample();
    // The three produce the same item.
    let (gi, hi, si) = (
        g.to_item(),
        baselines::to_item(&h),
        baselines::serde_to_item(&h),
    );
    assert_eq!(gi, hi, "generated and hand-written items differ");
    assert_eq!(gi, si, "generated and serde_dynamo items differ");
    assert_eq!(Order::from_item(&gi).unwrap(), g);
    assert_eq!(Order::from_item_owned(gi.clone()).unwrap(), g);
    assert_eq!(baselines::from_item_owned(hi.clone()).unwrap(), h);
    assert_eq!(baselines::from_item(&hi).unwrap(), h);

    let mut variants: Vec<Variant> = vec![
        (
            "generated",
            Box::new(|| {
                let back = Order::from_item_owned(black_box(&g).to_item()).unwrap();
                black_box(back);
            }),
        ),
        (
            "hand-written",
            Box::new(|| {
                let back = baselines::from_item_owned(baselines::to_item(black_box(&h))).unwrap();
                black_box(back);
            }),
        ),
        (
            "hand-escaping",
            Box::new(|| {
                let back =
                    baselines::from_item_owned(baselines::to_item_escaping(black_box(&h))).unwrap();
                black_box(back);
            }),
        ),
        (
            "serde_dynamo",
            Box::new(|| {
                let back = baselines::serde_from_item(baselines::serde_to_item(black_box(&h)));
                black_box(back);
            }),
        ),
    ];
    // Instruction-count mode, for callgrind: run one variant a fixed number of times.
    if let Ok(only) = std::env::var("DYNGEN_BENCH_VARIANT") {
        let iters: usize = std::env::var("DYNGEN_BENCH_ITERS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1000);
        let f = &mut variants
            .iter_mut()
            .find(|(n, _)| *n == only)
            .expect("a known variant")
            .1;
        for _ in 0..iters {
            f();
        }
        return;
    }
    for (_, f) in variants.iter_mut() {
        time(f);
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..ROUNDS {
        // Rotate the order so no variant always runs first (caches, frequency scaling).
        for k in 0..variants.len() {
            let i = (round + k) % variants.len();
            samples[i].push(time(&mut variants[i].1));
        }
    }
    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    println!("conversion round trip (median of {ROUNDS} rounds x {ITERS} iterations):");
    for ((name, _), m) in variants.iter().zip(&medians) {
        println!("  {name:<13} {m:>8.1} ns");
    }
    println!(
        "  generated / hand-written  = {:.3} (target <= 1.05)",
        medians[0] / medians[1]
    );
    println!(
        "  generated / hand-escaping = {:.3} (the baseline also escaping `#` in key values)",
        medians[0] / medians[2]
    );
    println!(
        "  serde_dynamo / generated = {:.2} (target >= 3)",
        medians[3] / medians[0]
    );
}
