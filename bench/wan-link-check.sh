#!/usr/bin/env bash
# The WAN link model's own check at the benchmarks' figures (bench/wan/link.ts; the suite runs the
# same checks at small figures in test/wan-link-model.test.ts): the RTT in the time to the first
# byte (new and warm connection), one stream at its connection cap, 4 and 16 streams sharing the
# link (share of the cap, Jain's fairness index), and a slow reader pausing the sender with the
# link's memory at its queue bound. Exits 1 if a check fails. Run by hand (bench/WAN-RESULTS.md):
#   bash bench/wan-link-check.sh
# Env: WAN_RTT (40 ms), WAN_CONN (16 MiB/s), WAN_LINK (64 MiB/s), WAN_QUEUE (2048 KiB), MIB per stream (16).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/wan/lib.sh
cli=$(bash bench/wan/build.sh)
echo "$(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version)"
status=0
for streams in 16 4; do
  timeout 300 node "$cli" check --rtt "$WAN_RTT" --conn-mibps "$WAN_CONN" --link-mibps "$WAN_LINK" --queue-kib "$WAN_QUEUE" \
    --streams "$streams" --mib "${MIB:-16}" || status=1
done
exit $status
