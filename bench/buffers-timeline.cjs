// ArrayBuffers (Buffers' bytes outside V8's heap) over a run, every 100 ms, and each full GC:
// shows whether dead Buffers wait for a full GC (issue 14 run 10: on calls-csv from GWS they
// rose to ~13 MB and fell only at the next full GC).
//   node -r ./bench/buffers-timeline.cjs dist/cli.js run calls-csv … 2>&1 >/dev/null | grep '^buffers'
const { PerformanceObserver, constants } = require('node:perf_hooks');
const t0 = Date.now();
const rows = [];
const mb = (bytes) => (bytes / 1048576).toFixed(1);
setInterval(() => {
  const m = process.memoryUsage();
  rows.push(`${Date.now() - t0} ms arrayBuffers=${mb(m.arrayBuffers)} external=${mb(m.external)} rss=${mb(m.rss)}`);
}, 100).unref();
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) rows.push(`${Math.round(entry.startTime - (t0 - performance.timeOrigin))} ms full GC`);
  }
}).observe({ entryTypes: ['gc'] });
process.on('exit', () => process.stderr.write(rows.map((row) => `buffers ${row}\n`).join('')));
