#!/usr/bin/env bash
# kill -9 soak (issue 5): N backups killed at random points, each followed by a
# consistency check, then a rerun that must complete byte-exactly (bench/soak.ts).
# Usage: bench/soak.sh [iterations=20] [recordings=60] [workdir]
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
npm run build >/dev/null
out=node_modules/.cache/rcbs-bench
npx tsc -p tsconfig.json --noEmit false --outDir "$out" >/dev/null || true
test -f "$out/bench/soak.js" || { echo "tsc produced no $out/bench/soak.js" >&2; exit 1; }
exec node "$out/bench/soak.js" "$@"
