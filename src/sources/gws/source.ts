// The records side of the gws-recordings source: recordings of the window's slices
// as a lazy highland stream of PipelineRecords. Kept apart from the component file
// so it can be driven with any window (the component computes the real one).

import { fromAsyncIterable, readAhead } from '../../pipeline/streams.js';
import { newRecord, type PipelineRecord, type RecordStream, type RunContext } from '../../pipeline/types.js';
import type { GwsClient } from './client.js';
import { parseGwsTime } from '../../recording.js';
import { recordingsInWindow, type RecordingsQuery } from './paging.js';

/** How far through the window a recording's stopTime is (slices are queried oldest
 * first, sorted by stopTime): the progress line's ETA comes from it. */
function windowFraction(query: RecordingsQuery, stopTime: unknown): number | undefined {
  const first = query.slices[0];
  const last = query.slices[query.slices.length - 1];
  const at = parseGwsTime(stopTime);
  if (!first || !last || at === undefined || first.start === 0 || last.end <= first.start) return undefined;
  return Math.min(1, Math.max(0, (at - first.start) / (last.end - first.start)));
}

/** Every unique recording of `query.slices` as a record; closes the client at the end. */
export function recordingStream(context: RunContext, client: GwsClient, query: RecordingsQuery): RecordStream {
  async function* records(): AsyncGenerator<PipelineRecord> {
    try {
      // One page read ahead: the next page is on its way while this one is written.
      for await (const recording of readAhead(recordingsInWindow(client, query), query.pageSize)) {
        context.progress({ recordings: 1, fraction: windowFraction(query, recording.stopTime) });
        yield newRecord(recording);
      }
    } finally {
      await client.close();
    }
  }
  return fromAsyncIterable(records());
}
