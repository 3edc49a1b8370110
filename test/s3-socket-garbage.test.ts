// Pins src/s3/socket-garbage.ts: every 8 MiB written, rcbs itself runs a young-generation
// GC (a forced one, told apart from those V8 starts on its own), and dead socket-sized
// buffers are freed by it.

import t from 'tap';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { chunksWritten } from '../src/s3/socket-garbage.js';

const MiB = 1 << 20;

/** Forced minor GCs that ran while `fn` did. */
async function forcedMinorGcsDuring(fn: () => void): Promise<number> {
  let forced = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as { detail?: unknown }).detail as { kind?: number; flags?: number } | undefined;
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR && ((detail.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED)) forced++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return forced;
}

t.test('a young-generation GC runs every 8 MiB written, not before', async (t) => {
  t.equal(await forcedMinorGcsDuring(() => chunksWritten(7 * MiB)), 0, 'none at 7 MiB');
  t.equal(await forcedMinorGcsDuring(() => chunksWritten(1 * MiB)), 1, 'one at 8 MiB');
  t.equal(await forcedMinorGcsDuring(() => { for (let i = 0; i < 8; i++) chunksWritten(MiB - 1); }), 0, 'the count starts again');
  t.equal(await forcedMinorGcsDuring(() => chunksWritten(8)), 1, 'one at the next 8 MiB');
});

t.test('it frees chunks that are already garbage', async (t) => {
  const baseline = process.memoryUsage().arrayBuffers;
  let length = 0;
  // Young garbage, as socket chunks are once written: allocated and dropped at once.
  for (let i = 0; i < 64; i++) length += Buffer.allocUnsafeSlow(64 * 1024).fill(i).length;
  t.equal(length, 4 * MiB);
  t.equal(await forcedMinorGcsDuring(() => chunksWritten(8 * MiB)), 1);
  const left = process.memoryUsage().arrayBuffers - baseline;
  t.ok(left < 2 * MiB, `the 4 MiB of dead chunks are freed (${(left / MiB).toFixed(1)} MiB left)`);
});
