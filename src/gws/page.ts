// Reads one page of GET /recordings (SPEC §4). A page of up to WHOLE_PAGE_BYTES is read
// whole and parsed by JSON.parse: measured on the 50k CSV export from the sandbox GWS,
// 35% less CPU and ~30 MB less peak RSS than tokenizing it (BENCHMARKS.md, issue 14):
// stream-json makes a token object per value and slices its strings out of the body's
// chunk strings, old-generation garbage V8 lets pile up. A page is gwsPageSize
// recordings (~2 KB each: 200 KB at the default 100), so holding one is bounded by the
// configuration. A bigger page, and any body JSON.parse refuses or that is not the
// usual shape, goes through the streaming reader below, which gives the exact error.
//
// The streaming reader yields each item of the top-level `recordings` array as it is
// assembled, so memory holds one recording, not one page. The small top-level fields
// (`statusCode`, `statusMessage`, `links`) are assembled whole wherever they stand,
// before or after the array. A non-zero statusCode stops the yielding and fails the
// page once the body is read (its statusMessage may come last). stream-json's core
// tokenizer is fed directly: no Node stream per page.

import { jsonParser, type Token } from 'stream-json/core/parser.js';
import Assembler from 'stream-json/assembler.js';
import { none, isMany, getManyValues } from 'stream-chain/defs.js';
import type { Recording } from '../pipeline/types.js';
import { badBody, checkStatusCode } from './client.js';

export interface PageSummary {
  /** Items in the page's `recordings` array, whatever their shape: the fullness test. */
  count: number;
  /** Items that were not JSON objects (reported, never yielded). */
  malformed: number;
  /** links.next when the server gives one. */
  next?: string;
}

type Place = 'top' | 'recordings';

/** Pages up to this size are parsed whole; a bigger one as it arrives. */
export const WHOLE_PAGE_BYTES = 8 << 20;

/** Yields each recording of a page body; returns what the pager needs to go on. */
export async function* readRecordingsPage(body: AsyncIterable<Uint8Array>, shown: string): AsyncGenerator<Recording, PageSummary, undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const rest = body[Symbol.asyncIterator]();
  for (;;) {
    const step = await rest.next();
    if (step.done) break;
    chunks.push(step.value);
    size += step.value.length;
    if (size > WHOLE_PAGE_BYTES) return yield* streamRecordingsPage(replay(chunks, rest), shown);
  }
  // The bytes are let go once parsed: this generator lives until the page's last recording
  // is taken, and bytes it still held then would outlive young-generation GCs and wait for
  // a full one (~200 KB a page, outside V8's heap).
  let whole: Buffer | undefined = Buffer.concat(chunks, size);
  chunks.length = 0;
  const page = parseWholePage(whole);
  if (!page) return yield* streamRecordingsPage([whole], shown);
  whole = undefined;
  checkStatusCode(page.statusCode, page.statusMessage, shown);
  let malformed = 0;
  const count = page.recordings.length;
  for (const item of lettingGo(page.recordings)) {
    if (isJsonObject(item)) yield item as Recording;
    else malformed++;
  }
  return { count, malformed, next: nextLink(page.links) };
}

/**
 * The items of a page in order, each let go by the array once the next one is asked for:
 * a recording passed on is then held by whoever took it, not by its page until the page's
 * last one is done. On the 50k CSV export from the sandbox GWS (gwsConcurrency 4), pages
 * held that way by slices waiting their turn lived long enough for V8 to move their
 * recordings to the old generation: 116 MB promoted over the run, 47 MB with this
 * (`--trace-gc-nvp`). The array is empty afterwards.
 */
export function* lettingGo<T>(items: T[]): Generator<T, void, undefined> {
  for (let index = 0; index < items.length; index++) {
    const item = items[index]!;
    items[index] = undefined as T;
    yield item;
  }
  items.length = 0;
}

/** The page when it is valid UTF-8 JSON of the usual shape (an object with a `recordings`
 * array); otherwise undefined, and the streaming reader says what is wrong. */
function parseWholePage(bytes: Buffer): (Record<string, unknown> & { recordings: unknown[] }) | undefined {
  let page: unknown;
  try {
    page = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  return isJsonObject(page) && Array.isArray(page.recordings) ? (page as Record<string, unknown> & { recordings: unknown[] }) : undefined;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** links.next when the page gives a non-empty one. */
function nextLink(links: unknown): string | undefined {
  return isJsonObject(links) && typeof links.next === 'string' && links.next.length > 0 ? links.next : undefined;
}

/** The chunks read so far, then the rest of the body. */
async function* replay(chunks: readonly Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* chunks;
    for (let step = await rest.next(); !step.done; step = await rest.next()) yield step.value;
  } finally {
    await rest.return?.();
  }
}

/** The streaming reader: each recording as soon as it is assembled. */
async function* streamRecordingsPage(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, shown: string): AsyncGenerator<Recording, PageSummary, undefined> {
  const tokenize = jsonParser({ streamValues: false });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const head: Record<string, unknown> = {};
  let started = false;
  let finished = false;
  let place: Place = 'top';
  let key: string | undefined;
  // Assembles one value (a top-level field or one recording) at a time.
  let value: Assembler | undefined;
  let sawRecordings = false;
  let failed = false;
  let count = 0;
  let malformed = 0;
  let prefix = '';
  const ready: Recording[] = [];

  const onToken = (token: Token): void => {
    if (finished) throw badBody(shown, 'has data after the end of its JSON object', prefix);
    if (!started) {
      if (token.name !== 'startObject') throw badBody(shown, 'is not a JSON object', prefix);
      started = true;
      return;
    }
    if (value) {
      value.consume(token);
      if (value.done) finishValue(value.current);
      return;
    }
    if (place === 'recordings') {
      if (token.name === 'endArray') {
        place = 'top';
        return;
      }
      startValue(token);
      return;
    }
    // At the top level of the page object.
    if (token.name === 'keyValue') {
      key = token.value;
      return;
    }
    if (token.name === 'endObject') {
      finished = true;
      return;
    }
    if (key === 'recordings' && token.name === 'startArray') {
      sawRecordings = true;
      place = 'recordings';
      return;
    }
    startValue(token);
  };

  const startValue = (token: Token): void => {
    value = new Assembler();
    value.consume(token);
    if (value.done) finishValue(value.current);
  };

  const finishValue = (assembled: unknown): void => {
    value = undefined;
    if (place === 'recordings') {
      count++;
      if (isJsonObject(assembled)) {
        // Its strings may be slices of the body chunks: whatever outlives the record copies
        // what it keeps (paging.ts copies the ids it remembers; the store keeps only offsets).
        if (!failed) ready.push(assembled as Recording);
      } else {
        malformed++;
      }
      return;
    }
    if (key !== undefined) head[key] = assembled;
    if (key === 'statusCode' && !isOk(assembled)) failed = true;
  };

  const feed = (text: string): void => {
    if (prefix.length < 80) prefix += text.slice(0, 80 - prefix.length);
    let tokens: unknown;
    try {
      tokens = text.length > 0 ? tokenize(text) : none;
    } catch (err) {
      throw badBody(shown, `is not valid JSON (${(err as Error).message})`, prefix);
    }
    if (tokens === none) return;
    if (isMany(tokens)) for (const token of getManyValues(tokens) as Token[]) onToken(token);
    else onToken(tokens as Token);
  };

  for await (const chunk of body) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw badBody(shown, 'is not UTF-8 text', prefix);
    }
    feed(text);
    // Yield what this chunk completed, unless the page already said it failed.
    if (!failed) for (const recording of ready) yield recording;
    ready.length = 0;
  }
  try {
    feed(decoder.decode());
    // A Flushable is flushed by calling it with `none` (its typing only names strings).
    (tokenize as unknown as (end: typeof none) => unknown)(none);
  } catch (err) {
    if ((err as { code?: string }).code === 'RCBS_GWS_BAD_BODY') throw err;
    throw badBody(shown, `ends before its JSON does (truncated: ${(err as Error).message})`, prefix);
  }
  if (!finished) throw badBody(shown, 'ends before its JSON does (truncated)', prefix);

  checkStatusCode(head.statusCode, head.statusMessage, shown);
  if (!sawRecordings && head.statusCode === undefined) {
    throw badBody(shown, 'has neither "statusCode" nor "recordings"', prefix);
  }
  for (const recording of ready) yield recording;
  return { count, malformed, next: nextLink(head.links) };
}

function isOk(statusCode: unknown): boolean {
  return statusCode === 0 || statusCode === '0' || statusCode === undefined || statusCode === null;
}
