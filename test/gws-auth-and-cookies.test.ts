// Pins SPEC §4 auth: every GWS call carries HTTP Basic from GWS_USERNAME/GWS_PASSWORD,
// and cookies the server sets (JSESSIONID) come back on later calls to that path,
// until the server expires them. Without the jar GWS would log in on every page.
import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';

t.test('Basic auth on every call, JSESSIONID kept between pages, expired cookies dropped', async (t) => {
  const seen: Array<{ authorization?: string; cookie?: string; offset: string | null }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url!, 'http://x');
    const offset = url.searchParams.get('offset');
    seen.push({ authorization: req.headers.authorization, cookie: req.headers.cookie, offset });
    const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
    if (offset === '0') headers['set-cookie'] = ['JSESSIONID=abc123; Path=/api; HttpOnly', 'lb=node7; Path=/'];
    if (offset === '2') headers['set-cookie'] = ['lb=gone; Path=/; Max-Age=0'];
    const recordings = offset === '4' ? [] : [{ id: `r${offset}a` }, { id: `r${offset}b` }];
    res.writeHead(200, headers).end(JSON.stringify({ statusCode: 0, recordings }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as AddressInfo;

  const context = createRunContext({
    config: configWith({ gwsUriPrefix: `http://127.0.0.1:${port}/api/v2` }),
    credentials: { gwsUsername: 'admin@tenant.com', gwsPassword: 'pa:ss word' },
  });
  const client = createGwsClient(context);
  t.teardown(() => client.close());
  const ids: string[] = [];
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 2, slices: [{ start: 0, end: 1000 }] })) {
    ids.push(r.id as string);
  }
  t.same(ids, ['r0a', 'r0b', 'r2a', 'r2b']);
  t.same(seen.map((s) => s.offset), ['0', '2', '4']);
  const expected = 'Basic ' + Buffer.from('admin@tenant.com:pa:ss word').toString('base64');
  t.ok(seen.every((s) => s.authorization === expected), 'every request has the Basic header');
  t.equal(seen[0]!.cookie, undefined, 'first request has no cookie');
  t.equal(seen[1]!.cookie, 'JSESSIONID=abc123; lb=node7');
  t.equal(seen[2]!.cookie, 'JSESSIONID=abc123', 'the cookie expired by Max-Age=0 is no longer sent');
});
