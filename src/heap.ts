// Garbage that V8 would collect later, collected now, so it does not set rcbs's peak RSS.
//
// V8 paces its collections for throughput: after a full GC it lets the old generation
// grow to up to 4x what was live when collecting is cheap, and rcbs's live heap is small
// and flat (~20 MB) while it allocates fast (a recording parsed, checked, written, gone).
// On the 50k CSV export from GWS (`--trace-gc`) the old generation reached 82 MB with
// 21 MB live: ~60 MB of RSS that was only garbage waiting. So a timer looks at the heap
// every HEAP_CHECK_MS and runs a full GC once its old generation holds HEAP_BUDGET (or
// half the live size, if more) more than was live after the last one: a few full GCs per
// export of ~10-20 ms each, usually none in a backup (BENCHMARKS.md).
//
// Dead socket chunks are the other pile (their bytes live outside V8's heap):
// src/s3/socket-garbage.ts frees those with young-generation GCs in step with the bytes
// written.
//
// V8 offers no API for a GC. `--expose-gc` set at run time installs gc() in contexts
// created afterwards (not in the main one), so one is taken from a new vm context. If
// that is unavailable (another runtime, a changed V8), nothing is collected early.

import v8 from 'node:v8';
import vm from 'node:vm';

/** gc() is a full GC; gc({ type: 'minor' }) a young-generation one. (Node 20's V8 takes
 * `{ type: 'major' }` for a young-generation GC too: only no argument is a full one.) */
export type Collect = (options?: { type: 'minor' }) => void;
let collect: Collect | null | undefined;

/** V8's gc(), or null where it cannot be had. */
export function collector(): Collect | null {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : null');
      collect = typeof gc === 'function' ? (gc as Collect) : null;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/** Old-generation bytes above the last GC's live size that start a full GC: at least
 * HEAP_BUDGET, and LIVE_SHARE of the live size when that is more, so a large live heap (a
 * big index) is not marked over and over for a little garbage: the GC work per byte of
 * garbage stays bounded. 16 MB: the 50k CSV export from GWS peaks at 135-143 MB (5k:
 * 118-123), 146-153 MB with 32 (BENCHMARKS.md, issue 14 run 4). */
export const HEAP_BUDGET = 16 << 20;
/** The floor for a run that downloads media (setHeapBudget, from the run command). There V8
 * already collects its old generation often, prompted by the sockets' external memory, and
 * one forced full GC leaves it collecting every ~50 ms for a while: with 16 MB the loopback
 * backup at numThreads 16 took 3.85-4.55 CPU s against 3.07-3.27 with 32 (3 runs each). */
export const TRANSFER_HEAP_BUDGET = 32 << 20;
const LIVE_SHARE = 0.5;
const HEAP_CHECK_MS = 250;
let floor = HEAP_BUDGET;

/** Sets the budget's floor for the rest of the process (the CLI's timer reads it at each check). */
export function setHeapBudget(bytes: number): void {
  floor = bytes;
}

/** Bytes in the heap's old spaces: what only a full GC frees. The young generation is left
 * out: it fills and empties many times a second (up to 16 MB here), and counting it made a
 * 16 MB budget fire on young garbage alone: 61 full GCs in a loopback backup at numThreads 4
 * instead of V8's own 7, and ~0.6 CPU s more. (A forced full GC also leaves V8 collecting
 * its old generation more often for a while: as few as possible.) */
export function oldGenerationBytes(): number {
  let bytes = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_name !== 'new_space' && space.space_name !== 'new_large_object_space') bytes += space.space_used_size;
  }
  return bytes;
}

/** The heap a full GC is due at, after one left `live` bytes. */
export function heapLimit(live: number, budget = HEAP_BUDGET): number {
  return live + Math.max(budget, live * LIVE_SHARE);
}

/** Starts the heap budget for the life of the process (an unref'd timer); returns a stop.
 * Without `budget`, the floor setHeapBudget set last. */
export function startHeapBudget(budget?: number, everyMs = HEAP_CHECK_MS): () => void {
  let live = oldGenerationBytes();
  const timer = setInterval(() => {
    if (oldGenerationBytes() <= heapLimit(live, budget ?? floor)) return;
    // Taken at the first need: a short command never makes the extra context.
    const gc = collector();
    if (!gc) return clearInterval(timer);
    gc();
    live = oldGenerationBytes();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
