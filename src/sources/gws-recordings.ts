// Source `gws-recordings`: the recordings GWS lists for the run's time window
// (SPEC §3, §4). The window comes from the config and last_recording_endtime.txt;
// the source returns it with its records so the runner can advance that file when
// every item of the window is done. Pages are fetched only as the pipeline pulls, one
// page ahead per slice, gwsConcurrency slices at once; within a slice a server that pages
// by offset gets pages asked ahead, gwsConcurrency requests in flight in all (SPEC §8).
// In --dry-run it still queries: the plan needs the list.

import { computeWindow } from '../config/window.js';
import { openFirstGwsConnection } from '../gws/run-connections.js';
import { defineComponent, sourceWithWindow, type RunContext } from '../pipeline/types.js';

interface Options {
  /** Overrides gwsPageSize for this pipeline. */
  pageSize?: number;
}

/** The stored upper bound of the last complete run, if a store is there to ask. */
async function lastRecordingEndTime(context: RunContext): Promise<number | undefined> {
  let store;
  try {
    store = await context.store();
  } catch (err) {
    // Pure NDJSON runs have no target folder: the window then starts from the config alone.
    context.log.debug('no target store; the window ignores last_recording_endtime', { reason: (err as Error).message });
    return undefined;
  }
  return store.readLastRecordingEndTime();
}

export default defineComponent<Options>({
  kind: 'source',
  name: 'gws-recordings',
  requiresConfig: ['gwsUriPrefix'],
  description: 'Lists recording metadata from Genesys Interaction Recording Web Services over the run\'s time window, page by page, the next page fetched while the pipeline works through the current one; up to gwsConcurrency requests at once, over time slices and pages ahead within a slice.',
  options: {
    type: 'object',
    properties: {
      pageSize: { type: 'integer', minimum: 1, maximum: 100000, description: 'recordings per GWS page (default: gwsPageSize)' },
    },
    additionalProperties: false,
  },
  // The run's first GWS connection opens now (src/gws/run-connections.ts), while this
  // component's client code loads; s3-download's settings call, when there is one, takes it.
  prepare(_options, context) {
    openFirstGwsConnection(context);
  },
  async create(options, context) {
    // gwsUriPrefix is set and a URL: requiresConfig and the config validation saw to it.
    const { config } = context;
    const last = await lastRecordingEndTime(context);
    const window = computeWindow(config, context.now, last);
    for (const reason of window.reasons) context.log.info(`window: ${reason}`);
    context.log.info('querying GWS recordings', {
      from: new Date(window.start).toISOString(),
      to: new Date(window.end).toISOString(),
      slices: window.slices.length,
    });
    // undici and stream-json load only for pipelines that query GWS.
    const [{ runGwsClient }, { recordingStream }] = await Promise.all([import('../gws/client.js'), import('./gws/source.js')]);
    // The settings call's client too (s3-download), when the pipeline downloads.
    const client = runGwsClient(context);
    // The first page of each slice goes out at once (up to gwsConcurrency): their connections
    // open while the settings call is still out.
    client.expectRequests(Math.min(config.gwsConcurrency, window.slices.length));
    const query = {
      recordingsUri: config.gwsRecordingsUri,
      pageSize: options.pageSize ?? config.gwsPageSize,
      slices: window.slices,
      concurrency: config.gwsConcurrency,
      log: context.log,
    };
    return sourceWithWindow(() => recordingStream(context, client, query), window);
  },
});
