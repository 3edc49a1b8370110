#!/usr/bin/env bash
# metadata-export at 5k and 50k sandbox recordings against a plain-loop baseline
# (issue 6: "at most 2x the plain-write baseline; memory flat from 5k to 50k").
# For each size: starts `rcbs sandbox --no-media` (metadata only: no media objects
# are encrypted or uploaded) in its own process, then runs under /usr/bin/time -v:
#   rcbs run metadata-export           (the real CLI, fresh targetDir)
#   bench/metadata-export-baseline.mjs plain   (fetch pages + writeFile)
#   bench/metadata-export-baseline.mjs atomic  (fetch pages + temp/fsync/rename)
# Prints one table row per run: wall time, peak RSS, files written.
# Usage: bench/metadata-export.sh [workdir] [sizes…]   e.g. bench/metadata-export.sh /tmp/mx 5000 50000
# Env: PAGE (gwsPageSize, default 100), PROFILE=1 adds a --cpu-prof run at the largest size.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
work="${1:-$(mktemp -d)}"
shift || true
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(5000 50000); fi
page="${PAGE:-100}"
mkdir -p "$work"
# A private build: dist/ is shared with engineers rebuilding it mid-run. The snapshot
# keeps the package layout (dist, pipelines, schemas, node_modules) that rcbs resolves.
snap="$work/rcbs"
rm -rf "$snap"; mkdir -p "$snap"
npx tsc -p tsconfig.build.json --outDir "$snap/dist" >/dev/null
cp -r pipelines schemas package.json "$snap/"
ln -s "$PWD/node_modules" "$snap/node_modules"
rcbs=(node "$snap/dist/cli.js")

sandbox_pid=
cleanup() { [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true; }
trap cleanup EXIT

measure() { # label files-dir -- command…
  local label=$1 dir=$2; shift 3
  /usr/bin/time -v "$@" > "$work/$label.out" 2> "$work/$label.time" || { echo "$label failed:" >&2; tail -20 "$work/$label.time" >&2; exit 1; }
  local wall rss files
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/$label.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/$label.time")
  files=$(find "$dir" -name '*.json' -not -path '*/.rcbs/*' | wc -l)
  printf '| %s | %s | %s MB | %s |\n' "$label" "$wall" "$rss" "$files"
}

echo "| run | wall (m:ss) | peak RSS | JSON files |"
echo "|---|---|---|---|"
for n in "${sizes[@]}"; do
  sdir="$work/sandbox-$n"
  rm -rf "$sdir" "$work/rcbs-$n" "$work/plain-$n" "$work/atomic-$n"
  mkdir -p "$sdir"
  "${rcbs[@]}" sandbox --recordings "$n" --no-media --dir "$sdir" > "$sdir/out.txt" 2> "$sdir/err.txt" &
  sandbox_pid=$!
  until grep -q 'rcbs sandbox ready' "$sdir/out.txt" 2>/dev/null; do
    kill -0 "$sandbox_pid" 2>/dev/null || { echo "sandbox failed:" >&2; cat "$sdir/err.txt" >&2; exit 1; }
    sleep 0.5
  done
  eval "$(grep '^export ' "$sdir/out.txt")"
  prefix=$(awk '/^gwsUriPrefix/ {print $3}' "$sdir/config.properties")
  maxage=$(awk '/^maxAge/ {print $3}' "$sdir/config.properties")
  now=$(node -e 'console.log(Date.now())')
  from=$((now - maxage * 86400000))

  measure "rcbs-$n" "$work/rcbs-$n" -- "${rcbs[@]}" run metadata-export --config "$sdir/config.properties" \
    --set "targetDir=$work/rcbs-$n" --set "gwsPageSize=$page"
  measure "plain-$n" "$work/plain-$n" -- node bench/metadata-export-baseline.mjs "$prefix" "$work/plain-$n" "$page" plain "$from" "$now"
  measure "atomic-$n" "$work/atomic-$n" -- node bench/metadata-export-baseline.mjs "$prefix" "$work/atomic-$n" "$page" atomic "$from" "$now"
  if [ "${PROFILE:-0}" = 1 ] && [ "$n" = "${sizes[-1]}" ]; then
    rm -rf "$work/prof" "$work/rcbs-prof-$n"
    node --cpu-prof --cpu-prof-dir="$work/prof" "$snap/dist/cli.js" run metadata-export --config "$sdir/config.properties" \
      --set "targetDir=$work/rcbs-prof-$n" --set "gwsPageSize=$page" 2> "$work/prof-run.err" >/dev/null
    echo "cpu profile: $(ls "$work"/prof/*.cpuprofile)"
  fi
  kill "$sandbox_pid"; wait "$sandbox_pid" 2>/dev/null || true; sandbox_pid=
done
