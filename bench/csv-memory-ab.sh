#!/usr/bin/env bash
# Peak memory of the calls-csv export at several sizes, from GWS and from a backup folder,
# alternating builds in one run (issue 14: "peak RSS flat from 5k to 50k"). For each size:
# starts `rcbs sandbox --no-media`, fills a backup folder from it once with `rcbs run
# metadata-export` (not measured), then ROUNDS times, for each build in turn:
#   gws     node <build>/dist/cli.js run calls-csv --set from=gws-recordings
#   backup  node <build>/dist/cli.js run calls-csv            (the backup-dir source)
# each under /usr/bin/time and bench/memory-parts.cjs. One row per run: wall, peak RSS,
# user CPU, V8's largest old space and young generation, and oldIn (what reached the old
# generation). Builds: this tree's dist/ ("this") and any folder with a dist/ (bench/build-ref.sh).
# Usage: bench/csv-memory-ab.sh <workdir> "<build dirs…>" [sizes…]
#   e.g. bench/csv-memory-ab.sh /tmp/cm ". /tmp/rcbs-ref-8249eec" 5000 50000
# Env: ROUNDS (default 3); FROM="gws backup" (default both).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
. bench/ab-lib.sh
ab_args csv-memory-ab.sh "5000 50000" "$@"
read -r -a froms <<< "${FROM:-gws backup}"
. bench/sandbox.sh
parts="$PWD/bench/memory-parts.cjs"
trap stop_sandbox EXIT

echo "| build | from | size | wall | peak RSS | user CPU | old space | young gen | oldIn |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  start_sandbox "$work/sb-$n" node dist/cli.js sandbox --recordings "$n" --no-media
  config="$work/sb-$n/config.properties"
  backup="$work/backup-$n"
  [ -d "$backup" ] || node dist/cli.js run metadata-export --config "$config" --set "targetDir=$backup" 2> "$work/fill-$n.err"
  for r in $(seq "$rounds"); do
    for b in "${builds[@]}"; do
      for from in "${froms[@]}"; do
        if [ "$from" = gws ]; then target="$work/empty"; rm -rf "$target"; set -- --set from=gws-recordings --set "targetDir=$target"; else set -- --set "targetDir=$backup"; fi
        sync
        /usr/bin/time -f '%e %M %U' -o "$work/time" node -r "$parts" "$b/dist/cli.js" run calls-csv --config "$config" "$@" --set "out=$work/out.csv" 2> "$work/err" || { tail -20 "$work/err" >&2; exit 1; }
        read -r wall rss user < "$work/time"
        line=$(grep '^memory-parts' "$work/err")
        field() { grep -oE "(^| )$1=[0-9.]+" <<< "$line" | cut -d= -f2; }
        name=$(build_name "$b")
        printf '| %s | %s | %s | %s s | %s MB | %s s | %s MB | %s MB | %s MB |\n' "$name" "$from" "$n" "$wall" "$((rss / 1024))" "$user" "$(field old_space)" "$(field new_space)" "$(field oldIn)"
        rm -f "$work/out.csv"
      done
    done
  done
  stop_sandbox
done
