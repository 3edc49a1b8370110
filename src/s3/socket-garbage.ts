// Dead socket chunks, freed in step with the transfer instead of whenever V8 gets to them.
//
// Every chunk a socket reads is a Buffer whose bytes live outside V8's heap. Once it is
// on disk and hashed it is garbage, but only a GC frees it, and V8 paces GCs by its own
// heap, which a transfer barely touches. External memory starts a GC only past a limit:
// on a backup (`node --trace-gc`) the first such GC came ~200 ms into the transfers,
// after ~35 MB of chunks, and the next ones every ~10 MB. Those dead chunks set rcbs's
// peak RSS (BENCHMARKS.md: 149-155 MB before, 126-137 MB after, on the same backup).
// A young-generation GC of our own after each RECLAIM_EVERY bytes written bounds the
// pile. Each costs ~1 ms, and replaces one that V8 would have run a little later.
//
// The collector is V8's gc(), taken as src/heap.ts says.

import { collector } from '../heap.js';

const RECLAIM_EVERY = 8 << 20;

let written = 0;

/** Counts bytes that reached the disk; every RECLAIM_EVERY of them, frees the dead socket chunks. */
export function chunksWritten(bytes: number): void {
  written += bytes;
  if (written < RECLAIM_EVERY) return;
  written = 0;
  collector()?.({ type: 'minor' });
}
