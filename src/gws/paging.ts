// Walks GET /recordings over a window's time slices, oldest first (SPEC §3, §4),
// tolerant of the ways real servers page:
// - `links.next` (relative or absolute) is followed when given; otherwise pages go by
//   offset while they come back full;
// - ids are deduped across pages and slices;
// - a server that ignores offset or caps results shows itself when a page after a
//   full one repeats ids: the slice is then split in halves, recursively, until each
//   part fits in pages that are not full. A 1 ms slice that still overflows is an
//   error: nothing smaller can be asked for, and skipping would lose recordings.
// Dedupe memory: ids of the current slice plus the previous one. Slices are disjoint
// ([start, end)), so an id can only come back from a neighbour (a stopTime on the
// boundary, a recording that changed between two queries); a Set over a whole
// years-long backfill would grow without bound.
// Pulled lazily: the next page is requested only when the consumer has taken every
// recording of the current one. (The gws-recordings source consumes it one page ahead
// of the pipeline, src/sources/gws/source.ts, so GWS and the writes overlap.)

import { createHash } from 'node:crypto';
import { RcbsError } from '../errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { TimeSlice } from '../config/window.js';
import type { Recording } from '../pipeline/types.js';
import { recordingId } from '../recording.js';
import { displayUrl, type GwsClient } from './client.js';
import { readRecordingsPage, type PageSummary } from './page.js';

export interface RecordingsQuery {
  /** gwsRecordingsUri, e.g. /recordings */
  recordingsUri: string;
  /** `limit` per page (gwsPageSize). */
  pageSize: number;
  /** Slices of the window, oldest first. */
  slices: readonly TimeSlice[];
  log?: Logger;
}

/** A string that owns its characters (not a slice of a larger parent string). */
function ownString(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

/** Ids of the current slice and the one before it. */
export class RecentIds {
  #previous = new Set<string>();
  #current = new Set<string>();

  has(id: string): boolean {
    return this.#current.has(id) || this.#previous.has(id);
  }

  add(id: string): void {
    this.#current.add(id);
  }

  /** A new top-level slice starts: ids two slices back are forgotten. */
  nextSlice(): void {
    this.#previous = this.#current;
    this.#current = new Set();
  }

  get size(): number {
    return this.#previous.size + this.#current.size;
  }
}

/** Every recording of the window once (ids deduped), oldest slice first. */
export async function* recordingsInWindow(client: GwsClient, query: RecordingsQuery): AsyncGenerator<Recording, void, undefined> {
  if (!Number.isInteger(query.pageSize) || query.pageSize < 1) {
    throw new RcbsError('RCBS_CONFIG_INVALID', `gwsPageSize must be a whole number of at least 1, got ${query.pageSize}.`, { key: 'gwsPageSize', value: query.pageSize });
  }
  const seen = new RecentIds();
  const log = query.log ?? silentLogger;
  for (const slice of query.slices) {
    seen.nextSlice();
    yield* recordingsInSlice(client, query, slice, seen, log);
  }
}

async function* recordingsInSlice(
  client: GwsClient,
  query: RecordingsQuery,
  slice: TimeSlice,
  seen: RecentIds,
  log: Logger,
): AsyncGenerator<Recording, void, undefined> {
  // Ids from the finished pages of this query: a later page repeating one means the
  // server is not paging (it ignores offset, or loops on links.next).
  const earlierPages = new Set<string>();
  let url = client.url(query.recordingsUri, { startTime: slice.start, endTime: slice.end, limit: query.pageSize, offset: 0 });
  let offset = 0;
  for (let pageNumber = 1; ; pageNumber++) {
    const thisPage = new Set<string>();
    let repeats = false;
    const page = client.stream(url, readRecordingsPage);
    let summary!: PageSummary;
    try {
      for (;;) {
        const step = await page.next();
        if (step.done) {
          summary = step.value;
          break;
        }
        const recording = step.value;
        // A recording without an id is keyed by its content, so a repeated page or a split
        // slice does not quarantine it twice (validate quarantines it once).
        // The id is kept (dedupe sets) after the recording is gone: a copy, because the
        // parser's strings are slices of the ~200 KB body chunks and a kept slice keeps its
        // whole chunk alive (measured: heap grew ~3 KB per recording, 346 MB at 50k).
        const givenId = recordingId(recording);
        const id = givenId !== undefined ? ownString(givenId) : `sha256:${createHash('sha256').update(JSON.stringify(recording)).digest('hex')}`;
        if (earlierPages.has(id)) repeats = true;
        thisPage.add(id);
        if (seen.has(id)) continue;
        seen.add(id);
        yield recording;
      }
    } finally {
      // Closes the response when the consumer stops early.
      await page.return(undefined as never);
    }

    if (summary.malformed > 0) {
      log.warn('GWS page has items that are not recordings (not JSON objects); they are skipped', { url: displayUrl(url), items: summary.malformed });
    }
    if (repeats) {
      yield* splitOverflowingSlice(client, query, slice, seen, log, pageNumber);
      return;
    }
    for (const id of thisPage) earlierPages.add(id);
    const full = summary.count >= query.pageSize;
    if (summary.next !== undefined && summary.count > 0) {
      url = resolveNext(summary.next, url);
      continue;
    }
    if (!full || summary.next !== undefined) return;
    offset += summary.count;
    url = client.url(query.recordingsUri, { startTime: slice.start, endTime: slice.end, limit: query.pageSize, offset });
  }
}

async function* splitOverflowingSlice(
  client: GwsClient,
  query: RecordingsQuery,
  slice: TimeSlice,
  seen: RecentIds,
  log: Logger,
  pageNumber: number,
): AsyncGenerator<Recording, void, undefined> {
  const span = slice.end - slice.start;
  if (span <= 1) {
    throw new RcbsError(
      'RCBS_GWS_STATUS',
      `GWS caps or repeats results: the 1 ms slice starting ${new Date(slice.start).toISOString()} still fills a page of ${query.pageSize} ` +
        `and page ${pageNumber} repeats ids. Raise gwsPageSize above the number of recordings in one millisecond, or ask Genesys about the server's paging.`,
      { startTime: slice.start, endTime: slice.end, pageSize: query.pageSize },
    );
  }
  const middle = slice.start + Math.floor(span / 2);
  log.info('GWS is not paging this slice (a page repeats ids); splitting it in halves', {
    startTime: new Date(slice.start).toISOString(),
    endTime: new Date(slice.end).toISOString(),
    page: pageNumber,
  });
  yield* recordingsInSlice(client, query, { start: slice.start, end: middle }, seen, log);
  yield* recordingsInSlice(client, query, { start: middle, end: slice.end }, seen, log);
}

/** links.next may be absolute or relative to the request that returned it. */
function resolveNext(next: string, current: URL): URL {
  try {
    return new URL(next, current);
  } catch {
    throw new RcbsError('RCBS_GWS_BAD_BODY', `GWS gave links.next "${next.slice(0, 200)}" in the answer to ${displayUrl(current)}, which is not a URL.`, { url: displayUrl(current) });
  }
}
