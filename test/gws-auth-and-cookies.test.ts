// Pins SPEC §4 auth: every GWS call carries HTTP Basic from GWS_USERNAME/GWS_PASSWORD,
// and cookies the server sets (JSESSIONID) come back on later calls to that path,
// until the server expires them (Max-Age or Expires, read from the attributes only).
// Without the jar GWS would log in on every page.
import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { CookieJar } from '../src/gws/cookies.js';
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

// The jar read "Max-Age is present" off the whole header, so a cookie whose value said
// max-age kept a past Expires from deleting it. Attributes alone decide now.
t.test('Max-Age and Expires come from the attributes, Max-Age winning in either order', async (t) => {
  const url = new URL('http://gws.example/api/v2/recordings');
  const now = Date.parse('2026-01-01T00:00:00Z');
  const past = 'Expires=Wed, 31 Dec 2025 00:00:00 GMT';
  const future = 'Expires=Fri, 01 Jan 2027 00:00:00 GMT';
  const cases: Array<[string, string, string | undefined]> = [
    ['a value that says max-age does not hide a past Expires', `JSESSIONID=max-age-7; Path=/; ${past}`, undefined],
    ['a past Expires deletes', `JSESSIONID=abc; Path=/; ${past}`, undefined],
    ['Max-Age after a past Expires wins', `JSESSIONID=abc; Path=/; ${past}; Max-Age=60`, 'JSESSIONID=abc'],
    ['Max-Age before a past Expires wins', `JSESSIONID=abc; Path=/; Max-Age=60; ${past}`, 'JSESSIONID=abc'],
    ['Max-Age=0 beats a future Expires', `JSESSIONID=abc; Path=/; ${future}; Max-Age=0`, undefined],
    ['a negative Max-Age deletes', `JSESSIONID=abc; Path=/; Max-Age=-1`, undefined],
    ['a Max-Age that is not a number is ignored', `JSESSIONID=abc; Path=/; Max-Age=soon; ${past}`, undefined],
  ];
  for (const [name, setCookie, expected] of cases) {
    const jar = new CookieJar();
    jar.store(url, 'JSESSIONID=old; Path=/', now);
    jar.store(url, setCookie, now);
    t.equal(jar.header(url, now + 1000), expected, name);
  }
  const jar = new CookieJar();
  jar.store(url, 'JSESSIONID=abc; Path=/; Max-Age=60', now);
  t.equal(jar.header(url, now + 59_000), 'JSESSIONID=abc', 'kept within its Max-Age');
  t.equal(jar.header(url, now + 61_000), undefined, 'dropped after it');
});
