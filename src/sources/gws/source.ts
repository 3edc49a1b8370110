// The records side of the gws-recordings source: recordings of the window's slices
// as a lazy highland stream of PipelineRecords. Kept apart from the component file
// so it can be driven with any window (the component computes the real one).

import { fromAsyncIterable } from '../../pipeline/streams.js';
import { newRecord, type PipelineRecord, type RecordStream, type RunContext } from '../../pipeline/types.js';
import type { GwsClient } from '../../gws/client.js';
import type { TimeSlice } from '../../config/window.js';
import { parseGwsTime } from '../../recording.js';
import { recordingsInWindow, type RecordingsQuery } from '../../gws/paging.js';

/**
 * How far through the window the run is, for the progress line's ETA. GWS answers each
 * slice sorted by stopTime, so a slice is as far along as the newest stopTime seen in
 * it; the window, by the sum over its slices (they may be queried concurrently).
 */
export class WindowProgress {
  readonly #slices: readonly TimeSlice[];
  readonly #reached: number[];
  readonly #span: number;
  #sum = 0;

  constructor(slices: readonly TimeSlice[]) {
    this.#slices = slices;
    this.#reached = slices.map(() => 0);
    const first = slices[0];
    // A window from the epoch (maxAge 0, no catch-up file) has no meaningful share.
    this.#span = first && first.start > 0 ? slices.reduce((sum, s) => sum + (s.end - s.start), 0) : 0;
  }

  /** The window's fraction done once a recording with this stopTime has come. */
  fraction(stopTime: unknown): number | undefined {
    const at = parseGwsTime(stopTime);
    if (this.#span <= 0 || at === undefined) return undefined;
    const index = this.#sliceOf(at);
    if (index !== undefined) {
      const reached = at - this.#slices[index]!.start;
      if (reached > this.#reached[index]!) {
        this.#sum += reached - this.#reached[index]!;
        this.#reached[index] = reached;
      }
    }
    return Math.min(1, this.#sum / this.#span);
  }

  /** Binary search: slices are sorted and disjoint. */
  #sliceOf(at: number): number | undefined {
    let low = 0;
    let high = this.#slices.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const slice = this.#slices[middle]!;
      if (at < slice.start) high = middle - 1;
      else if (at >= slice.end) low = middle + 1;
      else return middle;
    }
    return undefined;
  }
}

/** Every unique recording of `query.slices` as a record; closes the client at the end. */
export function recordingStream(context: RunContext, client: GwsClient, query: RecordingsQuery): RecordStream {
  const progress = new WindowProgress(query.slices);
  async function* records(): AsyncGenerator<PipelineRecord> {
    try {
      // One page read ahead per slice: the next page is on its way while this one is
      // written; query.concurrency slices (gwsConcurrency) are on their way at once.
      for await (const recording of recordingsInWindow(client, { ...query, ahead: query.pageSize })) {
        context.progress({ recordings: 1, fraction: progress.fraction(recording.stopTime) });
        yield newRecord(recording);
      }
    } finally {
      await client.close();
    }
  }
  return fromAsyncIterable(records());
}
