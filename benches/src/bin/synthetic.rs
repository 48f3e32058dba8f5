//! Prints a synthetic schema: `cargo run -p dyngen-bench --bin synthetic -- 100`.

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let patterns = std::env::args().nth(2).as_deref() != Some("no-patterns");
    print!("{}", dyngen_bench::synthetic::with_patterns(n, patterns));
}
