// Pins what counts as "a page repeats ids" (src/gws/paging.ts, SPEC §4), the sign of a server
// that is not paging and the trigger for splitting a slice: an id met on an earlier page of
// the same query, whether or not this slice passed it on (a neighbour may have: it is still a
// repeat); not an id met twice on one page; not an id met in an earlier query before a split.
// The ids and the pages they were met on are kept in one structure per slice (IdSet tags),
// where they were two Sets: a mistake there would split slices for nothing or page forever.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';

/** Reads the window from a server answering `pages['startTime-endTime@offset']` (else no recordings); returns the ids and the requests. */
async function walk(t: { teardown(fn: () => unknown): void }, pages: Record<string, unknown[]>, slices: Array<{ start: number; end: number }>): Promise<{ ids: unknown[]; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    const key = `${q.get('startTime')}-${q.get('endTime')}@${q.get('offset')}`;
    asked.push(key);
    res.writeHead(200).end(JSON.stringify({ statusCode: 0, recordings: pages[key] ?? [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }) }));
  t.teardown(() => client.close());
  const ids: unknown[] = [];
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 2, slices })) ids.push(r.id);
  return { ids, asked };
}

t.test('an id twice on one page is not a repeat', async (t) => {
  const { ids, asked } = await walk(t, { '0-100@0': [{ id: 'a' }, { id: 'a' }], '0-100@2': [{ id: 'b' }] }, [{ start: 0, end: 100 }]);
  t.same(ids, ['a', 'b']);
  t.same(asked, ['0-100@0', '0-100@2'], 'no split');
});

t.test('a later page repeating ids a neighbour passed on is a repeat: the slice is split', async (t) => {
  // Slice [100,200) first gives the ids slice [0,100) passed on (an inclusive boundary, say),
  // then ignores offset and gives them again.
  const edge = [{ id: 'x' }, { id: 'y' }];
  const { ids, asked } = await walk(t, { '0-100@0': edge, '100-200@0': edge, '100-200@2': edge }, [
    { start: 0, end: 100 },
    { start: 100, end: 200 },
  ]);
  t.same(ids, ['x', 'y'], 'each once');
  t.same(asked, ['0-100@0', '0-100@2', '100-200@0', '100-200@2', '100-150@0', '150-200@0'], 'split in halves after page 2');
});

t.test('ids met before a split are not repeats in the halves', async (t) => {
  // The whole slice repeats on page 2; its first half then gives the same ids on its page 1
  // (passed on by the earlier query), and paging there goes on normally.
  const first = [{ id: 'p' }, { id: 'q' }];
  const { ids, asked } = await walk(t, { '0-100@0': first, '0-100@2': first, '0-50@0': first, '0-50@2': [{ id: 'r' }] }, [{ start: 0, end: 100 }]);
  t.same(ids, ['p', 'q', 'r']);
  t.same(asked, ['0-100@0', '0-100@2', '0-50@0', '0-50@2', '50-100@0'], 'split once: the half pages on past its page 1');
});
