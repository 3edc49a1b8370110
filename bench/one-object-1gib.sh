#!/usr/bin/env bash
# One 1 GiB encrypted object: throughput and peak RSS of `rcbs -config` (the whole backup
# pipeline for one recording whose one media file is that object) against
# `rclone copy --transfers 16` and `aws s3 cp --recursive`, same local S3 server (s3rver),
# order rotating every round, every output checked against the object's MD5.
# Run by hand (bench/BACKUP-RESULTS.md):  bash bench/one-object-1gib.sh [rounds, default 3] [MiB, default 1024]
# Needs ~4 GiB free in /tmp and ~3 GiB RAM for the server while it seeds; node, rclone,
# awscli, /usr/bin/time (the last three installed with apt-get if missing).
# bench/download-1gib.sh measures the s3-download sink alone (no CLI, no GWS) on the same size.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
MIB=${2:-1024}
. bench/peers/lib.sh
bench_start rcbs-bench-1gib "1x$MIB"
TOOLS=(rcbs-t4 rclone awscli)
run_rounds "$WORK" "$ROUNDS" "${TOOLS[@]}"
echo
echo "$(date -u +%Y-%m-%d) $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') RAM, node $(node --version), $(rclone version | head -1), $($AWS --version | cut -d' ' -f1)"
echo "1 object, $TOTAL_BYTES bytes (${MIB} MiB plaintext), $ROUNDS rounds"
report "$WORK" "${TOOLS[@]}"
