#!/usr/bin/env bash
# Compile cost of generated code, as a user pays it: a crate holding the generated module
# for a synthetic schema of N entities (default 100), against the same crate with an empty
# module. Dependencies (dyngen-runtime, the AWS SDK) are built once and kept; each
# measured build is a clean build of the crate itself (`cargo clean -p`), three times per
# variant. CPU (user + sys of cargo and rustc) and wall, medians; `cargo build` (debug)
# and `cargo check`.
set -euo pipefail
n=${1:-100}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$root/target/compile-cost"

"$root/target/release/synthetic" "$n" > "$work/schema.yaml"
"$root/target/release/dyngen" generate --schema "$work/schema.yaml" --out "$work/generated" 2> /dev/null

mkdir -p "$work/app/src"
cat > "$work/app/Cargo.toml" <<TOML
[package]
name = "compile-cost"
version = "0.0.0"
edition = "2024"
[dependencies]
dyngen-runtime = { path = "$root/runtime" }
[workspace]
TOML
cp "$root/Cargo.lock" "$work/app/Cargo.lock"
manifest="$work/app/Cargo.toml"

empty() { echo "// empty $1" > "$work/app/src/lib.rs"; }
module() {
  printf '#[rustfmt::skip]\n#[path = "%s"]\npub mod db;\n// %s\n' "$work/generated/rust/dyngen.rs" "$1" > "$work/app/src/lib.rs"
}
# One clean build of the crate: prints "cpu wall".
measure() {
  cargo clean -q -p compile-cost --manifest-path "$manifest"
  /usr/bin/time -f '%U %S %e' -o "$work/t" cargo "$1" -q --offline --manifest-path "$manifest"
  awk '{ printf "%.2f %.2f\n", $1 + $2, $3 }' "$work/t"
}
median() { printf '%s\n' "$@" | sort -g | sed -n '2p'; }

empty 0
cargo build -q --offline --manifest-path "$manifest"   # the dependencies, once
cargo check -q --offline --manifest-path "$manifest"
echo "compile cost of the generated module for $n entities ($((n * 3)) access patterns), medians of 3 clean builds of the crate:"
for cmd in build check; do
  bc=(); bw=(); wc=(); ww=()
  for i in 1 2 3; do
    empty "$i"; read -r c w < <(measure "$cmd"); bc+=("$c"); bw+=("$w")
    module "$i"; read -r c w < <(measure "$cmd"); wc+=("$c"); ww+=("$w")
  done
  b=$(median "${bc[@]}"); w=$(median "${wc[@]}")
  bwall=$(median "${bw[@]}"); wwall=$(median "${ww[@]}")
  echo "  cargo $cmd: empty crate ${b}s CPU (${bwall}s wall), with the module ${w}s CPU (${wwall}s wall); extra $(awk "BEGIN { printf \"%.1f\", $w - $b }")s CPU, $(awk "BEGIN { printf \"%.1f\", $wwall - $bwall }")s wall"
done
echo "  lines of the module: $(wc -l < "$work/generated/rust/dyngen.rs")"
