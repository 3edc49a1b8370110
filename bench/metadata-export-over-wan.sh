#!/usr/bin/env bash
# Metadata export over a modelled WAN with a slow GWS (issue 15): `rcbs sandbox --no-media
# --page-latency 150` (each page of recordings answered after 150 ms) behind the WAN link model
# (bench/wan/link.ts, RTT 40 ms), then `rcbs run metadata-export` with `--set gwsConcurrency=N` for
# each N ("default": no --set, the build's own default), alternating ROUNDS times, each run into a fresh folder; medians and the ratio to the first N.
# gwsConcurrency comes from another branch: where the build does not know the key, the run fails
# and the table says so (with the first line of the error).
# Run by hand, not in the suite (bench/WAN-RESULTS.md):
#   bash bench/metadata-export-over-wan.sh [recordings, 20000] [concurrencies, "1 4"]
# Env: ROUNDS (3), PAGE_LATENCY (150 ms), PAGE (gwsPageSize, 100), RUN_TIMEOUT (seconds, 1800),
# SHARD_BY (shardBy, e.g. PT4H: the sandbox spans 47 hours, so the default one-day slices are only
# 2-3 and cap what concurrent slices can gain; default: the build's own),
# WAN_RTT (40 ms), WAN_CONN, WAN_LINK, WAN_QUEUE (bench/wan/lib.sh),
# RCBS_REF: a git ref whose rcbs to measure (default: this working tree); the sandbox is always this tree's.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
N=${1:-20000}
read -r -a CONCURRENCY <<< "${2:-1 4}"
ROUNDS=${ROUNDS:-3}
PAGE_LATENCY=${PAGE_LATENCY:-150}
PAGE=${PAGE:-100}
WORK=$(mktemp -d /tmp/rcbs-bench-wan-mx.XXXXXX)
BENCH_PIDS=
trap 'for p in $BENCH_PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
. bench/peers/lib.sh # median
. bench/wan/lib.sh
. bench/sandbox.sh

# Private builds (dist/ may be rebuilt by hand meanwhile), keeping the package layout rcbs resolves.
build() { # <dir> <source tree>
  mkdir -p "$1"
  npx tsc -p "$2/tsconfig.build.json" --outDir "$1/dist" >/dev/null
  cp -r pipelines schemas package.json "$1/"
  ln -s "$PWD/node_modules" "$1/node_modules"
}
build "$WORK/sandbox-build" .
if [ -n "${RCBS_REF:-}" ]; then
  mkdir -p "$WORK/tree"
  git archive "$RCBS_REF" src pipelines schemas package.json tsconfig.json tsconfig.build.json | tar -x -C "$WORK/tree"
  ln -s "$PWD/node_modules" "$WORK/tree/node_modules"
  build "$WORK/rcbs-build" "$WORK/tree"
  rm -rf "$WORK/rcbs-build/pipelines" "$WORK/rcbs-build/schemas"; cp -r "$WORK/tree/pipelines" "$WORK/tree/schemas" "$WORK/rcbs-build/"
  echo "rcbs from $RCBS_REF ($(git rev-parse --short "$RCBS_REF"))" >&2
else
  ln -s "$WORK/sandbox-build" "$WORK/rcbs-build"
fi

sdir=$WORK/sandbox
start_sandbox "$sdir" node "$WORK/sandbox-build/dist/cli.js" sandbox --recordings "$N" --no-media --page-latency "$PAGE_LATENCY"
BENCH_PIDS="$BENCH_PIDS $SANDBOX_PID"
gws_port=$(sed -n 's|^gwsUriPrefix = http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$sdir/config.properties")
start_wan_link "$WORK" "$gws_port"
sed -i "s|^gwsUriPrefix = http://127.0.0.1:$gws_port/|gwsUriPrefix = http://127.0.0.1:$(wan_port "$gws_port")/|" "$sdir/config.properties"
grep '^gwsUriPrefix' "$sdir/config.properties" >&2

: > "$WORK/capacity.runs"
for c in "${CONCURRENCY[@]}"; do : > "$WORK/c$c.runs"; done
for round in $(seq 1 "$ROUNDS"); do
  wan_round "$round" "$ROUNDS" 'gwsConcurrency ' "${CONCURRENCY[@]}"
  for c in "${ORDER[@]}"; do
    out=$WORK/out-c$c-r$round
    sync
    status=0
    concurrency=()
    [ "$c" = default ] || concurrency=(--set "gwsConcurrency=$c")
    [ -z "${SHARD_BY:-}" ] || concurrency+=(--set "shardBy=$SHARD_BY")
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/time.txt" timeout -k 10 "${RUN_TIMEOUT:-1800}" node "$WORK/rcbs-build/dist/cli.js" run metadata-export \
      --config "$sdir/config.properties" --set "targetDir=$out" --set "gwsPageSize=$PAGE" "${concurrency[@]}" \
      > "$WORK/c$c.out" 2> "$WORK/c$c.err" || status=$?
    files=$( (find "$out" -name '*.json' -not -path '*/.rcbs/*' 2>/dev/null || true) | wc -l)
    echo "$(tail -1 "$WORK/time.txt") $status $files" >> "$WORK/c$c.runs"
    echo "  gwsConcurrency $c: $(tail -1 "$WORK/c$c.runs" | awk '{printf "%.2f s, %d MB, %.1f s CPU, exit %s, %s files", $1, $2 / 1024, $3 + $4, $5, $6}')" >&2
    [ "$status" = 0 ] || head -3 "$WORK/c$c.err" | cut -c1-300 | sed 's/^/    /' >&2
  done
done

first=${CONCURRENCY[0]}
base=$(awk '{print $1}' "$WORK/c$first.runs" | median)
echo
echo "$(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version); rcbs ${RCBS_REF:-working tree}"
echo "$N recordings, page size $PAGE, shardBy ${SHARD_BY:-default}, GWS answers each page after $PAGE_LATENCY ms; model RTT $WAN_RTT ms, $WAN_CONN MiB/s per connection, $WAN_LINK MiB/s link;" \
  "measured capacity (16 streams) per round: $(awk '{print $1}' "$WORK/capacity.runs" | tr '\n' ' ')MiB/s, first byte median $(awk '{print $3}' "$WORK/capacity.runs" | tr '\n' ' ')ms"
echo
printf '| gwsConcurrency | median wall s | vs %s | peak RSS MB (max) | exit codes | JSON files | runs (wall s) |\n|---|---|---|---|---|---|---|\n' "$first"
for c in "${CONCURRENCY[@]}"; do
  wall=$(awk '{print $1}' "$WORK/c$c.runs" | median)
  ratio=$(printf '%.2fx' "$(echo "$base / $wall" | bc -l)")
  awk '$5 != 0 {bad = 1} END {exit !bad}' "$WORK/c$c.runs" "$WORK/c$first.runs" && ratio='- (a run failed)'
  printf '| %s | %.2f | %s | %d | %s | %s | %s |\n' "$c" "$wall" "$ratio" \
    "$(( $(awk '{print $2}' "$WORK/c$c.runs" | sort -n | tail -1) / 1024 ))" "$(awk '{print $5}' "$WORK/c$c.runs" | tr '\n' ' ')" \
    "$(awk '{print $6}' "$WORK/c$c.runs" | tr '\n' ' ')" "$(awk '{print $1}' "$WORK/c$c.runs" | tr '\n' ' ')"
done
