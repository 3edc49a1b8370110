#!/usr/bin/env bash
# metadata-export at 5k and 50k sandbox recordings against a plain-loop baseline
# (issue 6: "at most 2x the plain-write baseline; memory flat from 5k to 50k").
# For each size: starts `rcbs sandbox --no-media` (metadata only: no media objects
# are encrypted or uploaded) in its own process, then runs under /usr/bin/time -v:
#   rcbs run metadata-export           (the real CLI, fresh targetDir)
#   bench/metadata-export-baseline.mjs plain   (fetch pages + writeFile)
#   bench/metadata-export-baseline.mjs atomic  (fetch pages + temp/fsync/rename)
# The three alternate, ROUNDS times per size, each run into a fresh folder; folders are
# removed only at the end: / is ext4 mounted with `discard` here, and removing a large tree
# slows the fsyncs of whatever runs next (BENCHMARKS.md).
# Prints one table row per run (wall time, peak RSS, user+sys CPU, files written), then the
# medians per size and rcbs's ratio to each baseline.
# Usage: bench/metadata-export.sh [workdir] [sizes…]   e.g. bench/metadata-export.sh /tmp/mx 5000 50000
# Env: PAGE (gwsPageSize, default 100), ROUNDS (default 3), PROFILE=1 adds a --cpu-prof run at the largest size.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
work="${1:-$(mktemp -d)}"
shift || true
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(5000 50000); fi
page="${PAGE:-100}"
rounds="${ROUNDS:-3}"
mkdir -p "$work"
. bench/private-build.sh
. bench/sandbox.sh
private_build "$work/rcbs"
rcbs=(node "$RCBS_SNAPSHOT_CLI")

sandbox_pid=
outputs() { rm -rf "$work"/rcbs-*-r* "$work"/plain-*-r* "$work"/atomic-*-r* "$work"/*.runs; }
cleanup() { [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true; outputs; }
trap cleanup EXIT
# Outputs of an earlier invocation go now, and the disk gets time to absorb the TRIMs.
outputs; sync; sleep 5

measure() { # label files-dir -- command…   (also appends "seconds rss_mb" to $work/<label without -rN>.runs)
  local label=$1 dir=$2; shift 3
  # What the run before left to write back (plain does not fsync) is not this run's cost.
  sync
  /usr/bin/time -f '%e %M %U %S' -o "$work/$label.time" "$@" > "$work/$label.out" 2> "$work/$label.err" || { echo "$label failed:" >&2; tail -20 "$work/$label.err" >&2; exit 1; }
  local wall rss user sys files
  read -r wall rss user sys < "$work/$label.time"
  rss=$((rss / 1024))
  files=$(find "$dir" -name '*.json' -not -path '*/.rcbs/*' | wc -l)
  printf '| %s | %s s | %s MB | %s + %s | %s |\n' "$label" "$wall" "$rss" "$user" "$sys" "$files"
  echo "$wall $rss" >> "$work/${label%-r*}.runs"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
summary() { # size
  local n=$1 tool
  for tool in rcbs plain atomic; do
    printf '| %s-%s median | %s s | max %s MB |\n' "$tool" "$n" "$(cut -d' ' -f1 "$work/$tool-$n.runs" | median)" "$(cut -d' ' -f2 "$work/$tool-$n.runs" | sort -n | tail -1)"
  done
  awk -v r="$(cut -d' ' -f1 "$work/rcbs-$n.runs" | median)" -v p="$(cut -d' ' -f1 "$work/plain-$n.runs" | median)" -v a="$(cut -d' ' -f1 "$work/atomic-$n.runs" | median)" \
    'BEGIN {printf "| rcbs-%s / plain, / atomic (medians) | %.2fx | %.2fx |\n", "'"$n"'", r / p, r / a}'
}

echo "| run | wall | peak RSS | user + sys CPU s | JSON files |"
echo "|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  sdir="$work/sandbox-$n"
  rm -rf "$sdir"
  start_sandbox "$sdir" "${rcbs[@]}" sandbox --recordings "$n" --no-media
  sandbox_pid=$SANDBOX_PID
  prefix=$(awk '/^gwsUriPrefix/ {print $3}' "$sdir/config.properties")
  maxage=$(awk '/^maxAge/ {print $3}' "$sdir/config.properties")
  now=$(node -e 'console.log(Date.now())')
  from=$((now - maxage * 86400000))

  rm -f "$work/rcbs-$n.runs" "$work/plain-$n.runs" "$work/atomic-$n.runs"
  for r in $(seq 1 "$rounds"); do
    measure "rcbs-$n-r$r" "$work/rcbs-$n-r$r" -- "${rcbs[@]}" run metadata-export --config "$sdir/config.properties" \
      --set "targetDir=$work/rcbs-$n-r$r" --set "gwsPageSize=$page"
    measure "plain-$n-r$r" "$work/plain-$n-r$r" -- node bench/metadata-export-baseline.mjs "$prefix" "$work/plain-$n-r$r" "$page" plain "$from" "$now"
    measure "atomic-$n-r$r" "$work/atomic-$n-r$r" -- node bench/metadata-export-baseline.mjs "$prefix" "$work/atomic-$n-r$r" "$page" atomic "$from" "$now"
  done
  summary "$n"
  if [ "${PROFILE:-0}" = 1 ] && [ "$n" = "${sizes[-1]}" ]; then
    rm -rf "$work/prof" "$work/rcbs-prof-$n"
    node --cpu-prof --cpu-prof-dir="$work/prof" "$RCBS_SNAPSHOT_CLI" run metadata-export --config "$sdir/config.properties" \
      --set "targetDir=$work/rcbs-prof-$n" --set "gwsPageSize=$page" 2> "$work/prof-run.err" >/dev/null
    echo "cpu profile: $(ls "$work"/prof/*.cpuprofile)"
  fi
  kill "$sandbox_pid"; wait "$sandbox_pid" 2>/dev/null || true; sandbox_pid=
done
