#!/usr/bin/env bash
# Builds rcbs as it was at a git ref into a folder, for before/after benchmarks in one run
# (tool rcbs-ref-tN of bench/peers/lib.sh):
#   RCBS_REF_DIR=$(bash bench/build-ref.sh 5367a5e) bash bench/backup-vs-peers.sh 3 200x1,4x100 "rcbs-t4 rcbs-ref-t4"
# The ref's sources are compiled with this tree's TypeScript; node_modules is this tree's
# (a superset of what earlier refs need), linked, not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:?usage: build-ref.sh <git ref> [dir]}
dir=${2:-$(mktemp -d /tmp/rcbs-ref-XXXXXX)}
mkdir -p "$dir"
git archive "$ref" src pipelines schemas package.json tsconfig.json tsconfig.build.json | tar -x -C "$dir"
ln -sfn "$PWD/node_modules" "$dir/node_modules"
(cd "$dir" && node "$OLDPWD/node_modules/typescript/bin/tsc" -p tsconfig.build.json) >&2
# A ref from when validators were compiled at build time (npm run build) gets them too.
if [ -f "$dir/dist/tools/compile-validators.js" ]; then (cd "$dir" && node dist/tools/compile-validators.js) >&2; fi
echo "$dir"
