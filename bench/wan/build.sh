#!/usr/bin/env bash
# Compiles the WAN link model (bench/wan/*.ts) to node_modules/.cache/rcbs-wan/ and prints the CLI's path.
# Sourced or run by the WAN bench scripts; node_modules/.cache keeps it out of dist/ and the package.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p bench/wan/tsconfig.json
echo "$PWD/node_modules/.cache/rcbs-wan/cli.js"
