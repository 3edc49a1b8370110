// Pins src/heap.ts: the heap budget runs a full GC of its own once the old generation
// holds more than the budget (a floor, or half the live size) above what was live after
// the last one (V8 would let the garbage grow to ~4x the live heap first: that garbage
// set the peak RSS of the GWS export, BENCHMARKS.md); young garbage does not count, a run
// can raise the floor or have ArrayBuffers counted, and nothing runs without a reason to. Seen through the gc entries
// that perf_hooks reports: a forced full GC carries the FORCED flag, which V8's own
// collections never do.

import t, { type Test } from 'tap';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { DEFAULT_HEAP_POLICY, setHeapPolicy, startHeapBudget, type HeapPolicy } from '../src/heap.js';

interface GcDetail {
  kind: number;
  flags: number;
}

function forcedFullGcs(): { count: () => number; next: Promise<void>; stop: () => void } {
  let count = 0;
  let seen!: () => void;
  const next = new Promise<void>((resolve) => (seen = resolve));
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as Array<PerformanceEntry & { detail?: GcDetail }>) {
      const detail = entry.detail;
      if (detail && detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR && (detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0) {
        count++;
        seen();
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { count: () => count, next, stop: () => observer.disconnect() };
}

/** Objects that live a little (so they reach the old generation), then become garbage. */
function churn(t: Test): void {
  let keep: object[] = [];
  const timer = setInterval(() => {
    for (let i = 0; i < 20_000; i++) keep.push({ i, s: `value ${i}` });
    if (keep.length > 200_000) keep = [];
  }, 1);
  t.teardown(() => clearInterval(timer));
}

t.test('garbage past the budget gets a full GC of its own', async (t) => {
  const gcs = forcedFullGcs();
  t.teardown(gcs.stop);
  const stop = startHeapBudget(4 << 20, 5);
  t.teardown(stop);
  churn(t);
  await gcs.next;
  t.ok(gcs.count() >= 1, 'a forced full GC ran');
});

t.test('a heap that stays within the budget gets none', async (t) => {
  const gcs = forcedFullGcs();
  t.teardown(gcs.stop);
  const stop = startHeapBudget(1 << 30, 5);
  // Some allocation, far below a 1 GiB budget, over many checks.
  for (let round = 0; round < 20; round++) {
    Array.from({ length: 10_000 }, (_, i) => ({ i }));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  stop();
  // gc entries are delivered asynchronously: one more turn for any pending one.
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(gcs.count(), 0);
});

t.test('the budget grows with the live heap: at least the floor, else half of what is live', async (t) => {
  const { heapLimit } = await import('../src/heap.js');
  const mb = 1 << 20;
  t.equal(heapLimit(10 * mb, 16 * mb), 26 * mb, 'a small live heap gets the floor');
  t.equal(heapLimit(32 * mb, 16 * mb), 48 * mb, 'where half the live heap equals the floor');
  t.equal(heapLimit(200 * mb, 16 * mb), 300 * mb, 'a large live heap gets half of itself, so it is not marked for every 16 MB');
});

t.test('the budget counts the old generation only: young garbage is left to the scavenger', async (t) => {
  const { oldGenerationBytes } = await import('../src/heap.js');
  const v8 = await import('node:v8');
  // Some young objects, so that counting the young generation would show.
  const holder: { items?: object[] } = {};
  holder.items = Array.from({ length: 20_000 }, (_, i) => ({ i, s: `value ${i}` }));
  const young = v8.getHeapSpaceStatistics().filter((s) => s.space_name === 'new_space' || s.space_name === 'new_large_object_space').reduce((sum, s) => sum + s.space_used_size, 0);
  const all = v8.getHeapStatistics().used_heap_size;
  const old = oldGenerationBytes();
  t.ok(young > 512 << 10, `the young generation holds ${young} bytes`);
  // The three readings allocate a little between them (~80 KB seen): far less than the
  // young generation, which is what counting it would add.
  t.ok(Math.abs(all - young - old) < young / 2, `old ${old} = used ${all} − young ${young}, within the stats' own allocations`);
  t.ok(holder.items.length > 0);
});

/** A budget checking every 5 ms under `policy` (put back to the default at the end), and its forced full GCs. */
function budgetUnder(t: Test, policy: HeapPolicy): ReturnType<typeof forcedFullGcs> {
  t.teardown(() => setHeapPolicy(DEFAULT_HEAP_POLICY));
  const gcs = forcedFullGcs();
  t.teardown(gcs.stop);
  setHeapPolicy(policy);
  t.teardown(startHeapBudget(undefined, 5));
  return gcs;
}

t.test('setHeapPolicy moves the floor of a running budget (a run that downloads media raises it)', async (t) => {
  const gcs = budgetUnder(t, { budget: 1 << 30, countArrayBuffers: false });
  churn(t);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(gcs.count(), 0, 'none under a 1 GiB floor');
  setHeapPolicy({ budget: 4 << 20, countArrayBuffers: false });
  await gcs.next;
  t.ok(gcs.count() >= 1, 'one once the floor is lowered');
});

/** Holds `megabytes` of Buffers, whose bytes live outside V8's heap (their objects are tiny). */
function holdBuffers(t: Test, megabytes: number): void {
  const held = Array.from({ length: megabytes }, () => Buffer.allocUnsafeSlow(1 << 20));
  t.teardown(() => void held.splice(0));
}

t.test('a policy that counts ArrayBuffers runs a full GC for Buffers alone; one that does not, none', async (t) => {
  const gcs = budgetUnder(t, { budget: 4 << 20, countArrayBuffers: false });
  await new Promise((resolve) => setTimeout(resolve, 30));
  holdBuffers(t, 16);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(gcs.count(), 0, '16 MB of Buffers, not counted: no full GC of the budget');
  setHeapPolicy({ budget: 4 << 20, countArrayBuffers: true });
  // Past the budget whatever this process's heap: half its live size is the budget when more.
  holdBuffers(t, 128);
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([gcs.next, new Promise((resolve) => (deadline = setTimeout(resolve, 5000)))]);
  clearTimeout(deadline);
  t.ok(gcs.count() >= 1, '128 MB more, counted: past the budget');
});

t.test("a run's policy: media moved, the transfer one; the backup written, the default; an export, the export one", async (t) => {
  const { runHeapPolicy, TRANSFER_HEAP_POLICY, DEFAULT_HEAP_POLICY, EXPORT_HEAP_POLICY } = await import('../src/heap.js');
  t.equal(runHeapPolicy({ movesMedia: true, writesTarget: true }), TRANSFER_HEAP_POLICY, 'backup');
  t.equal(runHeapPolicy({ movesMedia: false, writesTarget: true }), DEFAULT_HEAP_POLICY, 'metadata-export');
  t.equal(runHeapPolicy({ movesMedia: false, writesTarget: false }), EXPORT_HEAP_POLICY, 'calls-csv, export --ndjson');
  t.ok(EXPORT_HEAP_POLICY.countArrayBuffers && EXPORT_HEAP_POLICY.youngCap !== undefined, 'the export policy counts Buffers and caps the young generation');
  t.notOk(DEFAULT_HEAP_POLICY.countArrayBuffers || DEFAULT_HEAP_POLICY.youngCap !== undefined || TRANSFER_HEAP_POLICY.youngCap !== undefined, 'the others leave both to V8');
});
