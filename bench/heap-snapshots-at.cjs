// Heap snapshots of a command at given times, for bench/heap-snapshot-diff.cjs: what stays
// live and grows as a run goes on (issue 14 run 10 found the GWS pages' abort signals so).
//   SNAP_AT=700,2200 SNAP_TAG=gws node -r ./bench/heap-snapshots-at.cjs dist/cli.js run calls-csv …
// writes /tmp/snap-<tag>-<ms>.heapsnapshot (SNAP_DIR to change the folder). A snapshot
// starts with a full GC, so it holds live objects only, and pauses the run while written.
const v8 = require('node:v8');
const t0 = Date.now();
const at = (process.env.SNAP_AT || '800,2000').split(',').map(Number);
const dir = process.env.SNAP_DIR || '/tmp';
for (const ms of at) {
  setTimeout(() => {
    const file = v8.writeHeapSnapshot(`${dir}/snap-${process.env.SNAP_TAG || 'run'}-${ms}.heapsnapshot`);
    process.stderr.write(`heap-snapshots-at: ${file} at ${Date.now() - t0} ms\n`);
  }, ms).unref();
}
