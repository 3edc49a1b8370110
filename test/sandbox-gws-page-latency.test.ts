// Pins the sandbox GWS's per-page latency (issue 15), what the concurrent-slices benchmark
// measures against: with pageLatencyMs each page of recordings is answered after that delay,
// each request on its own (four pages asked at once come back together, not one after another),
// and the settings call is not delayed. `rcbs sandbox --page-latency` reaches it, and a bad
// value is a usage error before anything starts.
import t from 'tap';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { startSandboxGws } from '../src/sandbox/gws.js';
import { startSandbox } from '../src/sandbox/index.js';
import { generateRecordings } from '../src/sandbox/data.js';
import { sandboxCommand } from '../src/commands/sandbox.js';
import { silentLogger } from '../src/log.js';

const USER = 'u';
const PASSWORD = 'p';
const NOW = Date.UTC(2024, 5, 1);
const LATENCY = 400;

/** Resolves with the time the answer's body ended (performance.now()). */
function answeredAt(url: string, auth = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64')): Promise<{ at: number; status: number }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { authorization: auth }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ at: performance.now(), status: res.statusCode! }));
      })
      .on('error', reject);
  });
}

t.test('each page waits pageLatencyMs, pages asked at once are answered together, settings are not delayed', async (t) => {
  const recordings = generateRecordings({ count: 20, seed: 3, range: { start: NOW - 3_600_000, end: NOW }, mediaSize: { min: 1, max: 2 }, keyPrefix: 'r/', oddities: false });
  const server = await startSandboxGws({ username: USER, password: PASSWORD, s3: { bucket: 'b', region: 'us-east-1', keyPrefix: 'r/' }, recordings: () => recordings, pageLatencyMs: LATENCY });
  t.teardown(() => server.close());
  const page = (offset: number) => answeredAt(`${server.url}/recordings?startTime=0&endTime=${NOW}&limit=5&offset=${offset}`);

  const asked = performance.now();
  const pages = Promise.all([0, 5, 10, 15].map(page));
  const settings = await answeredAt(`${server.url}/me/settings/rcbs`);
  const answered = await pages;
  t.equal(settings.status, 200);
  t.ok(settings.at < Math.min(...answered.map((a) => a.at)), 'the settings call, asked after the pages, is answered before them');
  for (const a of answered) {
    t.equal(a.status, 200);
    t.ok(a.at - asked >= LATENCY - 1, `a page answered after ${(a.at - asked).toFixed(0)} ms`);
  }
  t.ok(Math.max(...answered.map((a) => a.at)) - asked < 3 * LATENCY, 'four pages at once take about one latency, not four');
});

t.test('startSandbox({ pageLatencyMs }) and `rcbs sandbox --page-latency` reach the GWS; bad values are usage errors', async (t) => {
  await t.rejects(startSandbox({ pageLatencyMs: -5 }), { code: 'RCBS_USAGE', message: /pageLatencyMs/ });
  await t.rejects(sandboxCommand({ pageLatency: 1.5 }, silentLogger), { code: 'RCBS_USAGE', message: /--page-latency/ });

  const out = new PassThrough();
  let printed = '';
  out.setEncoding('utf8').on('data', (d: string) => (printed += d));
  const stop = new AbortController();
  const running = sandboxCommand({ recordings: 2, seed: 4, dir: t.testdir(), media: false, pageLatency: LATENCY }, silentLogger, stop.signal, out);
  t.teardown(async () => {
    stop.abort();
    await running;
  });
  while (!printed.includes('Ctrl-C stops')) await once(out, 'data');
  t.match(printed, new RegExp(`each page of recordings answered after ${LATENCY} ms`));
  const exported = Object.fromEntries([...printed.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]!.replace(/^'(.*)'$/, '$1')]));
  const gwsUrl = /#\s+GWS\s+(\S+)/.exec(printed)![1]!;
  const auth = 'Basic ' + Buffer.from(`${exported.GWS_USERNAME}:${exported.GWS_PASSWORD}`).toString('base64');
  const asked = performance.now();
  const answer = await answeredAt(`${gwsUrl}/recordings?startTime=0&endTime=${Date.now()}&limit=5`, auth);
  t.equal(answer.status, 200);
  t.ok(answer.at - asked >= LATENCY - 1, `the page came after ${(answer.at - asked).toFixed(0)} ms`);
});
