#!/usr/bin/env bash
# metadata-export from a sandbox GWS, builds alternating in one run (issue 14 run 10: what the
# export heap policy would cost a run that writes the backup's metadata). For each size: starts
# `rcbs sandbox --no-media`, then ROUNDS times, for each build in turn,
#   node <build>/dist/cli.js run metadata-export --set targetDir=<fresh folder>
# under /usr/bin/time. One row per run: wall, peak RSS, user and sys CPU, JSON files written.
# The folders are removed only at the end: / is ext4 mounted with `discard` here, and removing
# a large tree slows the fsyncs of whatever runs next (BENCHMARKS.md). The disk's own speed
# moves sys time by seconds between runs: compare user CPU first.
# Builds: this tree's dist/ (".") and any folder with a dist/ (bench/build-ref.sh).
# Usage: bench/metadata-export-ab.sh <workdir> "<build dirs…>" [sizes…]
#   e.g. bench/metadata-export-ab.sh /tmp/mxab ". /tmp/rcbs-ref-9358" 50000
# Env: ROUNDS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
. bench/ab-lib.sh
ab_args metadata-export-ab.sh "50000" "$@"
. bench/sandbox.sh
trap stop_sandbox EXIT

echo "| build | size | wall | peak RSS | user CPU | sys CPU | JSON files |"
echo "|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  start_sandbox "$work/sb-$n" node dist/cli.js sandbox --recordings "$n" --no-media
  for r in $(seq "$rounds"); do
    for b in "${builds[@]}"; do
      name=$(build_name "$b")
      target="$work/out-$name-$n-$r"
      sync
      /usr/bin/time -f '%e %M %U %S' -o "$work/time" node "$b/dist/cli.js" run metadata-export --config "$work/sb-$n/config.properties" --set "targetDir=$target" > /dev/null 2> "$work/err" || { tail -20 "$work/err" >&2; exit 1; }
      read -r wall rss user sys < "$work/time"
      printf '| %s | %s | %s s | %s MB | %s s | %s s | %s |\n' "$name" "$n" "$wall" "$((rss / 1024))" "$user" "$sys" "$(find "$target" -name '*.json' | wc -l)"
    done
  done
  stop_sandbox
done
rm -rf "$work"/out-*
