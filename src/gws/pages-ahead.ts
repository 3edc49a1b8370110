// Pages of GET /recordings requested ahead by offset within one slice (issue 15, SPEC §8),
// so a slow GWS answers several pages of one slice at once without changing what is asked:
// - RequestBudget: the window's GWS recordings requests in flight (gwsConcurrency), shared
//   by every slice. A page a slice needs now waits for a permit; a page ahead takes one
//   only when it is free right now and no needed page waits. A slice waits for a permit
//   only when it holds none (nothing ahead), and every permit held comes back as its page
//   is answered and taken, so a waiting page always gets one while the consumer reads.
// - PagesAhead: once a full page has shown that the server pages by offset (no links.next,
//   or a links.next that is our own request with only `offset` advanced by the page's
//   count), the pages at the next offsets, pageSize apart, are requested ahead, each read
//   whole into an array. A page ahead keeps its permit until paging takes it, so the pages
//   in flight or held ahead, over the whole window, are at most gwsConcurrency (memory
//   bounded by the budget, not by the slices' sizes). paging.ts still
//   walks the pages one by one in order and asks for each exactly the URL sequential
//   paging would; a page fetched ahead is used only when its request is that URL (same
//   origin, path and query parameters as a set). The first page that does not match (an
//   opaque cursor, a count other than pageSize) or is not full ends the speculation: what
//   was fetched ahead past it is dropped and its requests cancelled. A page ahead that
//   failed fails the slice only if paging reaches it; one past the slice's end never does.

import type { Recording } from '../pipeline/types.js';
import type { GwsClient } from './client.js';
import { readRecordingsPage, type PageSummary } from './page.js';

/** Gives a permit back; calling it again does nothing. */
export type Release = () => void;

/** GWS recordings requests in flight for a whole window, needed pages first. */
export class RequestBudget {
  readonly size: number;
  #free: number;
  readonly #waiting: Array<(release: Release) => void> = [];
  readonly #fillers = new Set<() => void>();

  constructor(size: number) {
    this.size = size;
    this.#free = size;
  }

  /** A permit for a page a slice needs now, in turn. An abort ends the wait with no permit
   * (the request then fails as aborted at once). */
  take(signal: AbortSignal): Promise<Release> {
    const now = this.tryTake();
    if (now) return Promise.resolve(now);
    if (signal.aborted) return Promise.resolve(() => {});
    return new Promise((resolve) => {
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(grant), 1);
        resolve(() => {});
      };
      const grant = (release: Release) => {
        signal.removeEventListener('abort', onAbort);
        resolve(release);
      };
      this.#waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A permit if one is free now and no needed page waits for it. */
  tryTake(): Release | undefined {
    if (this.#free === 0 || this.#waiting.length > 0) return undefined;
    this.#free--;
    return this.#permit();
  }

  /** Calls `fill` whenever a permit comes back that no needed page waits for; returns the unsubscribe. */
  onFree(fill: () => void): () => void {
    this.#fillers.add(fill);
    return () => void this.#fillers.delete(fill);
  }

  #permit(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const waiting = this.#waiting.shift();
      if (waiting) return waiting(this.#permit());
      this.#free++;
      for (const fill of this.#fillers) {
        if (this.#free === 0) break;
        fill();
      }
    };
  }
}

/** A page of recordings read whole. */
export interface WholePage {
  recordings: Recording[];
  summary: PageSummary;
}

interface Slot {
  url: URL;
  offset: number;
  stop: AbortController;
  page: Promise<WholePage>;
  /** The slot's permit: given back once its page is answered and taken (or dropped), or failed. */
  release: Release;
  /** Answered, or failed. */
  arrived: boolean;
  taken: boolean;
  dropped: boolean;
}

/** The same request: origin, path and query parameters as a set (servers reorder them). */
export function sameRequest(a: URL, b: URL): boolean {
  if (a.origin !== b.origin || a.pathname !== b.pathname) return false;
  const params = (url: URL) =>
    [...url.searchParams]
      .map(([key, value]) => `${key}=${value}`)
      .sort()
      .join('&');
  return params(a) === params(b);
}

function withOffset(url: URL, offset: number): URL {
  const moved = new URL(url);
  moved.searchParams.set('offset', String(offset));
  return moved;
}

/** The pages of one query (a slice, or a half of one) fetched ahead by offset. */
export class PagesAhead {
  readonly #client: GwsClient;
  readonly #budget: RequestBudget;
  readonly #pageSize: number;
  readonly #signal: AbortSignal;
  /** Requested ahead, consecutive offsets pageSize apart, in page order. */
  readonly #slots: Slot[] = [];
  /** The request the offsets are put on, once the server has shown offset paging. */
  #base: URL | undefined;
  #nextOffset = 0;
  /** The page paging took last: while it is on its way, it counts against what may be held. */
  #taken: Slot | undefined;
  /** No more pages ahead: a page ended the offset pattern, or the query is done. What is
   * already held may still be taken. */
  #over = false;
  readonly #unsubscribe: () => void;

  constructor(client: GwsClient, budget: RequestBudget, pageSize: number, signal: AbortSignal) {
    this.#client = client;
    this.#budget = budget;
    this.#pageSize = pageSize;
    this.#signal = signal;
    this.#unsubscribe = budget.onFree(() => this.#fill());
  }

  /**
   * The page at `url`, read whole, when the server pages by offset and `url` is the next
   * offset; undefined when paging goes one page at a time (nothing fetched ahead is kept then).
   */
  take(url: URL): Promise<WholePage> | undefined {
    const slot = this.#slots[0];
    if (slot) {
      if (!sameRequest(slot.url, url)) {
        this.#end(0);
        return undefined;
      }
      this.#taken = this.#slots.shift();
      slot.taken = true;
      if (slot.arrived) slot.release();
      this.#fill();
      return slot.page;
    }
    if (!this.#base || this.#over) return undefined;
    if (!sameRequest(withOffset(this.#base, this.#nextOffset), url)) {
      this.#end(0);
      return undefined;
    }
    // Nothing ahead (no permit was free): this page is needed, so it waits its turn.
    this.#nextOffset += this.#pageSize;
    return this.#budget.take(this.#signal).then((release) => {
      const needed = this.#start(url, release);
      needed.taken = true;
      this.#taken = needed;
      this.#fill();
      return needed.page;
    });
  }

  /**
   * After the page at `requested` gave `count` recordings and paging goes on at `next`:
   * a full page whose next request is ours with only offset advanced shows offset paging,
   * and pages ahead start.
   */
  follow(requested: URL, count: number, next: URL): void {
    if (this.#base || this.#over || count !== this.#pageSize) return;
    const offset = Number(requested.searchParams.get('offset') ?? Number.NaN);
    if (!Number.isSafeInteger(offset) || !sameRequest(next, withOffset(requested, offset + count))) return;
    this.#base = requested;
    this.#nextOffset = offset + count;
    this.#fill();
  }

  /** Cancels every page still held or in flight. */
  close(): void {
    this.#over = true;
    this.#unsubscribe();
    this.#end(0);
  }

  #fill(): void {
    // At most budget.size pages held or on their way, counting the one paging waits for: no
    // more than budget.size - 1 are ever asked for past the page that ends the slice.
    while (this.#base && !this.#over && this.#slots.length + (this.#taken?.arrived === false ? 1 : 0) < this.#budget.size) {
      const release = this.#budget.tryTake();
      if (!release) return;
      this.#slots.push(this.#start(withOffset(this.#base, this.#nextOffset), release));
      this.#nextOffset += this.#pageSize;
    }
  }

  #start(url: URL, release: Release): Slot {
    const stop = new AbortController();
    const offset = Number(url.searchParams.get('offset'));
    const slot: Slot = { url, offset, stop, page: undefined as never, release, arrived: false, taken: false, dropped: false };
    // The pattern is checked before the permit goes back, so no offset past a page that ends
    // it is asked for after that page came. A page held keeps its permit until paging takes
    // it: pages in flight and held ahead, over the whole window, are at most the budget.
    slot.page = readWhole(this.#client, url, AbortSignal.any([this.#signal, stop.signal])).then(
      (page) => {
        slot.arrived = true;
        this.#arrived(slot, page);
        if (slot.taken || slot.dropped) release();
        return page;
      },
      (error: unknown) => {
        slot.arrived = true;
        release();
        throw error;
      },
    );
    // A failure is thrown only if paging reaches this page (take); one past the end never is.
    slot.page.catch(() => {});
    return slot;
  }

  /** A page that ends the offset pattern (not full, or its links.next is not the next offset):
   * nothing after it will be asked for by offset, so what is ahead of it is cancelled now
   * (all that is held when the page itself was already taken). */
  #arrived(slot: Slot, page: WholePage): void {
    if (slot.dropped) return;
    if (page.summary.count === this.#pageSize && this.#nextIsOffset(slot, page.summary)) return;
    this.#end(this.#slots.indexOf(slot) + 1);
  }

  #nextIsOffset(slot: Slot, summary: PageSummary): boolean {
    if (summary.next === undefined) return true;
    try {
      return sameRequest(new URL(summary.next, slot.url), withOffset(slot.url, slot.offset + summary.count));
    } catch {
      return false;
    }
  }

  /** No more pages ahead; the slots from `from` on are dropped and their requests cancelled. */
  #end(from: number): void {
    this.#over = true;
    for (const slot of this.#slots.splice(from)) {
      slot.dropped = true;
      slot.stop.abort();
      if (slot.arrived) slot.release();
    }
  }
}

async function readWhole(client: GwsClient, url: URL, signal: AbortSignal): Promise<WholePage> {
  const page = client.stream(url, readRecordingsPage, signal);
  const recordings: Recording[] = [];
  for (;;) {
    const step = await page.next();
    if (step.done) return { recordings, summary: step.value };
    recordings.push(step.value);
  }
}
