// Pins the sandbox GWS server to SPEC §4, raw over HTTP (no rcbs client in the way),
// because every end-to-end test trusts it to behave like the contract: Basic auth
// and statusCode 20 on a wrong login, the JSESSIONID session, the settings body,
// the [startTime, endTime) window sorted by stopTime then id, the three paging
// modes (links with absolute/relative next URLs, offset, capped ignoring offset),
// and fault injection that repeats exactly for a seed so retry tests are stable.
import t, { type Test } from 'tap';
import http from 'node:http';
import { generateRecordings, type SandboxRecording } from '../src/sandbox/data.js';
import { startSandboxGws, type GwsFaults, type PagingMode, type SandboxGws } from '../src/sandbox/gws.js';

const USER = 'sandbox-admin@rcbs.test';
const PASSWORD = 'p@ss:word';
const BASIC = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const NOW = Date.UTC(2024, 5, 1);
const RANGE = { start: NOW - 47 * 3_600_000, end: NOW - 60_000 };

const recordings: SandboxRecording[] = generateRecordings({
  count: 30, seed: 11, range: RANGE, mediaSize: { min: 10, max: 20 }, keyPrefix: 'recordings/', oddities: true,
});
const idOf = (r: SandboxRecording) => r.id ?? '';
const sorted = [...recordings].sort((a, b) => a.stopTimeMs - b.stopTimeMs || idOf(a).localeCompare(idOf(b)));

interface Answer {
  status: number | 'reset';
  headers: http.IncomingHttpHeaders;
  body: Record<string, any>;
}

/** One GET on a fresh connection; a destroyed socket is reported, not thrown. */
function get(url: string, headers: Record<string, string> = { authorization: BASIC }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
      res.on('error', reject);
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.message === 'socket hang up' ? resolve({ status: 'reset', headers: {}, body: {} }) : reject(err)));
  });
}

async function gws(t: Test, mode: PagingMode = 'links', extra: { cap?: number; faults?: GwsFaults } = {}): Promise<SandboxGws> {
  const server = await startSandboxGws({
    username: USER,
    password: PASSWORD,
    s3: { bucket: 'rcbs-sandbox', region: 'us-east-1', keyPrefix: 'recordings/', endpoint: 'http://127.0.0.1:9' },
    recordings: () => recordings,
    mode,
    ...extra,
  });
  t.teardown(() => server.close());
  return server;
}

const all = (base: string, limit: number, offset = 0) => `${base}/recordings?startTime=0&endTime=${NOW}&limit=${limit}&offset=${offset}`;

t.test('Basic auth: missing or wrong is 401 with statusCode 20; a good login gets a JSESSIONID that alone authenticates', async (t) => {
  const server = await gws(t);
  const settings = `${server.url}/me/settings/rcbs`;

  const none = await get(settings, {});
  t.equal(none.status, 401);
  t.equal(none.body.statusCode, 20);
  t.type(none.body.statusMessage, 'string');
  t.match(none.headers['www-authenticate'], /^Basic /);

  const wrong = await get(settings, { authorization: 'Basic ' + Buffer.from(`${USER}:nope`).toString('base64') });
  t.equal(wrong.status, 401);
  t.equal(wrong.body.statusCode, 20);

  const good = await get(settings);
  t.equal(good.status, 200);
  const cookie = String(good.headers['set-cookie']?.[0]).split(';')[0]!;
  t.match(cookie, /^JSESSIONID=[0-9A-F]{32}$/);

  const bySession = await get(settings, { cookie });
  t.equal(bySession.status, 200, 'the session cookie alone is accepted');
  t.equal(bySession.headers['set-cookie'], undefined, 'a valid session is not replaced');

  t.equal((await get(settings, { cookie: 'JSESSIONID=FORGED' })).status, 401, 'an unknown session is refused');
  const wrongWithSession = await get(settings, { cookie, authorization: 'Basic ' + Buffer.from(`${USER}:nope`).toString('base64') });
  t.equal(wrongWithSession.status, 401, 'a wrong Basic header fails even with a valid session');
});

t.test('settings, unknown routes and bad parameters answer with a statusCode', async (t) => {
  const server = await gws(t);
  const settings = await get(`${server.url}/me/settings/rcbs`);
  t.same(settings.body, { statusCode: 0, settings: { s3: { bucket: 'rcbs-sandbox', region: 'us-east-1', keyPrefix: 'recordings/', endpoint: 'http://127.0.0.1:9' } } });

  const missing = await get(`${server.url}/no/such/thing`);
  t.equal(missing.status, 404);
  t.equal(missing.body.statusCode, 6);

  const bad = await get(`${server.url}/recordings?startTime=yesterday&endTime=1`);
  t.equal(bad.status, 400);
  t.equal(bad.body.statusCode, 10);
  t.match(bad.body.statusMessage, /startTime/);
});

t.test('the window is [startTime, endTime) on stopTime, sorted by stopTime then id', async (t) => {
  const server = await gws(t, 'offset');
  const from = sorted[5]!.stopTimeMs;
  const to = sorted[15]!.stopTimeMs;
  t.ok(sorted[4]!.stopTimeMs < from && sorted[14]!.stopTimeMs < to, 'the boundaries fall between recordings');
  const page = await get(`${server.url}/recordings?startTime=${from}&endTime=${to}&limit=100&offset=0`);
  t.equal(page.body.statusCode, 0);
  const ids = (page.body.recordings as Array<{ id?: string; stopTime: string }>).map((r) => r.id ?? '');
  t.same(ids, sorted.slice(5, 15).map(idOf), 'startTime included, endTime excluded, in order');

  const whole = await get(all(server.url, 100));
  t.equal(whole.body.recordings.length, recordings.length, 'every recording, oddities included');
});

t.test('links mode: links.next rotates absolute, path-absolute and bare relative URLs until the last page', async (t) => {
  const server = await gws(t, 'links');
  let url = all(server.url, 4);
  const ids: string[] = [];
  const nexts: string[] = [];
  for (let pages = 0; pages < 50; pages++) {
    const page = await get(url);
    ids.push(...page.body.recordings.map((r: { id?: string }) => r.id ?? ''));
    const next = page.body.links?.next as string | undefined;
    if (!next) break;
    nexts.push(next);
    url = new URL(next, url).toString();
  }
  t.same(ids, sorted.map(idOf), 'following links.next yields every recording once, in order');
  t.equal(nexts.length, Math.ceil(recordings.length / 4) - 1, 'no next link on the last page');
  t.match(nexts[0], /^http:\/\/127\.0\.0\.1:\d+\/api\/v2\/recordings\?/);
  t.match(nexts[1], /^\/api\/v2\/recordings\?/);
  t.match(nexts[2], /^recordings\?/);
});

t.test('offset mode: no links, pages by offset, the last page is short', async (t) => {
  const server = await gws(t, 'offset');
  const ids: string[] = [];
  let last: Answer | undefined;
  for (let offset = 0; ; offset += 4) {
    last = await get(all(server.url, 4, offset));
    t.equal(last.body.links, undefined);
    ids.push(...last.body.recordings.map((r: { id?: string }) => r.id ?? ''));
    if (last.body.recordings.length < 4) break;
  }
  t.same(ids, sorted.map(idOf));
  t.equal(last.body.recordings.length, recordings.length % 4);
});

t.test('capped mode ignores offset and never returns more than the cap', async (t) => {
  const server = await gws(t, 'capped', { cap: 6 });
  const first = await get(all(server.url, 4, 0));
  const second = await get(all(server.url, 4, 4));
  t.same(second.body.recordings, first.body.recordings, 'offset is ignored: the next page repeats the first');
  t.same(first.body.recordings.map((r: { id?: string }) => r.id ?? ''), sorted.slice(0, 4).map(idOf));
  t.equal(first.body.links, undefined);
  const capped = await get(all(server.url, 100, 0));
  t.equal(capped.body.recordings.length, 6, 'a page larger than the cap is cut at the cap');

  server.configure({ mode: 'offset' });
  t.equal((await get(all(server.url, 100, 0))).body.recordings.length, recordings.length, 'configure() switches the paging mode');
});

t.test('faults: the same seed gives the same 429/503/reset sequence; requests are counted by route', async (t) => {
  const faults: GwsFaults = { rate429: 0.2, rate503: 0.2, rateReset: 0.2, seed: 42, retryAfterSeconds: 1 };
  const outcomes = async (server: SandboxGws) => {
    const seen: Array<number | 'reset'> = [];
    for (let i = 0; i < 30; i++) {
      const answer = await get(all(server.url, 5));
      seen.push(answer.status);
      if (answer.status === 429) t.equal(answer.headers['retry-after'], '1');
      if (answer.status === 503) t.equal(answer.body.statusCode, 4);
    }
    return seen;
  };
  const a = await gws(t, 'links', { faults });
  const hooked: Array<number | 'reset'> = [];
  a.onRequest((info) => hooked.push(info.status));
  const first = await outcomes(a);
  const second = await outcomes(await gws(t, 'links', { faults }));
  const other = await outcomes(await gws(t, 'links', { faults: { ...faults, seed: 43 } }));

  t.same(second, first, 'same seed, same faults');
  t.notSame(other, first, 'another seed, other faults');
  for (const kind of [200, 429, 503, 'reset'] as const) t.ok(first.includes(kind), `the sequence has ${kind}`);
  t.same(hooked, first, 'onRequest sees every answer');
  t.equal(a.requestCount('/recordings'), 30);
  t.equal(a.requestCount('/me/settings/rcbs'), 0);

  a.configure({ faults: {} });
  t.equal((await get(all(a.url, 5))).status, 200, 'faults can be switched off');
});
