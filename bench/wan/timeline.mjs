// Where a run's time went on the WAN link model, from the link's --timeline file (bench/wan/cli.ts):
//   node bench/wan/timeline.mjs <timeline file> <run start epoch ms> <run end epoch ms> <capacity MiB/s>
// Prints, in ms after the run started: the first bytes down (S3 or GWS answers), when the link
// first ran at >= 90% of its capacity over 200 ms, the last bytes down, and the run's end; then
// the run's wall time against its bytes at the capacity ("lost" = wall - bytes / capacity),
// split into before the link filled, while it was full-ish, and after the last byte.
import { readFileSync } from 'node:fs';

const [file, startArg, endArg, capArg] = process.argv.slice(2);
const start = Number(startArg), end = Number(endArg), cap = Number(capArg) * 1024 * 1024 / 1000; // bytes per ms
const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number)).filter(([t]) => t >= start - 1000 && t <= end + 1000);
if (rows.length === 0) {
  console.error(`${file} has no rows around the run (was the link started with --timeline / WAN_TIMELINE?)`);
  process.exit(1);
}
const base = rows.filter(([t]) => t < start).at(-1)?.[1] ?? rows[0][1];
const inRun = rows.filter(([t]) => t >= start && t <= end).map(([t, down]) => [t - start, down - base]);
const total = inRun.at(-1)[1];
const firstByte = inRun.find(([, b]) => b > 0)?.[0];
let full;
for (const [t, b] of inRun) {
  const later = inRun.find(([u]) => u >= t + 200);
  if (later && (later[1] - b) / (later[0] - t) >= 0.9 * cap) { full = t; break; }
}
const lastByte = inRun.find(([, b]) => b >= total)?.[0];
const wall = end - start;
const ideal = total / cap;
const fullAt = full ?? 0;
const bytesBeforeFull = inRun.filter(([t]) => t <= fullAt).at(-1)?.[1] ?? 0;
const before = fullAt - bytesBeforeFull / cap;
const after = wall - lastByte;
const during = wall - ideal - before - after;
const r = (x) => Math.round(x);
console.log(`first byte ${r(firstByte)} ms, link >= 90% from ${r(fullAt)} ms, last byte ${r(lastByte)} ms, end ${r(wall)} ms; ` +
  `${(total / 1048576).toFixed(1)} MiB = ${r(ideal)} ms at capacity; lost ${r(wall - ideal)} ms: ${r(before)} before full, ${r(during)} while transferring, ${r(after)} after the last byte`);
