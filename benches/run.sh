#!/usr/bin/env bash
# Reproduces every figure of BENCHMARKS.md and prints its tables.
#
#   benches/run.sh            all suites
#   benches/run.sh generate   one of: generate conversion requests compile
#
# Primary figures are instruction counts (valgrind cachegrind, --cache-sim=no), which do
# not move with the load of these shared machines; process CPU and wall time come from
# /usr/bin/time, medians of three runs. The load average is printed with each suite.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
only=${1:-all}

instructions() { # command... -> instruction count of that process (children excluded)
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null \
    | sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}
median3() { printf '%s\n' "$@" | sort -g | sed -n '2p'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

build_release() {
  cargo build -q --release --bin dyngen
  cargo build -q --release -p dyngen-bench --bin synthetic --bin request_cost
}

suite_generate() {
  echo "## generate as a process (release; load $(load))"
  echo "| entities | CPU s (user+sys) | wall s | peak RSS MB | instructions |"
  echo "|---|---|---|---|---|"
  for n in 100 1000; do
    target/release/synthetic "$n" > "$work/s$n.yaml"
    local cpu=() wall=() rss=()
    for i in 1 2 3; do
      rm -rf "$work/out$n"
      /usr/bin/time -f '%U %S %e %M' -o "$work/t" target/release/dyngen generate \
        --schema "$work/s$n.yaml" --out "$work/out$n" 2>/dev/null
      read -r u s e m < "$work/t"
      cpu+=("$(awk "BEGIN{print $u+$s}")"); wall+=("$e"); rss+=("$(awk "BEGIN{printf \"%.0f\", $m/1024}")")
    done
    rm -rf "$work/out$n"
    local ins
    ins=$(instructions target/release/dyngen generate --schema "$work/s$n.yaml" --out "$work/out$n")
    echo "| $n | $(median3 "${cpu[@]}") | $(median3 "${wall[@]}") | $(median3 "${rss[@]}") | $ins |"
  done
}

suite_conversion() {
  echo "## conversion round trip, instructions per round trip (load $(load))"
  local exe
  exe=$(cargo bench -p dyngen-bench --bench conversion --no-run 2>&1 | sed -n 's/.*(\(target\/.*conversion-[^)]*\)).*/\1/p' | tail -1)
  echo "| variant | instructions |"
  echo "|---|---|"
  local base
  base=$(DYNGEN_BENCH_VARIANT=generated DYNGEN_BENCH_ITERS=0 instructions "$exe")
  for v in generated hand-written hand-escaping serde_dynamo; do
    local ins
    ins=$(DYNGEN_BENCH_VARIANT=$v DYNGEN_BENCH_ITERS=2000 instructions "$exe")
    echo "| $v | $(( (ins - base) / 2000 )) |"
  done
}

suite_requests() {
  echo "## client instructions per request, 100 requests minus none (load $(load))"
  echo "| request | generated | raw SDK | generated / raw |"
  echo "|---|---|---|---|"
  for op in ${DYNGEN_BENCH_REQUESTS:-get create put update query}; do
    local per=()
    for v in generated raw; do
      local zero hundred
      zero=$(instructions target/release/request_cost "$v" "$op" 0)
      hundred=$(instructions target/release/request_cost "$v" "$op" 100)
      per+=("$(( (hundred - zero) / 100 ))")
    done
    echo "| $op | ${per[0]} | ${per[1]} | $(awk "BEGIN{printf \"%.4f\", ${per[0]}/${per[1]}}") |"
  done
}

suite_compile() {
  echo "## compile cost of a 100-entity module (load $(load))"
  "$here/compile_cost.sh" 100
}

build_release
case "$only" in
  all) suite_generate; echo; suite_conversion; echo; suite_requests; echo; suite_compile ;;
  generate) suite_generate ;;
  conversion) suite_conversion ;;
  requests) suite_requests ;;
  compile) suite_compile ;;
  *) echo "unknown suite: $only" >&2; exit 2 ;;
esac
