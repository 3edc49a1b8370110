// Heap snapshots of a command at given times, for bench/heap-snapshot-diff.cjs: what stays
// live and grows as a run goes on (issue 14 run 10 found the GWS pages' abort signals so).
//   SNAP_AT=700,2200 SNAP_TAG=gws node -r ./bench/heap-snapshots-at.cjs dist/cli.js run calls-csv …
// writes /tmp/snap-<tag>-<ms>.heapsnapshot (SNAP_DIR to change the folder). `exit` among the
// times takes one as the process exits (/tmp/snap-<tag>-exit.heapsnapshot): what a run left
// behind, to compare runs of different sizes. A snapshot starts with a full GC, so it holds
// live objects only, and pauses the run while written.
const v8 = require('node:v8');
const t0 = Date.now();
const at = (process.env.SNAP_AT || '800,2000').split(',');
const dir = process.env.SNAP_DIR || '/tmp';
const snap = (when) => {
  const file = v8.writeHeapSnapshot(`${dir}/snap-${process.env.SNAP_TAG || 'run'}-${when}.heapsnapshot`);
  process.stderr.write(`heap-snapshots-at: ${file} at ${Date.now() - t0} ms\n`);
};
for (const when of at) {
  if (when === 'exit') process.on('exit', () => snap('exit'));
  else setTimeout(() => snap(when), Number(when)).unref();
}
