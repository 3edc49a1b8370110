#!/usr/bin/env bash
# Peak RSS of `rcbs run passthrough --ndjson` on 10k vs 1M input lines: the engine's
# memory must not grow with the input (issue 2). Usage: bash bench/ndjson-memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
npm run build --silent
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
echo "| lines | input | wall s | peak RSS MB | lines out |"
echo "|---|---|---|---|---|"
for n in 10000 100000 1000000; do
  node -e '
    const n = Number(process.argv[1]); const out = require("fs").createWriteStream(process.argv[2]);
    let i = 0; (function w() { while (i < n) { const line = JSON.stringify({ id: "rec-" + i, callerPhoneNumber: "+1555" + (i % 10000), mediaFiles: [{ mediaId: "m-" + i, type: "audio/mp3", tenant: "t1", size: 12345 }] }) + "\n"; i++; if (!out.write(line)) return out.once("drain", w); } out.end(); })();
  ' "$n" "$work/in.ndjson"
  size=$(du -h "$work/in.ndjson" | cut -f1)
  /usr/bin/time -f "%e %M" -o "$work/time" node dist/cli.js run bench/pipelines/passthrough.json --ndjson < "$work/in.ndjson" 2>/dev/null | wc -l > "$work/count"
  read -r wall rss < "$work/time"
  echo "| $n | $size | $wall | $((rss / 1024)) | $(cat "$work/count") |"
done
