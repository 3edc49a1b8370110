// Where a command's peak memory is: loaded with --require, it samples process.memoryUsage()
// and V8's heap spaces every 20 ms and prints each one's maximum at exit, in MiB, with "rest"
// = RSS - V8's heap - external memory (Node, code, native buffers). Used for BENCHMARKS.md's
// "Where the 5k → 50k growth goes" (issue 14):
//   node -r ./bench/memory-parts.cjs dist/cli.js run calls-csv --config <sandbox config> …
// It also prints `oldIn`: what reached V8's old generation over the run (the old spaces' used
// bytes sampled every 5 ms, their rises summed): garbage there waits for a full GC, so this
// is what sets how often one must run and how far the old space grows between them.
// The sampling itself costs some CPU: compare memory with it, not time.
const v8 = require('node:v8');
const max = {};
const bump = (key, value) => {
  if (!(max[key] >= value)) max[key] = value;
};
const sample = () => {
  const m = process.memoryUsage();
  bump('rss', m.rss);
  bump('heapTotal', m.heapTotal);
  bump('heapUsed', m.heapUsed);
  bump('external', m.external);
  bump('arrayBuffers', m.arrayBuffers);
  bump('rest', m.rss - m.heapTotal - m.external);
  for (const space of v8.getHeapSpaceStatistics()) bump(space.space_name, space.space_size);
};
const oldUsed = () => {
  let bytes = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_name !== 'new_space' && space.space_name !== 'new_large_object_space') bytes += space.space_used_size;
  }
  return bytes;
};
let lastOld = oldUsed();
let oldIn = 0;
setInterval(sample, 20).unref();
setInterval(() => {
  const now = oldUsed();
  if (now > lastOld) oldIn += now - lastOld;
  lastOld = now;
}, 5).unref();
process.on('exit', () => {
  sample();
  const shown = Object.entries(max).filter(([, v]) => v > 1 << 20).map(([k, v]) => `${k}=${(v / 1048576).toFixed(1)}`);
  process.stderr.write(`memory-parts ${shown.join(' ')} oldIn=${(oldIn / 1048576).toFixed(1)} maxRSS=${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
});
