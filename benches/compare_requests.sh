#!/usr/bin/env bash
# Client instructions per request of this checkout against another revision, measured in
# one run: BENCHMARKS.md section 4a.
#
#   benches/compare_requests.sh BASE_REV [ops...]    (ops default: create put update)
#
# Builds `request_cost` (release) at BASE_REV in a temporary worktree, with this
# checkout's request_cost.rs so both run the same program, and at this checkout; then
# counts each request's instructions as (N = 101) - (N = 1), over 100 requests, so the
# first write's one-time setup cancels out. The raw-SDK rows are the same code in both
# binaries: how far they move is the noise of the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
base_rev=${1:?usage: compare_requests.sh BASE_REV [ops...]}
shift
ops=${*:-create put update}
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add -q --detach "$work/base" "$base_rev"
cp benches/src/bin/request_cost.rs "$work/base/benches/src/bin/request_cost.rs"
(cd "$work/base" && CARGO_TARGET_DIR="$target" cargo build -q --release -p dyngen-bench --bin request_cost)
cp "$target/release/request_cost" "$work/rc_base"
CARGO_TARGET_DIR="$target" cargo build -q --release -p dyngen-bench --bin request_cost
cp "$target/release/request_cost" "$work/rc_new"

instructions() {
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null \
    | sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}
echo "## client instructions per request, $base_rev vs this checkout (load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "| request | variant | $base_rev | this | this / $base_rev |"
echo "|---|---|---|---|---|"
for op in $ops; do
  for v in generated raw; do
    per=()
    for bin in "$work/rc_base" "$work/rc_new"; do
      one=$(instructions "$bin" "$v" "$op" 1)
      more=$(instructions "$bin" "$v" "$op" 101)
      per+=("$(( (more - one) / 100 ))")
    done
    echo "| $op | $v | ${per[0]} | ${per[1]} | $(awk "BEGIN{printf \"%.4f\", ${per[1]}/${per[0]}}") |"
  done
done
