// Pins pages requested ahead by offset within a slice (issue 15, SPEC §8: gwsConcurrency
// bounds the GWS recordings requests in flight), and that they change nothing the paging
// yields or asks for:
// - over the sandbox GWS in each paging mode (links in its three URL forms, offset, capped
//   and split), gwsConcurrency 4 yields exactly the ids of gwsConcurrency 1, each once; with
//   one slice of many pages the server sees more than one request open at once and never
//   more than 4 (gwsConcurrency 1: one), and, where paging goes by offset, at most 3 requests
//   more than one page at a time (pages past the slice's end);
// - an opaque cursor in links.next: nothing is asked ahead (the requests are exactly the
//   sequential ones); a server that switches from offset links to a cursor mid-slice: every
//   recording once, and no request by offset after the first by cursor;
// - a page ahead that fails (HTTP 500, a reset socket) past the slice's end does not fail the
//   run; a page the slice needs that fails still fails it;
// - a consumer that stops early cancels the pages ahead: the server sees them closed;
// - the request budget gives a permit back to a page a slice needs before any page ahead.

import t, { type Test } from 'tap';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { RequestBudget } from '../src/gws/pages-ahead.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import { DEFAULT_RETRY } from '../src/retry.js';
import { generateRecordings } from '../src/sandbox/data.js';
import { PAGING_MODES, startSandboxGws } from '../src/sandbox/gws.js';
import type { TimeSlice } from '../src/config/window.js';
import { slices, startGws } from './helpers/paged-gws.js';

const USER = 'u';
const PASSWORD = 'p';
const NOW = Date.UTC(2024, 5, 1);
const HOUR = 3_600_000;

function clientFor(t: Test, prefix: string, options: { maxRetries?: number } = {}) {
  const context = createRunContext({ config: configWith({ gwsUriPrefix: prefix }), credentials: { gwsUsername: USER, gwsPassword: PASSWORD } });
  const client = createGwsClient(context, { retry: { ...DEFAULT_RETRY, maxRetries: options.maxRetries ?? DEFAULT_RETRY.maxRetries }, retryDelayMs: () => 1 });
  t.teardown(() => client.close());
  return client;
}

async function idsOf(t: Test, prefix: string, pageSize: number, window: TimeSlice[], concurrency: number, options: { maxRetries?: number } = {}): Promise<string[]> {
  const ids: string[] = [];
  for await (const r of recordingsInWindow(clientFor(t, prefix, options), { recordingsUri: '/recordings', pageSize, slices: window, concurrency })) ids.push(r.id as string);
  return ids;
}

const recordings = generateRecordings({ count: 233, seed: 15, range: { start: NOW - HOUR, end: NOW }, mediaSize: { min: 1, max: 2 }, keyPrefix: 'r/', oddities: false });
// Not a multiple of the page size: in links mode a last full page without links.next sends
// sequential paging back to its own offset counter (a repeat, then a split), in both runs alike.
const everyId = recordings.map((r) => r.id!).sort();

for (const mode of PAGING_MODES) {
  t.test(`sandbox ${mode}: gwsConcurrency 4 yields what 1 does, with pages of one slice in flight at once`, async (t) => {
    const seen: Record<number, { ids: string[]; peak: number; requests: number }> = {};
    for (const concurrency of [1, 4]) {
      const gws = await startSandboxGws({ username: USER, password: PASSWORD, s3: { bucket: 'b', region: 'us-east-1', keyPrefix: 'r/' }, recordings: () => recordings, mode, pageLatencyMs: 5 });
      t.teardown(() => gws.close());
      const ids = await idsOf(t, gws.url, 10, [{ start: NOW - HOUR, end: NOW + 1 }], concurrency);
      seen[concurrency] = { ids, peak: gws.peakInFlight('/recordings'), requests: gws.requestCount('/recordings') };
    }
    t.same([...seen[1]!.ids].sort(), everyId, 'one page at a time: every recording');
    t.same([...seen[4]!.ids].sort(), everyId, 'gwsConcurrency 4: every recording, each once');
    t.equal(seen[1]!.peak, 1, 'gwsConcurrency 1: one request at a time');
    t.ok(seen[4]!.peak > 1 && seen[4]!.peak <= 4, `gwsConcurrency 4, one slice: ${seen[4]!.peak} requests open at once (2 to 4)`);
    if (mode !== 'capped') {
      t.ok(seen[4]!.requests - seen[1]!.requests <= 3, `${seen[4]!.requests} requests against ${seen[1]!.requests}: at most 3 past the end`);
    }
  });
}

/** A server of `total` recordings r0… for one slice: by offset, or by the cursor it gave. */
async function cursorGws(t: Test, total: number, nextFor: (offset: number, limit: number, url: URL) => string | undefined) {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    const url = new URL(req.url!, 'http://x');
    const limit = Number(url.searchParams.get('limit') ?? 5);
    // A cursor encodes its offset behind random letters, as an opaque token would.
    const cursor = url.searchParams.get('cursor');
    const offset = cursor !== null ? Number(cursor.split('.')[1]) : Number(url.searchParams.get('offset'));
    const page = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => ({ id: `r${offset + i}` }));
    const next = offset + limit < total ? nextFor(offset, limit, url) : undefined;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 0, recordings: page, ...(next ? { links: { next } } : {}) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return { requests, prefix: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const token = (offset: number) => `${Math.random().toString(36).slice(2)}.${offset + 5}`;
const everyOf = (total: number) => Array.from({ length: total }, (_, i) => `r${i}`);

t.test('an opaque cursor in links.next: nothing is asked ahead, the requests are the sequential ones', async (t) => {
  const gws = await cursorGws(t, 23, (offset) => `recordings?cursor=${token(offset)}`);
  const ids = await idsOf(t, gws.prefix, 5, [{ start: 0, end: 1000 }], 4);
  t.same(ids, everyOf(23));
  t.equal(gws.requests.length, 5, 'one request per page');
  t.match(gws.requests[0], /offset=0/);
  t.ok(
    gws.requests.slice(1).every((r) => /^\/recordings\?cursor=[^&]+$/.test(r)),
    'after the first page, only the cursors given',
  );
});

t.test('offset links that turn into a cursor mid-slice: every recording once, no offset asked after the cursor', async (t) => {
  // Pages at offsets 0 and 5 link to the next offset (offset paging shown, pages go ahead);
  // from offset 10 on, links.next is a cursor.
  const gws = await cursorGws(t, 42, (offset, limit, url) => {
    if (offset < 10) {
      const next = new URLSearchParams(url.searchParams);
      next.set('offset', String(offset + limit));
      return `/recordings?${next}`;
    }
    return `recordings?cursor=${token(offset)}`;
  });
  const ids = await idsOf(t, gws.prefix, 5, [{ start: 0, end: 1000 }], 4);
  t.same(ids, everyOf(42), 'in page order, each once');
  const firstCursor = gws.requests.findIndex((r) => r.includes('cursor='));
  t.ok(firstCursor > 0, 'the cursor was followed');
  t.notOk(gws.requests.slice(firstCursor).some((r) => r.includes('offset=')), 'no request by offset after the first by cursor');
  const cursorPages = gws.requests.length - firstCursor;
  t.equal(cursorPages, 6, 'offsets 15 to 40 by cursor, one request each');
  t.ok(firstCursor - 3 <= 3, `${firstCursor - 3} offset pages asked ahead that were not used: budget - 1 at most`);
});

for (const failure of ['HTTP 500', 'a reset socket'] as const) {
  t.test(`a page ahead past the slice's end fails (${failure}): the run still succeeds`, async (t) => {
    const pageSize = 5;
    let failed = 0;
    let lastPage: (() => void) | undefined;
    const fail = (res: ServerResponse) => {
      failed++;
      if (failure === 'HTTP 500') res.writeHead(500).end('{"statusCode":4,"statusMessage":"offset out of range"}');
      else res.socket?.destroy();
      // The slice's last page (short) is answered only once a page past it has failed.
      lastPage?.();
    };
    const gws = await startGws(t, {
      pageSize,
      pagesPerSlice: 3,
      answer: (request, respond) => {
        if (request.offset > 3 * pageSize) return fail(request.res);
        if (request.offset === 3 * pageSize && failed === 0) {
          lastPage = respond;
          // Without pages ahead nothing past the end is asked: answer anyway, so the count fails instead of hanging.
          const fallback = setTimeout(respond, 3000);
          t.teardown(() => clearTimeout(fallback));
          return;
        }
        respond();
      },
    });
    const ids = await idsOf(t, gws.prefix, pageSize, slices(1), 4, { maxRetries: 0 });
    t.same(ids, Array.from({ length: 3 * pageSize + 1 }, (_, i) => `s0-${i}`), 'every recording, in order');
    t.ok(failed >= 1, `${failed} page(s) past the end failed before the slice ended`);
  });
}

t.test('a page the slice needs failing (here fetched ahead, failed before paging reached it) fails the window', async (t) => {
  const pageSize = 5;
  const gws = await startGws(t, {
    pageSize,
    pagesPerSlice: 4,
    answer: (request, respond) => (request.offset === 2 * pageSize ? void request.res.writeHead(500).end('{"statusCode":4}') : respond()),
  });
  await t.rejects(idsOf(t, gws.prefix, pageSize, slices(1), 4, { maxRetries: 0 }), { code: 'RCBS_GWS_HTTP', message: /HTTP 500/ });
});

t.test('a consumer that stops early cancels the pages ahead: the server sees them closed', async (t) => {
  const pageSize = 5;
  let held = 0;
  let enoughHeld: () => void = () => {};
  const heldEnough = new Promise<void>((resolve) => (enoughHeld = resolve));
  // Without pages ahead nothing waits: go on after 3 s, so the counts fail instead of hanging.
  const fallback = setTimeout(() => enoughHeld(), 3000);
  t.teardown(() => clearTimeout(fallback));
  // Pages 1 and 2 come at once; every later page is held (never answered).
  const gws = await startGws(t, {
    pageSize,
    pagesPerSlice: 40,
    answer: (request, respond) => {
      if (request.offset < 2 * pageSize) return respond();
      if (++held === 3) enoughHeld();
    },
  });
  const client = clientFor(t, gws.prefix);
  let got = 0;
  for await (const _ of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize, slices: slices(1), concurrency: 4 })) {
    // Stops on page 2 once 3 pages ahead wait at the server.
    if (++got === pageSize + 1) {
      await heldEnough;
      break;
    }
  }
  await gws.whenIdle();
  t.equal(gws.state.closedUnanswered, held, `the ${held} pages ahead were closed by the client`);
  t.ok(held >= 3 && held <= 4, 'never more than the budget in flight');
  t.equal(gws.state.maxInFlight <= 4, true, 'at most 4 requests open at once');
});

t.test('the request budget: a needed page waits its turn and goes before any page ahead', async (t) => {
  const budget = new RequestBudget(2);
  const never = new AbortController().signal;
  const first = await budget.take(never);
  const second = budget.tryTake()!;
  t.ok(second, 'a page ahead takes a permit that is free');
  t.equal(budget.tryTake(), undefined, 'none free: no page ahead');
  const filled: string[] = [];
  budget.onFree(() => filled.push('fill'));
  let waited: (() => void) | undefined;
  const needed = budget.take(never).then((release) => (waited = release));
  second();
  await needed;
  t.ok(waited, 'the permit given back went to the page that waited');
  t.same(filled, [], 'pages ahead were not offered it');
  t.equal(budget.tryTake(), undefined, 'and it is not free');
  first();
  t.same(filled, ['fill'], 'a permit nobody waits for is offered to pages ahead');
  second();
  t.same(filled, ['fill'], 'giving a permit back twice does nothing');
  const aborting = new AbortController();
  const taken = budget.tryTake()!;
  const pending = budget.take(aborting.signal);
  aborting.abort();
  const noPermit = await pending;
  noPermit();
  taken();
  waited!();
  t.ok(budget.tryTake() && budget.tryTake() && !budget.tryTake(), 'an aborted wait takes no permit: both are free again');
});
