#!/usr/bin/env bash
# Start-up marks of rcbs builds side by side, through the WAN link model (issue 15): when a
# backup's GWS settings request goes out, when the first pages come back, when the first S3 GET
# starts (bench/startup-marks.cjs), the builds alternating run after run on the same sandbox
# and link. Medians per build (bench/startup-marks-summary.mjs). Run by hand:
#   bash bench/startup-ab.sh [runs per build, 6] [build dir…]
# A build dir holds dist/cli.js (this tree, ".", or one from bench/build-ref.sh <ref> <dir>);
# default: this tree. Env: RCBS_NUM_THREADS (16), SIZES (200x1,4x100), WAN_* as for
# bench/backup-over-wan.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-6}
shift || true
BUILDS=("$@")
[ ${#BUILDS[@]} -gt 0 ] || BUILDS=(.)
. bench/peers/lib.sh
. bench/wan/lib.sh
bench_start rcbs-bench-startup "${SIZES:-200x1,4x100}"
link_bench_sandbox

# A build's label: "this-tree" for ., else its folder's name (bench/build-ref.sh folders have no git).
labels=()
for build in "${BUILDS[@]}"; do
  if [ "$build" = . ]; then labels+=(this-tree); else labels+=("$(basename "$(cd "$build" && pwd)")"); fi
done

marks="$WORK/marks.txt"
: > "$marks"
for run in $(seq 1 "$RUNS"); do
  for i in "${!BUILDS[@]}"; do
    build=${BUILDS[$i]}
    label=${labels[$i]}
    out="$WORK/out"
    rm -rf "$out"
    mkdir -p "$out"
    sync
    RCBS_NUM_THREADS=${RCBS_NUM_THREADS:-16} RCBS_TARGET_DIR=$out node -r ./bench/startup-marks.cjs "$build/dist/cli.js" -config "$WORK/config.properties" 2>&1 \
      | grep 'startup-marks {' | sed "s|^|$label |" | tee -a "$marks" >&2
  done
done
echo "$(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version); RTT ${WAN_RTT:-40} ms; numThreads ${RCBS_NUM_THREADS:-16}; medians (min-max), ms after the process started:"
node bench/startup-marks-summary.mjs "$marks"
