// Pins SPEC §4's paging tolerance for servers that page correctly: `links.next` is
// followed whether relative (resolved against the request URL) or absolute, and
// without it pages go by offset while they come back full, stopping at the first
// page that is not. Each slice is queried with startTime/endTime/limit/offset.
import t from 'tap';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import type { TimeSlice } from '../src/config/window.js';

async function gws(t: { teardown(fn: () => unknown): void }, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function idsFrom(t: { teardown(fn: () => unknown): void }, prefix: string, pageSize: number, slices: TimeSlice[]): Promise<string[]> {
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: prefix }) }));
  t.teardown(() => client.close());
  const ids: string[] = [];
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize, slices })) ids.push(r.id as string);
  return ids;
}

t.test('links.next relative and absolute are followed; offset is not used then', async (t) => {
  const requests: string[] = [];
  let base = '';
  const prefix = await gws(t, (req, res) => {
    requests.push(req.url!);
    const url = new URL(req.url!, base);
    const cursor = url.searchParams.get('cursor');
    let body: unknown;
    if (cursor === null) body = { statusCode: 0, recordings: [{ id: 'a' }, { id: 'b' }], links: { next: 'recordings?cursor=2' } };
    else if (cursor === '2') body = { links: { next: `${base}/api/v2/recordings?cursor=3` }, recordings: [{ id: 'c' }], statusCode: 0 };
    else body = { statusCode: 0, recordings: [{ id: 'd' }] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  base = prefix;
  const ids = await idsFrom(t, `${prefix}/api/v2`, 2, [{ start: 1000, end: 2000 }]);
  t.same(ids, ['a', 'b', 'c', 'd']);
  t.same(requests, [
    '/api/v2/recordings?startTime=1000&endTime=2000&limit=2&offset=0',
    '/api/v2/recordings?cursor=2',
    '/api/v2/recordings?cursor=3',
  ]);
});

t.test('offset paging while pages are full, slices oldest first', async (t) => {
  const data = Array.from({ length: 7 }, (_, i) => ({ id: `r${i}`, stop: 100 + i * 100 }));
  const requests: string[] = [];
  const prefix = await gws(t, (req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    requests.push(`${q.get('startTime')}-${q.get('endTime')}@${q.get('offset')}`);
    const inSlice = data.filter((r) => r.stop >= Number(q.get('startTime')) && r.stop < Number(q.get('endTime')));
    const page = inSlice.slice(Number(q.get('offset')), Number(q.get('offset')) + Number(q.get('limit')));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 0, recordings: page.map((r) => ({ id: r.id, stopTime: r.stop })) }));
  });
  const ids = await idsFrom(t, prefix, 2, [
    { start: 0, end: 500 },
    { start: 500, end: 1000 },
  ]);
  t.same(ids, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  // 4 in the first slice: a full page, a full page, an empty one; 3 in the second.
  t.same(requests, ['0-500@0', '0-500@2', '0-500@4', '500-1000@0', '500-1000@2']);
});

// A server that gives links.next (offset links, as the sandbox's `links` mode) and whose
// slice holds an exact multiple of the page size: its last page is full and has no
// links.next, so paging goes on by offset after everything read so far, finds an empty
// page and stops. (Counting only offset pages asked for offset=pageSize again: the page
// repeated ids and the whole slice was split in halves, doubling its requests.)
t.test('links, then a full last page without links.next: continued by offset after all read so far, no split', async (t) => {
  const data = Array.from({ length: 6 }, (_, i) => ({ id: `r${i}` }));
  const requests: string[] = [];
  const prefix = await gws(t, (req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(`${url.searchParams.get('startTime')}-${url.searchParams.get('endTime')}@${url.searchParams.get('offset')}`);
    const offset = Number(url.searchParams.get('offset'));
    const limit = Number(url.searchParams.get('limit'));
    const page = data.slice(offset, offset + limit);
    const next = offset + limit < data.length ? new URLSearchParams({ ...Object.fromEntries(url.searchParams), offset: String(offset + limit) }) : undefined;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 0, recordings: page, ...(next ? { links: { next: `recordings?${next}` } } : {}) }));
  });
  const ids = await idsFrom(t, prefix, 2, [{ start: 1000, end: 2000 }]);
  t.same(ids, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  t.same(requests, ['1000-2000@0', '1000-2000@2', '1000-2000@4', '1000-2000@6'], 'three pages by links, then one empty page by offset: no repeat, no halves');
});
