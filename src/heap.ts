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
// An export (a run that writes neither media nor the backup: file, ndjson sinks) keeps a
// tighter policy (EXPORT_HEAP_POLICY, set by the run command), so that its peak does not
// grow with the number of recordings: on the 50k CSV export, V8 doubled its young
// generation from 16 to 32 MB once a run lasted more than about a second, and dead GWS
// socket chunks, their Buffers moved to the old generation, waited there for a full GC
// with their bytes outside the heap. So the young generation is held at 16 MB (V8 reads
// --semi-space-growth-factor at each growth, so setting it to 1 stops the next one), and
// the budget counts ArrayBuffers' bytes with the old generation's, against a smaller floor.
//
// V8 offers no API for a GC. `--expose-gc` set at run time installs gc() in contexts
// created afterwards (not in the main one), so one is taken from a new vm context. If
// that is unavailable (another runtime, a changed V8), nothing is collected early.

import { PerformanceObserver } from 'node:perf_hooks';
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
 * garbage stays bounded. The default policy's floor. 16 MB: the 50k CSV export from GWS
 * peaked at 135-143 MB (5k: 118-123), 146-153 MB with 32 (BENCHMARKS.md, issue 14 run 4),
 * before exports had a policy of their own. */
export const HEAP_BUDGET = 16 << 20;
/** The floor for a run that downloads media (TRANSFER_HEAP_POLICY, set by the run command). There V8
 * already collects its old generation often, prompted by the sockets' external memory, and
 * one forced full GC leaves it collecting every ~50 ms for a while: with 16 MB the loopback
 * backup at numThreads 16 took 3.85-4.55 CPU s against 3.07-3.27 with 32 (3 runs each). */
export const TRANSFER_HEAP_BUDGET = 32 << 20;
const LIVE_SHARE = 0.5;
const HEAP_CHECK_MS = 250;

/** How the budget keeps the heap for the rest of the process. */
export interface HeapPolicy {
  /** The budget's floor (heapLimit). */
  budget: number;
  /** ArrayBuffers' bytes (Buffers: socket chunks, file data) count with the old generation's. */
  countArrayBuffers: boolean;
  /** V8 may not grow its young generation past this size (undefined: V8 decides). */
  youngCap?: number;
}

/** Every command but `run`, and a run that writes the backup's metadata only
 * (metadata-export): each record lives until its files are synced, so it survives young
 * GCs anyway, and a young generation held at 16 MB only scanned them twice as often (50k:
 * 572 scavenges against 295, +10-15% time, BENCHMARKS.md issue 14 run 10). */
export const DEFAULT_HEAP_POLICY: HeapPolicy = { budget: HEAP_BUDGET, countArrayBuffers: false };
/** A run that downloads media: V8 left to size its young generation (a transfer's chunks die
 * young there; with `--semi-space-growth-factor=1` from the start a backup took ~1 CPU s
 * more, BENCHMARKS.md "undici's parser"), old generation only. */
export const TRANSFER_HEAP_POLICY: HeapPolicy = { budget: TRANSFER_HEAP_BUDGET, countArrayBuffers: false };
/** A run that writes neither media nor the backup (an export). calls-csv, 5k → 50k
 * recordings: from GWS 106-109 → 116-118 MB with the default policy, 89-90 → 96-98 with
 * this; from a backup 81 → 107-109 against 79-80 → 84-85, in the same time at 50k
 * (BENCHMARKS.md, issue 14 run 10; from a 200k backup +13-17% CPU). */
export const EXPORT_HEAP_POLICY: HeapPolicy = { budget: 4 << 20, countArrayBuffers: true, youngCap: 16 << 20 };

/** A run's policy, from what its pipeline's steps do. */
export function runHeapPolicy(run: { movesMedia: boolean; writesTarget: boolean }): HeapPolicy {
  if (run.movesMedia) return TRANSFER_HEAP_POLICY;
  return run.writesTarget ? DEFAULT_HEAP_POLICY : EXPORT_HEAP_POLICY;
}

/** V8's --semi-space-growth-factor, put back when a policy without a cap follows one with. */
const V8_SEMI_SPACE_GROWTH_FACTOR = 2;

let policy = DEFAULT_HEAP_POLICY;
let youngCapped = false;
let youngWatch: PerformanceObserver | undefined;

/** Sets the policy for the rest of the process (the CLI's timer reads it at each check). */
export function setHeapPolicy(next: HeapPolicy): void {
  policy = next;
  youngWatch?.disconnect();
  youngWatch = undefined;
  if (next.youngCap === undefined) {
    if (youngCapped) v8.setFlagsFromString(`--semi-space-growth-factor=${V8_SEMI_SPACE_GROWTH_FACTOR}`);
    youngCapped = false;
    return;
  }
  const cap = next.youngCap;
  // The young generation grows only at one of its GCs: looked at after each.
  const capWhenReached = (): boolean => {
    if (youngGenerationSize() < cap) return false;
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    youngCapped = true;
    youngWatch?.disconnect();
    youngWatch = undefined;
    return true;
  };
  if (capWhenReached()) return;
  youngWatch = new PerformanceObserver(() => void capWhenReached());
  youngWatch.observe({ entryTypes: ['gc'] });
}

/** The young generation's size (V8's new space, reserved, not only used). */
export function youngGenerationSize(): number {
  return v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
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

/** ArrayBuffers' bytes: Buffers' memory outside V8's heap. */
function arrayBufferBytes(): number {
  return process.memoryUsage().arrayBuffers;
}

/** Starts the heap budget for the life of the process (an unref'd timer); returns a stop.
 * Without `budget`, the floor of the policy setHeapPolicy set last. */
export function startHeapBudget(budget?: number, everyMs = HEAP_CHECK_MS): () => void {
  // What was live after the last full GC (or at the start), both parts, whatever the policy
  // counts now: a policy set later weighs against the same moment.
  let liveOld = oldGenerationBytes();
  let liveBuffers = arrayBufferBytes();
  const timer = setInterval(() => {
    const { countArrayBuffers, budget: floor } = policy;
    const now = oldGenerationBytes() + (countArrayBuffers ? arrayBufferBytes() : 0);
    if (now <= heapLimit(liveOld + (countArrayBuffers ? liveBuffers : 0), budget ?? floor)) return;
    // Taken at the first need: a short command never makes the extra context.
    const gc = collector();
    if (!gc) return clearInterval(timer);
    gc();
    liveOld = oldGenerationBytes();
    liveBuffers = arrayBufferBytes();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
