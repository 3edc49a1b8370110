// Pins SPEC §4's last tolerance: a server that ignores offset, or caps how deep offset
// goes, shows itself when the page after a full one repeats ids. The slice is then
// split in halves until every part fits in a page that is not full, so the run still
// gets every recording exactly once. A 1 ms slice that still overflows cannot be split
// further: that is an error, never a silent loss.
import t from 'tap';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';

type Stored = { id: string; stop: number };

async function gws(t: { teardown(fn: () => unknown): void }, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A server whose page for (slice, offset) is chosen by `pick`. */
function server(data: Stored[], pick: (inSlice: Stored[], offset: number, limit: number) => Stored[], log: string[]): RequestListener {
  return (req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    const start = Number(q.get('startTime'));
    const end = Number(q.get('endTime'));
    log.push(`${start}-${end}@${q.get('offset')}`);
    const inSlice = data.filter((r) => r.stop >= start && r.stop < end).sort((a, b) => a.stop - b.stop);
    const page = pick(inSlice, Number(q.get('offset')), Number(q.get('limit')));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 0, recordings: page.map((r) => ({ id: r.id, stopTime: r.stop })) }));
  };
}

async function collect(t: { teardown(fn: () => unknown): void }, prefix: string, pageSize: number, end: number): Promise<string[]> {
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: prefix }) }));
  t.teardown(() => client.close());
  const ids: string[] = [];
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize, slices: [{ start: 0, end }] })) ids.push(r.id as string);
  return ids;
}

// 25 recordings at uneven times, a few sharing a millisecond.
const data: Stored[] = Array.from({ length: 25 }, (_, i) => ({ id: `rec-${i}`, stop: Math.floor((i * i * 37) % 997) }));
const everyId = data.map((r) => r.id).sort();

t.test('a server that ignores offset: split until each part is not full', async (t) => {
  const log: string[] = [];
  const prefix = await gws(t, server(data, (inSlice, _offset, limit) => inSlice.slice(0, limit), log));
  const ids = await collect(t, prefix, 4, 1000);
  t.same([...ids].sort(), everyId, 'every recording, once');
  t.equal(new Set(ids).size, ids.length, 'no duplicates');
  t.ok(log.length > 2, `split into sub-slices (${log.length} requests)`);
  t.ok(log.some((l) => !l.startsWith('0-1000')), 'queried narrower slices');
});

t.test('a server that caps offset (past 8 it repeats the last page): still the exact set', async (t) => {
  const log: string[] = [];
  const prefix = await gws(t, server(data, (inSlice, offset, limit) => inSlice.slice(Math.min(offset, 4), Math.min(offset, 4) + limit), log));
  const ids = await collect(t, prefix, 4, 1000);
  t.same([...ids].sort(), everyId);
  t.equal(new Set(ids).size, ids.length);
});

t.test('a full 1 ms slice that still repeats is an error naming the cap', async (t) => {
  const crowded: Stored[] = Array.from({ length: 6 }, (_, i) => ({ id: `same-ms-${i}`, stop: 500 }));
  const prefix = await gws(t, server(crowded, (inSlice, _offset, limit) => inSlice.slice(0, limit), []));
  await t.rejects(collect(t, prefix, 4, 1000), { code: 'RCBS_GWS_STATUS', message: /1 ms slice .* caps or repeats|caps or repeats.*1 ms slice/ });
});
