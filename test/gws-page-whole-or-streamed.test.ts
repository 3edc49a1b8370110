// Pins how a page of GET /recordings is read (src/gws/page.ts): a page up to
// WHOLE_PAGE_BYTES is read whole and parsed by JSON.parse (35% less CPU on the GWS
// export, BENCHMARKS.md); a bigger one is parsed as it arrives, so its first recordings
// flow while the rest of the body is still on its way and memory does not hold the page.
// Both ways give the same recordings, the same fullness count (items of any shape) and
// the same links.next; a failing statusCode yields nothing from a whole page.

import t, { type Test } from 'tap';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { readRecordingsPage, WHOLE_PAGE_BYTES, type PageSummary } from '../src/gws/page.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import type { Recording } from '../src/pipeline/types.js';

async function gws(t: Test, handler: RequestListener): Promise<URL> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  server.on('connection', (socket) => t.teardown(() => socket.destroy()));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/recordings`);
}

function pageOf(t: Test, url: URL): AsyncGenerator<Recording, PageSummary, undefined> {
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: url.origin }) }), { retryDelayMs: () => 0 });
  t.teardown(() => client.close());
  return client.stream(url, readRecordingsPage);
}

async function drain(page: AsyncGenerator<Recording, PageSummary, undefined>): Promise<{ ids: unknown[]; summary: PageSummary }> {
  const ids: unknown[] = [];
  for (;;) {
    const step = await page.next();
    if (step.done) return { ids, summary: step.value };
    ids.push(step.value.id);
  }
}

const recording = (i: number, pad = 0) => ({ id: `r${i}`, mediaFiles: [{ mediaId: `m${i}`, type: 'audio/mp3' }], note: 'x'.repeat(pad) });

t.test('a page bigger than WHOLE_PAGE_BYTES yields its first recordings before its body ends', async (t) => {
  const pad = 64 << 10;
  const count = Math.ceil((WHOLE_PAGE_BYTES * 1.5) / pad);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const url = await gws(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"statusCode":0,"recordings":[');
    for (let i = 0; i < count; i++) res.write(`${i > 0 ? ',' : ''}${JSON.stringify(recording(i, pad))}`);
    // The end of the body waits until the client has a recording: a reader that waited
    // for the whole page would never get one, and the test would time out.
    void released.then(() => res.end('],"links":{"next":"/recordings?offset=7"}}'));
  });
  const page = pageOf(t, url);
  const first = await page.next();
  t.equal(first.done, false);
  t.equal((first.value as Recording).id, 'r0', 'the first recording came while the body was still open');
  release();
  const rest = await drain(page);
  t.equal(rest.ids.length, count - 1, 'every other recording followed');
  t.same(rest.summary, { count, malformed: 0, next: '/recordings?offset=7' });
});

t.test('a whole page gives the recordings, the count of items of any shape and links.next', async (t) => {
  const body = { statusCode: 0, recordings: [recording(1), 'not an object', recording(2), null, [1], recording(3)], links: { next: 'https://gws.example/recordings?offset=6' } };
  const url = await gws(t, (_req, res) => res.writeHead(200).end(JSON.stringify(body)));
  const { ids, summary } = await drain(pageOf(t, url));
  t.same(ids, ['r1', 'r2', 'r3']);
  t.same(summary, { count: 6, malformed: 3, next: 'https://gws.example/recordings?offset=6' });
});

t.test('the same page whole or streamed reads the same', async (t) => {
  // Padding only moves the page past WHOLE_PAGE_BYTES; the recordings and links are the same.
  const items = [recording(1), 'x', recording(2)];
  const small = JSON.stringify({ links: { next: '/n' }, statusCode: '0', recordings: items });
  const big = JSON.stringify({ links: { next: '/n' }, statusCode: '0', padding: 'p'.repeat(WHOLE_PAGE_BYTES + 1), recordings: items });
  const whole = await drain(pageOf(t, await gws(t, (_req, res) => res.writeHead(200).end(small))));
  const streamed = await drain(pageOf(t, await gws(t, (_req, res) => res.writeHead(200).end(big))));
  t.same(whole, streamed);
  t.same(whole.ids, ['r1', 'r2']);
});

t.test('a whole page whose statusCode says it failed yields nothing and fails', async (t) => {
  const url = await gws(t, (_req, res) => res.writeHead(200).end(JSON.stringify({ recordings: [recording(1)], statusCode: 4, statusMessage: 'internal error' })));
  const ids: unknown[] = [];
  await t.rejects(
    (async () => {
      for await (const r of pageOf(t, url)) ids.push(r.id);
    })(),
    /internal error/,
  );
  t.same(ids, []);
});
