#!/usr/bin/env bash
# CSV export of N recordings (issue 14): `rcbs run calls-csv` against the jq line people
# write today, `rcbs run … --ndjson | jq -r '… | @csv'`, on the same data, from GWS and from
# a backup folder. For each size: starts `rcbs sandbox --no-media`, fills a backup folder
# from it once with `rcbs run metadata-export` (not measured), then alternates ROUNDS times:
#   rcbs-gws      rcbs run calls-csv --set from=gws-recordings        (one CSV row per media file)
#   jq-gws        rcbs run export --ndjson | jq -r -f bench/calls.jq   (the same columns)
#   rcbs-backup   rcbs run calls-csv                                   (backup-dir source, no GWS)
#   jq-backup     rcbs run bench/pipelines/backup-ndjson.json | jq -r -f bench/calls.jq
# each under /usr/bin/time -v (for a `|` line: the wall time of the whole line and the peak
# RSS of its largest process). Prints one row per run (wall, peak RSS, CPU, CSV rows), the
# medians and rcbs's time ratio to the jq line. The rows are counted to check both sides
# exported the same data (the `export` pipeline's validate quarantines the sandbox's
# deliberately broken recordings, so jq-gws has a few rows fewer).
# Usage: bench/csv-export.sh [workdir] [sizes…]   e.g. bench/csv-export.sh /tmp/cx 5000 50000
# Env: ROUNDS (default 3); FROM="gws backup" (default both) to measure one side only.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
command -v jq >/dev/null || apt-get install -y jq >/dev/null
work="${1:-$(mktemp -d)}"
shift || true
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(5000 50000); fi
rounds="${ROUNDS:-3}"
read -r -a froms <<< "${FROM:-gws backup}"
mkdir -p "$work"
. bench/private-build.sh
. bench/sandbox.sh
private_build "$work/rcbs"
rcbs="node $RCBS_SNAPSHOT_CLI"
jqprog="$PWD/bench/calls.jq"
backup_ndjson="$PWD/bench/pipelines/backup-ndjson.json"

sandbox_pid=
cleanup() { [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"/out-* "$work"/*.runs; }
trap cleanup EXIT

measure() { # label csv-file command-line
  local label=$1 csv=$2 line=$3
  sync
  /usr/bin/time -f '%e %M %U %S' -o "$work/$label.time" bash -c "$line" 2> "$work/$label.err" || { echo "$label failed:" >&2; tail -20 "$work/$label.err" >&2; exit 1; }
  local wall rss user sys rows
  read -r wall rss user sys < "$work/$label.time"
  rss=$((rss / 1024))
  rows=$(wc -l < "$csv")
  [[ $label == rcbs-* ]] && rows=$((rows - 1)) # the header
  printf '| %s | %s s | %s MB | %s + %s | %s |\n' "$label" "$wall" "$rss" "$user" "$sys" "$rows"
  echo "$wall $rss" >> "$work/${label%-r*}.runs"
  rm -f "$csv"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
summary() { # size
  local n=$1 tool from
  for tool in "${froms[@]/#/rcbs-}" "${froms[@]/#/jq-}"; do
    printf '| %s-%s median | %s s | max %s MB |\n' "$tool" "$n" "$(cut -d' ' -f1 "$work/$tool-$n.runs" | median)" "$(cut -d' ' -f2 "$work/$tool-$n.runs" | sort -n | tail -1)"
  done
  for from in "${froms[@]}"; do
    awk -v r="$(cut -d' ' -f1 "$work/rcbs-$from-$n.runs" | median)" -v j="$(cut -d' ' -f1 "$work/jq-$from-$n.runs" | median)" \
      'BEGIN {printf "| rcbs-'"$from-$n"' / jq-'"$from-$n"' (medians) | %.2fx |\n", r / j}'
  done
}

echo "| run | wall | peak RSS | user + sys CPU s | CSV rows |"
echo "|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  sdir="$work/sandbox-$n"
  rm -rf "$sdir" "$work/backup-$n"
  # shellcheck disable=SC2086 # $rcbs is "node <cli.js>"
  start_sandbox "$sdir" $rcbs sandbox --recordings "$n" --no-media
  sandbox_pid=$SANDBOX_PID
  cfg="$sdir/config.properties"
  $rcbs run metadata-export --config "$cfg" --set "targetDir=$work/backup-$n" 2> "$work/backup-$n.err" || { tail "$work/backup-$n.err" >&2; exit 1; }
  # The backup exports need no GWS: the same config, but the window keys unset (whole backup).
  rm -f "$work"/*-"$n".runs
  for r in $(seq 1 "$rounds"); do
    o="$work/out-$n-r$r"; mkdir -p "$o"
    if [[ " ${froms[*]} " == *" gws "* ]]; then
      measure "rcbs-gws-$n-r$r" "$o/rcbs-gws.csv" "$rcbs run calls-csv --config $cfg --set from=gws-recordings --set targetDir=$work/backup-$n --set out=$o/rcbs-gws.csv"
      measure "jq-gws-$n-r$r" "$o/jq-gws.csv" "$rcbs run export --config $cfg --ndjson | jq -r -f $jqprog > $o/jq-gws.csv"
    fi
    if [[ " ${froms[*]} " == *" backup "* ]]; then
      measure "rcbs-backup-$n-r$r" "$o/rcbs-backup.csv" "$rcbs run calls-csv --set targetDir=$work/backup-$n --set out=$o/rcbs-backup.csv"
      measure "jq-backup-$n-r$r" "$o/jq-backup.csv" "$rcbs run $backup_ndjson --set targetDir=$work/backup-$n | jq -r -f $jqprog > $o/jq-backup.csv"
    fi
  done
  summary "$n"
  kill "$sandbox_pid"; wait "$sandbox_pid" 2>/dev/null || true; sandbox_pid=
  rm -rf "$work/backup-$n"
done
