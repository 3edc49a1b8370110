#!/usr/bin/env bash
# Peak RSS of the s3-download sink fetching one 1 GiB object from a local
# @20minutes/s3rver (bench/DOWNLOAD-RESULTS.md). Target: under 150 MB.
# Usage: [ROUNDS=3 VARIANTS="off default" WAN=1 SIZE_MIB=256] bench/download-1gib.sh [workdir]   (needs ~3 GiB free; apt-get install -y time)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# Compiled first: running through a TypeScript loader would add ~240 MB of compiler to the figure.
# The output sits under node_modules/.cache so the compiled files still resolve node_modules.
out=node_modules/.cache/rcbs-bench
npx tsc -p tsconfig.json --noEmit false --outDir "$out" >/dev/null || true
test -f "$out/bench/download-1gib.js" || { echo "tsc produced no $out/bench/download-1gib.js" >&2; exit 1; }
ts=(node "$out/bench/download-1gib.js")

"${ts[@]}" serve "$work" > "$work/serve.out" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
until grep -q '^READY' "$work/serve.out" 2>/dev/null; do
  kill -0 "$server" || { echo "s3rver failed to start" >&2; exit 1; }
  sleep 1
done
port=$(awk '/^READY/ {print $2}' "$work/serve.out")
# WAN=1: through the WAN link model (bench/wan/lib.sh: RTT 40 ms, 16 MiB/s per connection, 64 MiB/s link).
if [ "${WAN:-}" = 1 ]; then
  . bench/wan/lib.sh
  start_wan_link "$work" "$port"
  trap 'kill "$server" $LINK_PID 2>/dev/null || true' EXIT
  port=$(wan_port "$port")
  wan_capacity "$work/capacity.runs"
fi

# ROUNDS (default 1) x VARIANTS (default "default"), alternating: "off" = s3PartThreshold 0 (one
# GET), "default" = the packaged s3PartSize/s3PartThreshold (unset: parts only from a far store, so
# on the loopback one GET, through WAN=1 parts), a number = that s3PartSize in bytes with
# s3PartThreshold 64 MiB set (parts whatever the store).
for round in $(seq "${ROUNDS:-1}"); do
  for variant in ${VARIANTS:-default}; do
    rm -rf "$work/backup"
    case "$variant" in
      off) vars=(PART_THRESHOLD=0) ;;
      default) vars=() ;;
      *) vars=(PART_SIZE="$variant" PART_THRESHOLD=67108864) ;;
    esac
    env "${vars[@]}" /usr/bin/time -v "${ts[@]}" download "$port" "$work/backup" 2> "$work/time.txt"
    echo "round $round, parts $variant: $(grep -E 'Maximum resident set size|Elapsed \(wall clock\)|User time|System time' "$work/time.txt" | sed 's/^\s*//' | tr '\n' ';')"
    cmp "$work/object.bin" "$work/backup/Bench/2024/03/05/10/bench-1gib.bin" && echo "byte-identical: yes"
  done
done
