// Walks GET /recordings over a window's time slices (SPEC §3, §4, §8), started oldest
// first, `concurrency` slices at a time (gwsConcurrency), tolerant of the ways real
// servers page. `concurrency` bounds the recordings requests in flight for the window:
// slices at once, and, within a slice whose server has shown it pages by offset, pages
// asked ahead (pages-ahead.ts); pages are still walked one by one in order, each
// the request sequential paging would make, so what is yielded does not change.
// With 1, one page at a time, streamed.
// - `links.next` (relative or absolute) is followed when given; otherwise pages go by
//   offset while they come back full;
// - ids are deduped across pages and slices;
// - a server that ignores offset or caps results shows itself when a page after a
//   full one repeats ids: the slice is then split in halves, recursively, until each
//   part fits in pages that are not full. A 1 ms slice that still overflows is an
//   error: nothing smaller can be asked for, and skipping would lose recordings.
// Dedupe memory: ids per slice, an id checked against its own slice and both neighbours.
// Slices are disjoint ([start, end)), so an id can only come back from a neighbour (a
// stopTime on the boundary, a recording that changed between two queries); a slice's
// ids are dropped once both neighbours are done, so at most about 2 × concurrency sets
// live, where a Set over a whole years-long backfill would grow without bound. Each
// slice's ids are one IdSet (id-set.ts): UTF-8 bytes off V8's heap, exact, each id tagged
// with the page it was last met on, which is also what notices a page repeating an
// earlier one.
// Pulled lazily: with `ahead` 0 the next page is requested only when the consumer has
// taken every recording of the current one (pages asked ahead aside: at most
// `concurrency` of them held per slice); the gws-recordings source asks for one page
// ahead per slice (src/sources/gws/source.ts), so GWS and the writes overlap. With
// several slices at once their pages interleave, each page's recordings passed on together
// (PageBatch); the window ends, and the run may advance last_recording_endtime.txt, only
// when every slice is done. A failing slice cancels the others' requests (a window-wide
// AbortSignal) and fails the window.

import { createHash } from 'node:crypto';
import { RcbsError } from '../errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { TimeSlice } from '../config/window.js';
import type { Recording } from '../pipeline/types.js';
import { recordingId } from '../recording.js';
import { displayUrl, type GwsClient } from './client.js';
import { lettingGo, readRecordingsPage, type PageSummary } from './page.js';
import { mergeConcurrently, readAhead } from '../pipeline/streams.js';
import { PagesAhead, RequestBudget } from './pages-ahead.js';
import { IdSet } from './id-set.js';

export interface RecordingsQuery {
  /** gwsRecordingsUri, e.g. /recordings */
  recordingsUri: string;
  /** `limit` per page (gwsPageSize). */
  pageSize: number;
  /** Slices of the window, oldest first. */
  slices: readonly TimeSlice[];
  /** Recordings requests in flight (gwsConcurrency): slices at once, and pages ahead within
   * a slice paged by offset; default 1, one page at a time. */
  concurrency?: number;
  /** Recordings read ahead of the consumer (a page: pageSize); default 0, across slice
   * boundaries. Used with one slice at a time only: with several, each slice is one page
   * ahead whatever the value (the merge's own ask of it). */
  ahead?: number;
  log?: Logger;
}

/** The ids one top-level slice has met and passed on, checked together with its neighbours'. */
export interface SliceSeen {
  /** Whether this slice or a neighbour has passed `id` on (paging uses meet; this and add
   * are the memory as test/gws-dedupe-by-id.test.ts reads and fills it). */
  has(id: string): boolean;
  /** `id` is passed on by this slice. */
  add(id: string): void;
  /** A query of this slice starts, at its first page: ids met before it (before a split) are not repeats. */
  startQuery(): void;
  /** The current query's next page starts. */
  nextPage(): void;
  /** Notes `id` met on the current page: 'repeated' when met on an earlier page of this query (the
   * server is not paging); else 'passed' when this slice or a neighbour passed it on; else 'fresh',
   * and it is passed on now. */
  meet(id: string): 'fresh' | 'passed' | 'repeated';
  /** The slice is done: its ids go once both neighbours are done too. */
  done(): void;
}

// An id's tag in its slice's IdSet: the page it was last met on (pages numbered 1, 2, 3… across
// the slice's queries), times two, plus PASSED once the slice has passed it on. An id met but
// not passed on (a neighbour had) is kept too: a later page of the same query repeating it
// still shows a server that is not paging.
const PASSED = 1;

function passedOn(ids: IdSet | undefined, id: string): boolean {
  if (!ids) return false;
  const entry = ids.find(id);
  return entry >= 0 && (ids.tag(entry) & PASSED) !== 0;
}

/** Ids met and passed on, per top-level slice; a slice sees its own and its neighbours'. */
export class SliceIds {
  readonly #ids = new Map<number, IdSet>();
  readonly #done = new Set<number>();
  readonly #count: number;

  constructor(sliceCount: number) {
    this.#count = sliceCount;
  }

  slice(index: number): SliceSeen {
    const own = new IdSet();
    this.#ids.set(index, own);
    let page = 0;
    let firstPage = 1;
    const passedByNeighbour = (id: string) => passedOn(this.#ids.get(index - 1), id) || passedOn(this.#ids.get(index + 1), id);
    return {
      has: (id) => passedOn(own, id) || passedByNeighbour(id),
      add: (id) => {
        const entry = own.add(id);
        own.setTag(entry, own.tag(entry) | PASSED);
      },
      startQuery: () => void (firstPage = ++page),
      nextPage: () => void ++page,
      meet: (id) => {
        const entry = own.add(id);
        const tag = own.tag(entry);
        const metOn = tag >>> 1;
        // A repeat is never fresh: when first met it was passed on, here or by a neighbour
        // (whose ids are kept while this slice runs).
        const outcome = metOn >= firstPage && metOn < page ? 'repeated' : tag & PASSED || passedByNeighbour(id) ? 'passed' : 'fresh';
        own.setTag(entry, page * 2 + (outcome === 'fresh' ? PASSED : tag & PASSED));
        return outcome;
      },
      done: () => {
        this.#done.add(index);
        for (const i of [index - 1, index, index + 1]) if (this.#finished(i - 1) && this.#finished(i) && this.#finished(i + 1)) this.#ids.delete(i);
      },
    };
  }

  #finished(index: number): boolean {
    return index < 0 || index >= this.#count || this.#done.has(index);
  }

  /** Ids held, over every slice still remembered. */
  get size(): number {
    let size = 0;
    for (const ids of this.#ids.values()) size += ids.size;
    return size;
  }
}

/**
 * The recordings a slice passes on from one page (or, from a page read as it arrives, up to
 * STREAMED_BATCH of them). Slices hand them on a page at a time so that, with several
 * slices at once, a page is taken whole before another slice's: interleaved recording by
 * recording, every slice's page stayed alive while the others' were written, long enough
 * for V8 to move it to the old generation (BENCHMARKS.md, issue 14 run 10).
 */
type PageBatch = Recording[];

/** Recordings gathered before they are passed on, from a page read as it arrives. */
const STREAMED_BATCH = 100;

/**
 * Every recording of the window once (ids deduped). Slices start oldest first,
 * `query.concurrency` at a time; with more than one their pages interleave.
 */
export async function* recordingsInWindow(client: GwsClient, query: RecordingsQuery): AsyncGenerator<Recording, void, undefined> {
  if (!Number.isInteger(query.pageSize) || query.pageSize < 1) {
    throw new RcbsError('RCBS_CONFIG_INVALID', `gwsPageSize must be a whole number of at least 1, got ${query.pageSize}.`, { key: 'gwsPageSize', value: query.pageSize });
  }
  const seen = new SliceIds(query.slices.length);
  const log = query.log ?? silentLogger;
  const concurrency = query.concurrency ?? 1;
  const ahead = query.ahead ?? 0;
  // Ends every slice's request or retry wait at once when one slice fails or the consumer stops.
  const stop = new AbortController();
  const signal = client.signal ? AbortSignal.any([client.signal, stop.signal]) : stop.signal;
  // One page at a time, streamed, as the guide's tool when 1; else pages ahead share it with the slices.
  const budget = concurrency > 1 ? new RequestBudget(concurrency) : undefined;
  const slices = query.slices.map((slice, index) =>
    async function* (): AsyncGenerator<PageBatch, void, undefined> {
      const walk: SliceWalk = { client, query, seen: seen.slice(index), signal, log, budget };
      yield* recordingsInSlice(walk, slice);
      walk.seen.done();
    },
  );
  try {
    if (concurrency <= 1) {
      // One after another, as the guide's tool: read ahead across slice boundaries too.
      const inOrder = (async function* () {
        for (const slice of slices) for await (const batch of slice()) yield* lettingGo(batch);
      })();
      yield* ahead > 0 ? readAhead(inOrder, ahead) : inOrder;
    } else {
      // Each slice one page ahead of the one being written: the merge asks a slice again as
      // it hands on its page, so the slice takes its next page from pages-ahead.ts (giving
      // back that request's permit) meanwhile. Asked only once a page was written, a page
      // asked ahead held its permit that long: over a slow GWS (150 ms a page, WAN model,
      // 4 requests) metadata-export took 4.56-4.73 s against 4.13-4.61 before the pages
      // (BENCHMARKS.md, issue 14 run 10). A page's recordings are let go one by one.
      const pages = mergeConcurrently(slices, { concurrency, ahead: 1, cancel: () => stop.abort() });
      for await (const batch of pages) yield* lettingGo(batch);
    }
  } finally {
    stop.abort();
  }
}

/** What the pages of one top-level slice (and its halves, when split) are read with. */
interface SliceWalk {
  client: GwsClient;
  query: RecordingsQuery;
  seen: SliceSeen;
  /** Ends the requests when the run aborts, another slice fails or the consumer stops. */
  signal: AbortSignal;
  log: Logger;
  /** GWS recordings requests in flight for the window (gwsConcurrency); none when 1. */
  budget?: RequestBudget;
}

async function* recordingsInSlice(walk: SliceWalk, slice: TimeSlice): AsyncGenerator<PageBatch, void, undefined> {
  const repeatedOnPage = yield* pagesOfSlice(walk, slice);
  if (repeatedOnPage !== undefined) yield* splitOverflowingSlice(walk, slice, repeatedOnPage);
}

/** The recordings of one query's pages, in page order; returns the number of the page
 * that repeated ids (the slice must then be split), or undefined when paging ended. */
async function* pagesOfSlice(walk: SliceWalk, slice: TimeSlice): AsyncGenerator<PageBatch, number | undefined, undefined> {
  const { client, query, seen, signal, log, budget } = walk;
  // A page repeating an id met on an earlier page of this query means the server is not
  // paging (it ignores offset, or loops on links.next).
  seen.startQuery();
  let url = client.url(query.recordingsUri, { startTime: slice.start, endTime: slice.end, limit: query.pageSize, offset: 0 });
  let offset = 0;
  // Closed (what is ahead cancelled) before a split starts its halves, or when the consumer stops.
  const ahead = budget && budget.size > 1 ? new PagesAhead(client, budget, query.pageSize, signal) : undefined;
  try {
    for (let pageNumber = 1; ; pageNumber++) {
      if (pageNumber > 1) seen.nextPage();
      let repeats = false;
      /** Notes a recording of this page; true when it was not passed on before. */
      const fresh = (recording: Recording): boolean => {
        // A recording without an id is keyed by its content, so a repeated page or a split
        // slice does not quarantine it twice (validate quarantines it once).
        // The id is kept as bytes (IdSet), not as the parser's string: that is a slice of a
        // ~200 KB body chunk, and a kept slice kept its whole chunk alive (measured: heap grew
        // ~3 KB per recording, 346 MB at 50k).
        const id = recordingId(recording) ?? `sha256:${createHash('sha256').update(JSON.stringify(recording)).digest('hex')}`;
        const met = seen.meet(id);
        if (met === 'repeated') repeats = true;
        return met === 'fresh';
      };
      let summary: PageSummary;
      const fetchedAhead = ahead?.take(url);
      if (fetchedAhead) {
        const page = await fetchedAhead;
        const batch = page.recordings.filter(fresh);
        page.recordings.length = 0;
        if (batch.length > 0) yield batch;
        summary = page.summary;
      } else {
        summary = yield* streamedPage(walk, url, fresh);
      }

      if (summary.malformed > 0) {
        log.warn('GWS page has items that are not recordings (not JSON objects); they are skipped', { url: displayUrl(url), items: summary.malformed });
      }
      if (repeats) return pageNumber;
      const requested = url;
      const full = summary.count >= query.pageSize;
      // Counted on every page, links or not: a server that gives links.next and then a full
      // last page without one is continued by offset after everything read so far (counting
      // only offset pages asked for offset=pageSize again: a repeat, and the slice was split).
      offset += summary.count;
      if (summary.next !== undefined && summary.count > 0) {
        url = resolveNext(summary.next, url);
      } else {
        if (!full || summary.next !== undefined) return undefined;
        url = client.url(query.recordingsUri, { startTime: slice.start, endTime: slice.end, limit: query.pageSize, offset });
      }
      ahead?.follow(requested, summary.count, url);
    }
  } finally {
    ahead?.close();
  }
}

/** One page read as it arrives, the recordings `fresh` passes given on in batches of up to
 * STREAMED_BATCH (a page read whole: all of them as soon as it is parsed); with a request
 * budget, the page waits for a permit and holds it until read or closed. */
async function* streamedPage(walk: SliceWalk, url: URL, fresh: (recording: Recording) => boolean): AsyncGenerator<PageBatch, PageSummary, undefined> {
  const release = walk.budget ? await walk.budget.take(walk.signal) : undefined;
  const page = walk.client.stream(url, readRecordingsPage, walk.signal);
  try {
    let batch: PageBatch = [];
    for (;;) {
      let step: IteratorResult<Recording, PageSummary>;
      try {
        step = await page.next();
      } catch (error) {
        // What was read before the failure is passed on, as it came.
        if (batch.length > 0) yield batch;
        throw error;
      }
      if (step.done) {
        if (batch.length > 0) yield batch;
        return step.value;
      }
      if (fresh(step.value)) batch.push(step.value);
      if (batch.length >= STREAMED_BATCH) {
        yield batch;
        batch = [];
      }
    }
  } finally {
    // Closes the response when the consumer stops early.
    await page.return(undefined as never);
    release?.();
  }
}

async function* splitOverflowingSlice(walk: SliceWalk, slice: TimeSlice, pageNumber: number): AsyncGenerator<PageBatch, void, undefined> {
  const { query, log } = walk;
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
  yield* recordingsInSlice(walk, { start: slice.start, end: middle });
  yield* recordingsInSlice(walk, { start: middle, end: slice.end });
}

/** links.next may be absolute or relative to the request that returned it. */
function resolveNext(next: string, current: URL): URL {
  try {
    return new URL(next, current);
  } catch {
    throw new RcbsError('RCBS_GWS_BAD_BODY', `GWS gave links.next "${next.slice(0, 200)}" in the answer to ${displayUrl(current)}, which is not a URL.`, { url: displayUrl(current) });
  }
}
