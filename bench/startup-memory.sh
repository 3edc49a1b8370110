#!/usr/bin/env bash
# Peak RSS and wall time of rcbs commands that move little data, i.e. what the process
# costs before any real work (BENCHMARKS.md, "Start-up memory"). Starts `rcbs sandbox`
# (200 recordings), backs it up once, then measures with /usr/bin/time, median of N runs:
#   --version; validate backup; run export --ndjson (GWS only); the backup again (nothing
#   left to do: GWS, validate, dedupe, no S3 transfer); a dry run.
# Usage: bash bench/startup-memory.sh [runs, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
npm run build >/dev/null
work=$(mktemp -d /tmp/rcbs-bench-startup.XXXXXX)
sandbox_pid=
trap '[ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
node dist/cli.js sandbox --recordings 200 --dir "$work/sb" > "$work/sb.out" 2> "$work/sb.err" &
sandbox_pid=$!
until grep -q 'rcbs sandbox ready' "$work/sb.out" 2>/dev/null; do
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sb.err" >&2; exit 1; }
  sleep 0.3
done
eval "$(grep '^export ' "$work/sb.out")"
config=$work/sb/config.properties
export RCBS_TARGET_DIR=$work/target
node dist/cli.js -config "$config" > /dev/null 2> "$work/first.err" || { tail "$work/first.err" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
measure() { # label -- args…
  local label=$1; shift 2
  : > "$work/m.txt"
  for _ in $(seq 1 "$RUNS"); do
    /usr/bin/time -f '%e %M' -o "$work/t.txt" node dist/cli.js "$@" > /dev/null 2> "$work/cmd.err" || { echo "$label failed:" >&2; tail -3 "$work/cmd.err" >&2; exit 1; }
    cat "$work/t.txt" >> "$work/m.txt"
  done
  printf '| %s | %.2f | %d |\n' "$label" "$(awk '{print $1}' "$work/m.txt" | median)" "$(( $(awk '{print $2}' "$work/m.txt" | median) / 1024 ))"
}
echo "$(date -u +%Y-%m-%dT%H:%MZ) node $(node --version), $RUNS runs, medians"
echo "| command | wall s | peak RSS MB |"
echo "|---|---|---|"
measure "--version" -- --version
measure "validate backup" -- validate backup --config "$config"
measure "run export --ndjson (GWS only)" -- run export --config "$config" --ndjson
measure "backup, nothing left to do" -- -config "$config"
measure "backup --dry-run" -- -config "$config" --dry-run
