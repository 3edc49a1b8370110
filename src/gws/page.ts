// Reads one page of GET /recordings as it arrives (SPEC §4): each item of the
// top-level `recordings` array is assembled and yielded on its own, so memory holds
// one recording, not one page. The small top-level fields (`statusCode`,
// `statusMessage`, `links`) are assembled whole wherever they stand, before or after
// the array. A non-zero statusCode stops the yielding and fails the page once the
// body is read (its statusMessage may come last). stream-json's core tokenizer is
// fed directly: no Node stream per page.

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

/** Yields each recording of a page body; returns what the pager needs to go on. */
export async function* readRecordingsPage(body: AsyncIterable<Uint8Array>, shown: string): AsyncGenerator<Recording, PageSummary, undefined> {
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
      if (assembled !== null && typeof assembled === 'object' && !Array.isArray(assembled)) {
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
  const links = head.links as { next?: unknown } | undefined;
  const next = links && typeof links === 'object' && typeof links.next === 'string' && links.next.length > 0 ? links.next : undefined;
  return { count, malformed, next };
}

function isOk(statusCode: unknown): boolean {
  return statusCode === 0 || statusCode === '0' || statusCode === undefined || statusCode === null;
}
