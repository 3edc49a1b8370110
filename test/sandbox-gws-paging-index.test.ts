// Pins the sandbox GWS's paging after it became linear (issue 15: at 200k recordings it spent
// minutes of CPU per run filtering and sorting every recording for every page): it now sorts the
// recordings by stopTime then id once and binary-searches each window, and must serve exactly the
// pages it served before. Checked two ways: against the old algorithm written out here (filter
// the window, sort, slice) on many windows and page sizes, with many recordings sharing a
// stopTime and the oddities (one without an id) in the set; and against a digest of every page
// taken from the old server for the same seed. Recordings added to the served set later are
// still served (the set is read on every query).
import t, { type Test } from 'tap';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { generateRecordings, type SandboxRecording } from '../src/sandbox/data.js';
import { startSandboxGws, type PagingMode } from '../src/sandbox/gws.js';

const USER = 'sandbox-admin@rcbs.test';
const PASSWORD = 'pw';
const AUTH = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const NOW = Date.UTC(2024, 5, 1);
// 1000 recordings over 5 minutes: stopTimes are whole seconds, so most share theirs with others.
const RANGE = { start: NOW - 5 * 60_000, end: NOW };
const recordings: SandboxRecording[] = generateRecordings({ count: 1000, seed: 23, range: RANGE, mediaSize: { min: 10, max: 20 }, keyPrefix: 'recordings/', oddities: true });

/** The old server's algorithm, kept here as the reference. */
function reference(set: readonly SandboxRecording[], start: number, end: number): string[] {
  const idOf = (r: SandboxRecording) => (typeof r.recording.id === 'string' ? r.recording.id : '');
  return set
    .filter((r) => r.stopTimeMs >= start && r.stopTimeMs < end)
    .sort((a, b) => a.stopTimeMs - b.stopTimeMs || idOf(a).localeCompare(idOf(b)))
    .map((r) => String(r.recording.id ?? ''));
}

function getJson(url: string): Promise<{ recordings: Array<{ id?: string }>; links?: { next?: string } }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { authorization: AUTH } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode} ${text}`))));
      })
      .on('error', reject);
  });
}

async function serve(t: Test, set: () => Iterable<SandboxRecording>, mode: PagingMode = 'offset', cap?: number) {
  const server = await startSandboxGws({
    username: USER,
    password: PASSWORD,
    s3: { bucket: 'b', region: 'us-east-1', keyPrefix: 'recordings/' },
    recordings: set,
    mode,
    ...(cap !== undefined ? { cap } : {}),
  });
  t.teardown(() => server.close());
  return server;
}

/** Every page of a window by offset: the ids of each page. */
async function pages(base: string, start: number, end: number, limit: number): Promise<string[][]> {
  const out: string[][] = [];
  for (let offset = 0; out.length < 1000; offset += limit) {
    const page = await getJson(`${base}/recordings?startTime=${start}&endTime=${end}&limit=${limit}&offset=${offset}`);
    const ids = page.recordings.map((r) => String(r.id ?? ''));
    out.push(ids);
    if (ids.length < limit) return out;
  }
  throw new Error('more than 1000 pages');
}

const stops = [...new Set(recordings.map((r) => r.stopTimeMs))].sort((a, b) => a - b);
const windows: Array<[number, number]> = [
  [0, NOW + 1],
  [RANGE.start, RANGE.end],
  [stops[10]!, stops[150]!], // both bounds on a stopTime many recordings share
  [stops[10]! + 1, stops[150]! - 1],
  [stops[200]!, stops[200]! + 1], // one second
  [stops[200]! + 1, stops[201]!], // between two stopTimes: empty
  [NOW + 1, NOW + 2], // after everything
];

t.test('the same pages as the old filter-and-sort, for every window and page size', async (t) => {
  t.ok(stops.length < recordings.length / 1.5, 'many recordings share a stopTime');
  const server = await serve(t, () => recordings);
  for (const [start, end] of windows) {
    const expected = reference(recordings, start, end);
    for (const limit of [7, 100, 10_000]) {
      const got = await pages(server.url, start, end, limit);
      t.same(got.flat(), expected, `window ${start - NOW}..${end - NOW}, limit ${limit}`);
      t.ok(got.slice(0, -1).every((p) => p.length === limit), 'full pages until the last');
    }
  }
});

t.test('the same pages as the old server served for this seed (digest taken from it)', async (t) => {
  const server = await serve(t, () => recordings, 'links');
  const hash = createHash('sha256');
  for (const [start, end] of windows) for (const limit of [7, 100]) hash.update(JSON.stringify(await pages(server.url, start, end, limit)));
  t.equal(hash.digest('hex'), '9a2909f84dfd21853ec7081bc355e51f42d95f35802234c2bb557c588f215ff4');
});

t.test('capped mode: the first min(limit, cap) of the window', async (t) => {
  const server = await serve(t, () => recordings, 'capped', 30);
  const [start, end] = windows[2]!;
  const page = await getJson(`${server.url}/recordings?startTime=${start}&endTime=${end}&limit=100&offset=50`);
  t.same(page.recordings.map((r) => String(r.id ?? '')), reference(recordings, start, end).slice(0, 30));
});

t.test('recordings added to the served set later are served', async (t) => {
  const set = recordings.slice(0, 100);
  const server = await serve(t, () => set);
  t.same((await pages(server.url, 0, NOW + 1, 1000)).flat(), reference(set, 0, NOW + 1));
  set.push(...recordings.slice(100, 300));
  t.same((await pages(server.url, 0, NOW + 1, 1000)).flat(), reference(set, 0, NOW + 1), 'the 200 added ones too, in order');
  const replaced = recordings.slice(300, 400);
  const other = await serve(t, (() => {
    let calls = 0;
    return () => (calls++ === 0 ? set : replaced);
  })());
  await pages(other.url, 0, NOW + 1, 1000);
  t.same((await pages(other.url, 0, NOW + 1, 1000)).flat(), reference(replaced, 0, NOW + 1), 'a different set is served as it is');
});
