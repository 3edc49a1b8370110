#!/usr/bin/env bash
# Backup throughput and peak memory: `rcbs -config` (the whole backup pipeline: GWS metadata,
# S3 media, JSON beside it, fsync, index) against `rclone copy --transfers 16` and
# `aws s3 cp --recursive` copying the same objects from the same local S3 server.
# Run by hand, not in the suite (bench/BACKUP-RESULTS.md):
#   bash bench/backup-vs-peers.sh [rounds, default 5] [sizes, default 200x1,4x100] [tools]
# sizes: plaintext MiB per object, "count x MiB" groups; each object is one recording's
# one media file (CMS-encrypted, so a few hundred bytes larger). tools default:
# "rcbs-t4 rcbs-t16 sdk-floor rclone awscli" (rcbs-tN = numThreads=N; 4 is the guide's default;
# sdk-floor = bench/peers/sdk-floor.mjs, bare SDK GetObject to files: the floor of any SDK-based tool;
# sdk-undici = the same with the SDK over undici, bench/peers/undici-handler.mjs; not in the default list).
# The order rotates every round; the table gives medians, the max peak RSS, the client's
# and the server's CPU seconds. Every output file is checked against the object's MD5.
# Needs: node, a build (done here), rclone, awscli, bc and /usr/bin/time (installed with apt-get if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
SIZES=${2:-200x1,4x100}
read -r -a TOOLS <<< "${3:-rcbs-t4 rcbs-t16 sdk-floor rclone awscli}"
. bench/peers/lib.sh
bench_start rcbs-bench-peers "$SIZES"
run_rounds "$WORK" "$ROUNDS" "${TOOLS[@]}"
echo
echo "$(date -u +%Y-%m-%d) $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') RAM, node $(node --version), $(rclone version | head -1), $($AWS --version | cut -d' ' -f1)"
echo "$(wc -l < "$WORK/sizes.txt") objects, $TOTAL_BYTES bytes ($SIZES MiB plaintext), $ROUNDS rounds"
report "$WORK" "${TOOLS[@]}"
