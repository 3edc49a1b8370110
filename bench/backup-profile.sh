#!/usr/bin/env bash
# Where the time of one `rcbs -config` backup goes (bench/BACKUP-RESULTS.md, "Profile"):
# seeds the same sandbox as bench/backup-vs-peers.sh, runs rcbs once under
# `node --cpu-prof`, prints the top self-time functions and packages, and the
# CPU seconds of the client and of the s3rver process during the run.
#   bash bench/backup-profile.sh [sizes, default 200x1,4x100] [numThreads, default 4]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-200x1,4x100}
THREADS=${2:-4}
. bench/peers/lib.sh
bench_start rcbs-bench-profile "$SIZES"
before=$(server_cpu)
RCBS_NUM_THREADS=$THREADS RCBS_TARGET_DIR=$WORK/out /usr/bin/time -f 'client: wall %e s, user %U s, sys %S s, peak RSS %M kB' \
  node --cpu-prof --cpu-prof-dir="$WORK/prof" dist/cli.js -config "$WORK/config.properties" > /dev/null 2> "$WORK/rcbs.stderr" || { cat "$WORK/rcbs.stderr"; exit 1; }
tail -1 "$WORK/rcbs.stderr"
echo "s3rver + GWS process: $(echo "$(server_cpu) - $before" | bc -l) CPU s during the run (profiling adds to the client's time)"
node bench/peers/cpuprofile-top.mjs "$WORK"/prof/*.cpuprofile 25
