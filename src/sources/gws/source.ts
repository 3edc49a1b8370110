// The records side of the gws-recordings source: recordings of the window's slices
// as a lazy highland stream of PipelineRecords. Kept apart from the component file
// so it can be driven with any window (the component computes the real one).

import { fromAsyncIterable } from '../../pipeline/streams.js';
import { newRecord, type PipelineRecord, type RecordStream, type RunContext } from '../../pipeline/types.js';
import type { GwsClient } from '../../gws/client.js';
import { recordingsInWindow, type RecordingsQuery } from '../../gws/paging.js';

/** Every unique recording of `query.slices` as a record; closes the client at the end. */
export function recordingStream(context: RunContext, client: GwsClient, query: RecordingsQuery): RecordStream {
  async function* records(): AsyncGenerator<PipelineRecord> {
    try {
      // One page read ahead per slice: the next page is on its way while this one is
      // written; up to query.concurrency requests (gwsConcurrency: slices, pages ahead) at once.
      for await (const recording of recordingsInWindow(client, { ...query, ahead: query.pageSize })) {
        context.progress({ recordings: 1 });
        yield newRecord(recording);
      }
    } finally {
      await client.close();
    }
  }
  return fromAsyncIterable(records());
}
