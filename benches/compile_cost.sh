#!/usr/bin/env bash
# Compile cost of generated code: the extra `cargo build` (debug) time of a crate holding
# the generated module for a synthetic schema of N entities (default 100), beyond the same
# crate with an empty module. The AWS SDK is built once first and shared, so only the
# generated code is measured. Prints lines per entity and per access pattern too.
set -euo pipefail
n=${1:-100}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$root/target/compile-cost"

cargo run -q --manifest-path "$root/Cargo.toml" -p dyngen-bench --bin synthetic -- "$n" > "$work/schema.yaml"
cargo run -q --manifest-path "$root/Cargo.toml" -- generate --schema "$work/schema.yaml" --out "$work/generated" 2> /dev/null

mkdir -p "$work/app/src"
cat > "$work/app/Cargo.toml" <<TOML
[package]
name = "compile-cost"
version = "0.0.0"
edition = "2024"
[dependencies]
aws-sdk-dynamodb = { version = "1", default-features = false, features = ["behavior-version-latest", "default-https-client", "rt-tokio"] }
[workspace]
TOML
cp "$root/Cargo.lock" "$work/app/Cargo.lock"

build() {
  local start end
  touch "$work/app/src/lib.rs"
  start=$(date +%s.%N)
  cargo build -q --offline --manifest-path "$work/app/Cargo.toml"
  end=$(date +%s.%N)
  awk "BEGIN { printf \"%.2f\", $end - $start }"
}

echo "// empty" > "$work/app/src/lib.rs"
cargo build -q --offline --manifest-path "$work/app/Cargo.toml"   # the SDK, once
base=()
with=()
for i in 1 2 3; do
  echo "// empty $i" > "$work/app/src/lib.rs"
  base+=("$(build)")
  printf '#[rustfmt::skip]\n#[path = "%s"]\npub mod db;\n// %s\n' "$work/generated/rust/dyngen.rs" "$i" > "$work/app/src/lib.rs"
  with+=("$(build)")
done
median() { printf '%s\n' "$@" | sort -n | sed -n '2p'; }
b=$(median "${base[@]}")
w=$(median "${with[@]}")
lines=$(wc -l < "$work/generated/rust/dyngen.rs")
echo "compile cost of the generated module for $n entities ($((n * 3)) access patterns):"
echo "  empty crate: ${b}s, with the module: ${w}s, extra: $(awk "BEGIN { printf \"%.1f\", $w - $b }")s (target <= 20 s)"
# Lines per entity and per pattern: the same schema without patterns, and with no entities' worth.
cargo run -q --manifest-path "$root/Cargo.toml" -p dyngen-bench --bin synthetic -- "$n" no-patterns > "$work/bare.yaml"
cargo run -q --manifest-path "$root/Cargo.toml" -- generate --schema "$work/bare.yaml" --out "$work/bare" 2> /dev/null
cargo run -q --manifest-path "$root/Cargo.toml" -p dyngen-bench --bin synthetic -- 1 no-patterns > "$work/one.yaml"
cargo run -q --manifest-path "$root/Cargo.toml" -- generate --schema "$work/one.yaml" --out "$work/one" 2> /dev/null
bare=$(wc -l < "$work/bare/rust/dyngen.rs")
one=$(wc -l < "$work/one/rust/dyngen.rs")
echo "  lines: $lines in all; shared (support, runner, constants): about $one; per entity: $(( (bare - one) / (n - 1) )); per access pattern: $(( (lines - bare) / (n * 3) ))"
