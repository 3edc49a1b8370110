// Pins the sandbox's media-layout options the benches use (bench/backup-vs-peers.sh,
// bench/one-object-1gib.sh): `mediaSizes` gives the n-th media exactly the n-th size
// (a few large objects among many small ones), `maxSegments: 1` gives one media per
// recording, so "N recordings" means "N objects"; and neither option changes anything
// else in the data, so a bench layout is the same recordings as the default one.
import t from 'tap';
import { generateRecordings, type GenerateOptions } from '../src/sandbox/data.js';
import { startSandbox } from '../src/sandbox/index.js';

const NOW = Date.UTC(2024, 0, 15, 12);
const base: GenerateOptions = {
  count: 30, seed: 5, range: { start: NOW - 47 * 3_600_000, end: NOW - 60_000 }, mediaSize: { min: 100, max: 400 }, keyPrefix: 'recordings/', oddities: false,
};
const sizesOf = (recordings: ReturnType<typeof generateRecordings>) => recordings.flatMap((r) => r.media.map((m) => m.plain.length));

t.test('mediaSizes sets each media size in generation order and changes nothing else', async (t) => {
  const plain = generateRecordings(base);
  const count = sizesOf(plain).length;
  const wanted = Array.from({ length: count }, (_, i) => (i % 7 === 0 ? 5000 + i : 10 + i));
  const sized = generateRecordings({ ...base, mediaSizes: wanted });
  t.same(sizesOf(sized), wanted, 'each media has the size given for its position');
  const withoutSize = (rs: typeof plain) => JSON.stringify(rs.map((r) => ({ ...r.recording, mediaFiles: (r.recording.mediaFiles as Array<Record<string, unknown>>).map(({ size: _s, ...f }) => f) })));
  t.equal(withoutSize(sized), withoutSize(plain), 'ids, times and every other field are those of the default data');
  const short = generateRecordings({ ...base, mediaSizes: [7] });
  t.equal(short[0]!.media[0]!.plain.length, 7, 'the first media takes the one size given');
  t.same(sizesOf(short).slice(1), sizesOf(plain).slice(1), 'media beyond the list keep their drawn sizes');
});

t.test('maxSegments 1 gives exactly one media per recording', async (t) => {
  const defaults = generateRecordings(base);
  t.ok(defaults.some((r) => r.media.length > 1), 'by default some calls have several segments');
  const single = generateRecordings({ ...base, maxSegments: 1 });
  t.equal(single.length, 30);
  t.ok(single.every((r) => r.media.length === 1 && (r.recording.mediaFiles as unknown[]).length === 1));
});

t.test('startSandbox uploads objects of the given sizes and rejects bad ones', async (t) => {
  const sandbox = await startSandbox({ recordings: 3, maxSegments: 1, mediaSizes: [2048, 10, 3000], oddities: false, seed: 2 });
  t.teardown(() => sandbox.close());
  t.same(sandbox.recordings.map((r) => r.media[0]!.plain.length), [2048, 10, 3000]);
  // CMS adds a header and up to one cipher block: each encrypted object is a little larger.
  for (const r of sandbox.recordings) t.ok(r.media[0]!.encryptedSize! > r.media[0]!.plain.length);
  await t.rejects(startSandbox({ mediaSizes: [-1] }), { code: 'RCBS_USAGE' });
  await t.rejects(startSandbox({ maxSegments: 0 }), { code: 'RCBS_USAGE' });
});
