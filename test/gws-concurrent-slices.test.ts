// Pins concurrent GWS slices (SPEC §8, gwsConcurrency; issue 15): the window's slices are
// queried up to `concurrency` at once and never more (a real HTTP server counts the
// requests in flight; it holds each answer until the expected number are waiting, so the
// count is reached without guessing at timings); every recording comes once, in its
// slice's order, though slices interleave; backpressure still holds per slice (pages
// requested ahead of what the consumer reached in that slice are bounded by the request
// budget, not by the slice: test/gws-pages-ahead.test.ts pins the pages ahead); a failing slice
// fails the window at once and cancels the others' requests; an abort stops every slice;
// a consumer that stops early closes them all.

import t, { type Test } from 'tap';
import type { ServerResponse } from 'node:http';
import _ from 'highland';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { recordingStream } from '../src/sources/gws/source.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import type { PipelineRecord } from '../src/pipeline/types.js';
import type { RcbsError } from '../src/errors.js';
import { slices, startGws, type PageRequest } from './helpers/paged-gws.js';

/**
 * Holds answers until `n` requests wait, then lets everything through: a client that
 * never has `n` in flight meets the fallback after 3 s and fails the count instead of
 * hanging the test.
 */
function gateAt(t: Test, n: number) {
  const held: Array<() => void> = [];
  let open = false;
  const release = () => {
    open = true;
    for (const r of held.splice(0)) r();
  };
  const fallback = setTimeout(release, 3000);
  t.teardown(() => clearTimeout(fallback));
  return (_request: PageRequest, respond: () => void) => {
    if (open) return respond();
    held.push(respond);
    if (held.length >= n) release();
  };
}

for (const concurrency of [1, 3]) {
  t.test(`gwsConcurrency ${concurrency}: that many slices in flight at once, never more; every recording once`, async (t) => {
    const pageSize = 4;
    const gws = await startGws(t, { pageSize, pagesPerSlice: 2, answer: gateAt(t, concurrency) });
    const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: gws.prefix }) }));
    t.teardown(() => client.close());
    const ids: string[] = [];
    for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize, slices: slices(7), concurrency, ahead: pageSize })) ids.push(r.id as string);

    t.equal(gws.state.maxInFlight, concurrency, `${concurrency} request(s) in flight at most, and reached`);
    const expected = slices(7).flatMap((_, k) => Array.from({ length: 2 * pageSize + 1 }, (_, i) => `s${k}-${i}`));
    t.same([...ids].sort(), [...expected].sort(), 'every recording once');
    for (let k = 0; k < 7; k++) {
      const mine = ids.filter((id) => id.startsWith(`s${k}-`));
      t.same(mine, expected.filter((id) => id.startsWith(`s${k}-`)), `slice ${k} in its own order`);
    }
    if (concurrency === 1) t.same(ids, expected, 'one at a time: oldest slice first, as the guide');
    t.same(
      [...new Set(gws.state.requests.map((r) => r.slice))],
      [0, 1, 2, 3, 4, 5, 6],
      'slices are started oldest first',
    );
  });
}

t.test('backpressure per slice: a slow consumer sees a bounded number of pages requested ahead in each slice', async (t) => {
  const pageSize = 3;
  const pagesPerSlice = 12;
  const consumed = [0, 0, 0, 0];
  let worstAhead = 0;
  let worstTotalAhead = 0;
  // Pages a request reaches ahead of what the consumer reached in its slice, at arrival.
  const ahead = (slice: number, page: number) => page + 1 - Math.ceil(consumed[slice]! / pageSize);
  // Requests for a page that went out before the consumer had finished the page before it:
  // the read-ahead at work (without it, page p is asked for only once item p × pageSize is).
  let overlapped = 0;
  const gws = await startGws(t, {
    pageSize,
    pagesPerSlice,
    onRequest: (r) => {
      worstAhead = Math.max(worstAhead, ahead(r.slice, r.offset / pageSize));
      if (r.offset > 0 && consumed[r.slice]! < r.offset) overlapped++;
    },
  });
  const context = createRunContext({ config: configWith({ gwsUriPrefix: gws.prefix }) });
  const records = recordingStream(context, createGwsClient(context), { recordingsUri: '/recordings', pageSize, slices: slices(4), concurrency: 4 });
  const pull = () =>
    new Promise<PipelineRecord | undefined>((resolve, reject) =>
      records.pull((err, value) => (err ? reject(err) : resolve(_.isNil(value) ? undefined : (value as PipelineRecord)))),
    );
  let total = 0;
  for (;;) {
    const record = await pull();
    if (!record) break;
    total++;
    const slice = Number(/^s(\d+)-/.exec(record.recording.id as string)![1]);
    consumed[slice]!++;
    // Give every slice the chance to run ahead: its requests go out, its pages come in.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    let totalAhead = 0;
    for (let k = 0; k < 4; k++) {
      const requested = gws.state.requests.filter((r) => r.slice === k).length;
      const reached = Math.ceil(consumed[k]! / pageSize);
      worstAhead = Math.max(worstAhead, requested - reached);
      totalAhead += requested - reached;
    }
    worstTotalAhead = Math.max(worstTotalAhead, totalAhead);
  }
  t.equal(total, 4 * (pagesPerSlice * pageSize + 1));
  // The budget's 4 pages held ahead per slice, plus the page the source reads ahead (ahead: pageSize).
  t.ok(worstAhead <= 4 + 1, `each slice at most 5 pages ahead of the consumer (${worstAhead}), not the slice's 13`);
  // The window's budget (4 pages in flight or held ahead) plus each slice's page read ahead.
  t.ok(worstTotalAhead <= 4 + 4, `at most 8 pages ahead over the whole window (${worstTotalAhead}), not 4 per slice`);
  t.ok(overlapped > 0, `${overlapped} pages were requested while the consumer was still on the page before`);
  const asked = gws.state.requests.map((r) => `${r.slice}@${r.offset}`);
  t.equal(new Set(asked).size, asked.length, 'nothing fetched twice');
  const pastEnd = gws.state.requests.filter((r) => r.offset > pagesPerSlice * pageSize);
  t.ok(pastEnd.length <= 4 * 3, `${pastEnd.length} requests past a slice's end: budget - 1 per slice at most`);
});

t.test('a failing slice fails the window at once and cancels the requests of the others', async (t) => {
  let failing: ServerResponse | undefined;
  const gws = await startGws(t, {
    pageSize: 5,
    pagesPerSlice: 1,
    answer: (request) => {
      // Slices 0, 1 and 3 never answer; slice 2 fails once all four are waiting.
      if (request.slice === 2) failing = request.res;
      if (gws.state.inFlight === 4) failing!.writeHead(200).end('{"statusCode":10,"statusMessage":"Validation error"}'); // outside `respond`: the server's count sees it as closed
    },
  });
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: gws.prefix }) }));
  t.teardown(() => client.close());
  const started = performance.now();
  await t.rejects(
    (async () => {
      for await (const _ of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 5, slices: slices(6), concurrency: 4, ahead: 5 })) void _;
    })(),
    { code: 'RCBS_GWS_STATUS', message: /statusCode 10/ },
  );
  t.ok(performance.now() - started < 5000, 'not held by the slices still waiting (headersTimeout is 30 s)');
  t.equal(gws.state.requests.length, 4, 'slices 4 and 5 never started');
  await gws.whenIdle();
  t.same(gws.state.closedSlices.filter((slice) => slice !== 2).sort(), [0, 1, 3], "the other slices' requests were cancelled");
});

t.test('an abort stops every slice in flight', async (t) => {
  const controller = new AbortController();
  const gws = await startGws(t, {
    pageSize: 5,
    pagesPerSlice: 1,
    answer: () => {
      if (gws.state.inFlight === 3) controller.abort(); // all three are waiting now
    },
  });
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: gws.prefix }), signal: controller.signal }));
  t.teardown(() => client.close());
  let error: RcbsError | undefined;
  try {
    for await (const _ of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 5, slices: slices(5), concurrency: 3, ahead: 5 })) void _;
  } catch (err) {
    error = err as RcbsError;
  }
  t.match(error, { code: 'RCBS_ABORTED', exitCode: 130 });
  await gws.whenIdle();
  t.equal(gws.state.closedUnanswered, 3, 'all three requests were closed');
  t.equal(gws.state.requests.length, 3, 'no slice started after the abort');
});

t.test('a consumer that stops early closes every slice and asks for nothing more', async (t) => {
  const gws = await startGws(t, { pageSize: 2, pagesPerSlice: 50 });
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: gws.prefix }) }));
  t.teardown(() => client.close());
  const got: string[] = [];
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 2, slices: slices(8), concurrency: 4, ahead: 2 })) {
    got.push(r.id as string);
    if (got.length === 5) break;
  }
  const after = gws.state.requests.length;
  t.ok(after <= 4 * 3, `${after} requests: at most a few pages per running slice`);
  // One more round trip's worth of event-loop turns: nothing else goes out.
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  t.equal(gws.state.requests.length, after, 'no request after the stop');
  t.notOk(gws.state.requests.some((r) => r.slice >= 4), 'slices beyond the first four never started');
});

// The progress line's ETA: with slices interleaving, "how far is the newest stopTime"
// jumps back and forth; the sum of each slice's own progress only grows.
