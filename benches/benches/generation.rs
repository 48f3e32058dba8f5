//! Generation speed: `dyngen generate`'s pipeline on synthetic schemas of 10, 100 and 1,000
//! entities (3 access patterns and 2 GSIs each), in process, median of several runs; and
//! a second run over unchanged output, which must write nothing.

use std::time::Instant;

use dyngen::builder_support::generate_files;
use dyngen::diag::Source;
use dyngen_bench::{median, synthetic};

fn main() {
    let sizes = [10usize, 100, 1000];
    let mut per_entity = Vec::new();
    println!("generation (median of 5 runs):");
    for n in sizes {
        let source = Source::new("schema.yaml", synthetic::schema(n));
        let mut samples = Vec::new();
        let mut lines = 0;
        for _ in 0..5 {
            let start = Instant::now();
            let (files, _) = generate_files(&source, &[], false).unwrap_or_else(|e| panic!("{e}"));
            samples.push(start.elapsed().as_secs_f64());
            lines = files
                .files
                .values()
                .map(|f| f.lines().count())
                .sum::<usize>();
        }
        let m = median(samples);
        per_entity.push(m / n as f64);
        println!(
            "  {n:>5} entities: {:>8.1} ms  ({lines} lines of output)",
            m * 1000.0
        );
    }
    println!(
        "  growth: {:.2}x per entity from 100 to 1,000 entities (1.00 = linear)",
        per_entity[2] / per_entity[1]
    );

    // A rebuild with an unchanged schema: the second write finds every file unchanged.
    let dir = std::env::temp_dir().join(format!("dyngen-bench-gen-{}", std::process::id()));
    let source = Source::new("schema.yaml", synthetic::schema(100));
    let (files, _) = generate_files(&source, &[], false).unwrap();
    dyngen::output::write(&files, &dir).unwrap();
    let second = dyngen::output::write(&files, &dir).unwrap();
    println!(
        "  unchanged schema, second write: {} written, {} unchanged",
        second.written.len(),
        second.unchanged.len()
    );
    assert!(second.written.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
