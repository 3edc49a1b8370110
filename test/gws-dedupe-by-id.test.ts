// Pins SPEC §4's dedupe: a recording id seen in an earlier page or the neighbouring
// slice is passed on once (a stopTime on a slice boundary, a server whose boundary
// is inclusive); records with no string id cannot be deduped and pass on every time
// (validate quarantines them). Memory stays bounded: ids of only the current and
// previous slice are kept, so an id seen two slices back comes through again.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow, RecentIds } from '../src/gws/paging.js';
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

t.test('the id memory keeps only the current and previous slice', async (t) => {
  const ids = new RecentIds();
  ids.add('x');
  ids.nextSlice();
  t.ok(ids.has('x'), 'remembered from the previous slice');
  ids.add('y');
  ids.nextSlice();
  t.notOk(ids.has('x'), 'forgotten two slices later');
  t.ok(ids.has('y'));
  t.equal(ids.size, 1);
});
