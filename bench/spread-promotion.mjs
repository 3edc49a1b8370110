// What an object spread costs V8's old generation (issue 14, BENCHMARKS.md run 9): an async
// generator yields 300,000 records made the way backup-dir made them, `{ ...newRecord(recording),
// dir, json, media }`, or with Object.assign, and a consumer drops each at once. Prints what
// reached the old generation (its used bytes sampled every 5 ms, rises summed).
//   node bench/spread-promotion.mjs spread|assign
// On Node 20.20.2 (2026-12-07): spread 122-129 MB, assign 20 MB; with --trace-gc-nvp, 79
// scavenges promoting 74 MB against 186 promoting 6.7 MB. Spread in a plain synchronous loop
// (smaller records, no generator), both ways left 2-3 MB. Same hidden class either way
// (%DebugPrint). Why V8 promotes the spread's records was not found; src/ uses Object.assign
// on the per-record paths.
import v8 from 'node:v8';

const oldUsed = () =>
  v8
    .getHeapSpaceStatistics()
    .filter((s) => s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space')
    .reduce((sum, s) => sum + s.space_used_size, 0);
let last = oldUsed();
let oldIn = 0;
const timer = setInterval(() => {
  const now = oldUsed();
  if (now > last) oldIn += now - last;
  last = now;
}, 5);

const mode = process.argv[2] === 'assign' ? 'assign' : 'spread';
const newRecord = (recording) => ({ recording, status: 'pending', media: [], errors: [] });
async function* records(n) {
  for (let i = 0; i < n; i++) {
    const recording = JSON.parse(`{"id":"r${i}","startTime":"2026-01-01T00:00:00.000+0000","mediaFiles":[{"mediaId":"m${i}","type":"audio/mp3"}],"parameters":{"a":"${'x'.repeat(200)}"}}`);
    const dir = `d/${i % 100}`;
    const json = `d/${i}.json`;
    const media = [{ mediaId: `m${i}`, status: 'pending' }];
    if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    yield mode === 'spread' ? { ...newRecord(recording), dir, json, media } : Object.assign(newRecord(recording), { dir, json, media });
  }
}
let files = 0;
for await (const record of records(300_000)) files += record.media.length;
clearInterval(timer);
console.log(`${mode}: ${(oldIn / 1048576).toFixed(1)} MB reached the old generation (${files} records)`);
