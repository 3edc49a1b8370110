#!/usr/bin/env bash
# Backup over a modelled WAN (issue 15): the sandbox S3 and GWS behind the WAN link model
# (bench/wan/link.ts: RTT, a rate cap per connection and one for the whole link, fair share),
# then rcbs (the whole backup pipeline, numThreads N), `rclone copy --transfers N` and
# `aws s3 cp --recursive` (max_concurrent_requests N) on the same objects, through the same link.
# Run by hand, not in the suite (bench/WAN-RESULTS.md, BENCHMARKS.md "Over a modelled WAN"):
#   bash bench/backup-over-wan.sh [sizes, default 200x1,4x100] [tools]
# tools default: "rcbs-t4 rclone-t4 awscli-t4 rcbs-t16 rclone-t16 awscli-t16".
# Env: ROUNDS (3), WAN_RTT (40 ms), WAN_CONN (16 MiB/s), WAN_LINK (64 MiB/s), WAN_QUEUE (2048 KiB),
# RUN_TIMEOUT (seconds per run, 900), WAN_TIMELINE (a file: the link logs its byte totals there
# and each run gets a line saying how long the link took to fill and how long it idled).
# Each round first measures the model's own capacity (16 streams of 8 MiB through the link to its
# probe), then runs every tool once, the order rotating; every output file is checked against the
# object's MD5 (bench/peers/lib.sh). The table gives medians, the share of the model's median
# capacity, ratios at the same concurrency, and the max peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SIZES=${1:-200x1,4x100}
read -r -a TOOLS <<< "${2:-rcbs-t4 rclone-t4 awscli-t4 rcbs-t16 rclone-t16 awscli-t16}"
. bench/peers/lib.sh
. bench/wan/lib.sh
bench_start rcbs-bench-wan "$SIZES"

# Everything goes through the link: rcbs's GWS and S3 calls, rclone's and awscli's S3 calls.
link_bench_sandbox

for tool in "${TOOLS[@]}"; do : > "$WORK/$tool.runs"; : > "$WORK/$tool.spans"; done
: > "$WORK/capacity.runs"
link_cpu0=$(wan_link_cpu)
for round in $(seq 1 "$ROUNDS"); do
  wan_round "$round" "$ROUNDS" '' "${TOOLS[@]}"
  for tool in "${ORDER[@]}"; do
    run_once "$tool" "$WORK"
    echo "  $tool: $(tail -1 "$WORK/$tool.runs" | awk '{printf "%.2f s, %d MB", $1, $2 / 1024}')" >&2
  done
done
link_cpu=$(echo "$(wan_link_cpu) - $link_cpu0" | bc -l)

mib=$(echo "$TOTAL_BYTES / 1048576" | bc -l)
capacity=$(col 1 "$WORK/capacity.runs" | median)
echo
echo "$(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version), $(rclone version | head -1), $($AWS --version | cut -d' ' -f1)"
echo "$(wc -l < "$WORK/sizes.txt") objects, $TOTAL_BYTES bytes ($SIZES MiB plaintext), $ROUNDS rounds"
echo "model: RTT $WAN_RTT ms, $WAN_CONN MiB/s per connection, $WAN_LINK MiB/s link, queue $WAN_QUEUE KiB;" \
  "measured capacity (16 streams) per round: $(col 1 "$WORK/capacity.runs" | tr '\n' ' ')MiB/s, median $capacity;" \
  "fairness $(col 2 "$WORK/capacity.runs" | tr '\n' ' '); link process CPU $(printf '%.1f' "$link_cpu") s in all"
echo
printf '| tool | median wall s | MiB/s | share of the model | vs rclone | vs awscli | peak RSS MB (max) | client CPU s | runs (wall s) |\n|---|---|---|---|---|---|---|---|---|\n'
for t in "${TOOLS[@]}"; do
  c=${t##*-t}
  wall=$(col 1 "$WORK/$t.runs" | median)
  vs() { [ -s "$WORK/$1-t$c.runs" ] && printf '%.2fx' "$(echo "$(col 1 "$WORK/$1-t$c.runs" | median) / $wall" | bc -l)" || printf -- '-'; }
  printf '| %s | %.2f | %.1f | %.2f | %s | %s | %d | %.2f | %s |\n' "$t" "$wall" "$(echo "$mib / $wall" | bc -l)" \
    "$(echo "$mib / $wall / $capacity" | bc -l)" "$(vs rclone)" "$(vs awscli)" \
    "$(( $(col 2 "$WORK/$t.runs" | sort -n | tail -1) / 1024 ))" \
    "$(echo "$(col 3 "$WORK/$t.runs" | median) + $(col 4 "$WORK/$t.runs" | median)" | bc -l)" "$(col 1 "$WORK/$t.runs" | tr '\n' ' ')"
done
if [ -n "${WAN_TIMELINE:-}" ]; then
  echo
  echo "Where each run's time went (the link's byte timeline, bench/wan/timeline.mjs, at the median capacity):"
  for t in "${TOOLS[@]}"; do
    while read -r s e; do echo "- $t: $(node bench/wan/timeline.mjs "$WAN_TIMELINE" "$s" "$e" "$capacity")"; done < "$WORK/$t.spans"
  done
fi
