// Pins SPEC §4's dedupe: a recording id seen in an earlier page or the neighbouring
// slice is passed on once (a stopTime on a slice boundary, a server whose boundary
// is inclusive); records with no string id cannot be deduped and pass on every time
// (validate quarantines them). Memory stays bounded: a slice's ids are checked against
// its neighbours' only, and dropped once both neighbours are done, so an id seen two
// slices back comes through again. The same holds with slices queried concurrently.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow, SliceIds } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';

t.test('ids deduped within a page, across pages and across adjacent slices', async (t) => {
  // Slices [0,100) [100,200) [200,300): the server's boundary is inclusive, so "edge" comes twice.
  const pages: Record<string, unknown[]> = {
    '0@0': [{ id: 'a' }, { id: 'b' }, { id: 'a' }],
    '0@3': [{ id: 'c' }, { noId: true }],
    '100@0': [{ id: 'c' }, { id: 'edge' }, { noId: true }],
    '200@0': [{ id: 'edge' }, { id: 'd' }],
  };
  const server = createServer((req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    const recordings = pages[`${q.get('startTime')}@${q.get('offset')}`] ?? [];
    res.writeHead(200).end(JSON.stringify({ statusCode: 0, recordings }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }) }));
  t.teardown(() => client.close());
  const out: unknown[] = [];
  const slices = [0, 100, 200].map((start) => ({ start, end: start + 100 }));
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 3, slices })) out.push(r.id ?? 'no-id');
  // A recording without an id is keyed by its content: the same one twice comes out once.
  t.same(out, ['a', 'b', 'c', 'no-id', 'edge', 'd']);
});

t.test('the id memory: a slice sees its neighbours, and is forgotten once they are done', async (t) => {
  const ids = new SliceIds(4);
  const [s0, s1, s2, s3] = [0, 1, 2, 3].map((i) => ids.slice(i)) as [ReturnType<SliceIds['slice']>, ReturnType<SliceIds['slice']>, ReturnType<SliceIds['slice']>, ReturnType<SliceIds['slice']>];
  s1.add('x');
  t.ok(s0.has('x') && s1.has('x') && s2.has('x'), 'slices 0 and 2 see their neighbour 1');
  t.notOk(s3.has('x'), 'slice 3 is not a neighbour of 1');
  s2.add('y');
  s1.done();
  t.ok(s2.has('x'), 'slice 1 is done but slices 0 and 2 are not: still remembered');
  s0.done();
  t.ok(s2.has('x'), 'slice 2 still running');
  s2.done();
  t.notOk(s3.has('x'), "slice 1's ids are gone once 0 and 2 are done");
  t.ok(s3.has('y'), "slice 2's stay while slice 3 runs");
  s3.done();
  t.equal(ids.size, 0, 'nothing left when every slice is done');
});

t.test('ids deduped across adjacent slices queried concurrently, whichever answers first', async (t) => {
  // Every slice repeats its neighbours' boundary ids; with 3 slices at once they race.
  const server = createServer((req, res) => {
    const start = Number(new URL(req.url!, 'http://x').searchParams.get('startTime'));
    const recordings = [{ id: `edge-${start}` }, { id: `own-${start}` }, { id: `edge-${start + 100}` }];
    res.writeHead(200).end(JSON.stringify({ statusCode: 0, recordings }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }) }));
  t.teardown(() => client.close());
  const slices = [0, 100, 200, 300, 400, 500].map((start) => ({ start, end: start + 100 }));
  const out: string[] = [];
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 10, slices, concurrency: 3, ahead: 10 })) out.push(r.id as string);
  const expected = [...slices.map((s) => `own-${s.start}`), ...[0, 100, 200, 300, 400, 500, 600].map((at) => `edge-${at}`)];
  t.same([...out].sort(), expected.sort(), 'each id once, none lost');
});
