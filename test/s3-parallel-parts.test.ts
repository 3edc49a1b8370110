// Pins issue 15's "large objects as parallel ranged GETs into one temp file" (SPEC §8):
// an object at or above s3PartThreshold comes as one whole-object GET (its headers give
// size, ETag and the whole-object checksum; its body fills the first part) plus
// `Range: bytes=a-b` GETs for the other parts, written at their offsets into the one
// temp file, and the whole file is still checked as SPEC §5 says (ETag MD5, a
// full-object checksum, or size alone for SSE-KMS). A flipped byte in a ranged part is
// caught; a part whose ETag differs (the object changed mid-way) restarts the object; a
// cut part is retried alone from the byte it reached; a killed run's finished parts (the
// part list beside the temp file) are kept and only the missing ones fetched; the parts
// share a connection budget (numThreads transfers + as many spare connections).
// Real s3rver, behind test/helpers/s3-front.ts (answers like S3, counts GETs), real SDK.

import t, { type Test } from 'tap';
import _ from 'highland';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configWith, DEFAULT_CONFIG } from '../src/config/defaults.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { newRecord } from '../src/pipeline/types.js';
import { createLogger, silentLogger } from '../src/log.js';
import { createS3Client } from '../src/s3/client.js';
import { downloadObject } from '../src/s3/transfer.js';
import { partSizeFor, storeIsFar, StoreDistance } from '../src/s3/parts.js';
import { TransferSlots } from '../src/s3/transfer-slots.js';
import { openStore } from '../src/store/index.js';
import { partListOf } from '../src/store/atomic.js';
import s3Download from '../src/sinks/s3-download.js';
import { recordingWith, S3RVER_KEY, startFaultProxy, startS3rver } from './helpers/s3rver.js';
import { checksumOf, startS3Front, type FrontRequest, type ObjectRule } from './helpers/s3-front.js';

const KEY = 'tenant1/big';
const PART = 256 * 1024;
const SIZE = 2 * 1024 * 1024 + 12_345; // 9 parts, the last one short
const PARTS = Math.ceil(SIZE / PART);
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

const objectGets = (front: { requests: FrontRequest[] }) => front.requests.filter((r) => r.method === 'GET' && r.key === KEY);
const ranged = (front: { requests: FrontRequest[] }) => objectGets(front).filter((r) => r.headers.range !== undefined);

async function setup(t: Test, rule: (object: Buffer) => Promise<ObjectRule> | ObjectRule = () => ({}), options: { cutConnection?: number; cutAfter?: number; spare?: number } = {}) {
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  const object = randomBytes(SIZE);
  await s3.put(KEY, object);
  const front = await startS3Front(t, s3.endpoint);
  front.rules.set(KEY, await rule(object));
  const faults = options.cutConnection !== undefined
    ? [...Array.from({ length: options.cutConnection }, () => ({ kind: 'pass' as const })), { kind: 'cut' as const, afterBodyBytes: options.cutAfter ?? 1000 }]
    : [];
  const endpoint = faults.length ? (await startFaultProxy(t, front.port, faults)).endpoint : front.endpoint;
  const client = createS3Client(configWith({ s3ForcePathStyle: true }), S3RVER_KEY, { bucket: s3.bucket, region: 'us-east-1', keyPrefix: '', endpoint }, { concurrency: 8 });
  t.teardown(() => client.destroy());
  const tempPath = path.join(dir, '.big.bin.0123abcd.part');
  const spare = new TransferSlots(options.spare ?? 3);
  const download = (extra: { resumeFrom?: number; stallTimeoutMs?: number } = {}) =>
    downloadObject({ client, bucket: s3.bucket, key: KEY, tempPath, delayMs: () => 0, ...(process.env.PARTS_DEBUG ? { log: createLogger({ level: 'debug', write: (l: string) => process.stderr.write(l + '\n') }) } : {}), parts: { size: PART, threshold: PART * 4, spare }, ...extra });
  return { s3, dir, object, front, tempPath, download };
}

t.test('a large object lands byte-exact via several ranged GETs, checked by each method it offers', async (t) => {
  const cases: Array<[string, (object: Buffer) => Promise<ObjectRule> | ObjectRule, string]> = [
    ['plain: ETag MD5', () => ({}), 'etag-md5'],
    ['CRC64NVME full-object checksum (from the first, whole-object GET)', async (o) => ({ sse: 'aws:kms', checksum: { algorithm: 'crc64nvme', value: await checksumOf('crc64nvme', o) } }), 'crc64nvme'],
    ['SSE-KMS without checksum: size alone', () => ({ sse: 'aws:kms' }), 'size'],
  ];
  for (const [name, rule, method] of cases) {
    await t.test(name, async (t) => {
      const { object, front, tempPath, download } = await setup(t, rule);
      const result = await download();
      t.equal(result.verifiedBy, method);
      t.equal(result.parts, PARTS);
      t.equal(result.md5, md5(object), 'the MD5 the index records covers the whole file in order');
      t.ok((await readFile(tempPath)).equals(object), 'byte-exact');
      const gets = objectGets(front);
      t.equal(gets.length, PARTS, 'one whole-object GET (first part) + one ranged GET per other part, no HEAD');
      t.notOk(gets[0]!.headers.range, 'the first GET is the whole object: it carries the whole-object checksum');
      t.same(ranged(front).map((r) => r.headers.range).sort(), Array.from({ length: PARTS - 1 }, (_, i) => `bytes=${(i + 1) * PART}-${Math.min(SIZE, (i + 2) * PART) - 1}`).sort(), 'explicit ranges, never a suffix range');
      const guards = new Set(ranged(front).map((r) => r.headers['if-match']));
      t.equal(guards.size, 1, 'every part is guarded by the one ETag');
      t.ok([...guards][0], 'If-Match is sent');
      t.notOk(await stat(partListOf(tempPath)).catch(() => undefined), 'the part list is gone once the file is whole');
    });
  }
});

t.test('parts reuse keep-alive connections: a ranged answer is read to its end, not dropped', async (t) => {
  const { object, front, tempPath, download } = await setup(t);
  const result = await download();
  t.equal(result.parts, PARTS);
  t.ok((await readFile(tempPath)).equals(object), 'byte-exact');
  // The whole-object GET's connection is closed after part 0 (the rest of its body is not
  // wanted); every other part goes on one of the (1 own + 3 spare) connections' sockets: 5
  // (one or two more if a socket comes back to the pool just after a part asks for one).
  // Dropping each ranged answer before its end took its socket down: a connection per part.
  t.ok(front.connections <= PARTS - 2, `${front.connections} connections for ${PARTS} parts`);
});

t.test('a flipped byte in one ranged part is caught: never accepted', async (t) => {
  // Byte in part 5, flipped on every GET: the retry from zero fails as well.
  const { front, download } = await setup(t, () => ({ flipObjectByte: 5 * PART + 77 }));
  await t.rejects(download(), { code: 'RCBS_S3_INTEGRITY', message: /MD5 .* but the ETag says/ });
  t.ok(ranged(front).length >= PARTS - 1, 'it came in parts');
});

t.test('a flipped byte once: caught, fetched again from zero, then right', async (t) => {
  const { object, tempPath, download } = await setup(t, () => ({ flipObjectByte: 3 * PART + 1, flipTimes: 4 }));
  const result = await download();
  t.equal(result.md5, md5(object));
  t.ok((await readFile(tempPath)).equals(object));
});

t.test('the object changing mid-way (a part with another ETag) restarts it: the file is the new object', async (t) => {
  const { s3, front, tempPath, download } = await setup(t);
  const changed = randomBytes(SIZE);
  // Before the third GET (a ranged part) the object is replaced in s3rver: a real new ETag.
  front.beforeGet = async (key, n) => {
    if (key === KEY && n === 3) await s3.put(KEY, changed);
  };
  const result = await download();
  t.ok((await readFile(tempPath)).equals(changed), 'the new object, whole');
  t.equal(result.md5, md5(changed));
  const etags = new Set(objectGets(front).map((r) => r.headers['if-match']).filter(Boolean));
  t.ok(etags.size >= 2, 'parts were asked with the old ETag, then with the new one');
});

t.test('a cut part is retried alone, from the byte it reached', async (t) => {
  // Connection 1 is a ranged part's (connection 0 is the whole-object GET): cut after 1000 body bytes.
  const { object, front, tempPath, download } = await setup(t, () => ({}), { cutConnection: 1, cutAfter: 1000 });
  const result = await download();
  t.ok((await readFile(tempPath)).equals(object));
  t.equal(result.md5, md5(object));
  const starts = ranged(front).map((r) => Number(/bytes=(\d+)-/.exec(r.headers.range as string)![1]));
  const midPart = starts.filter((s) => s % PART !== 0);
  t.equal(midPart.length, 1, 'one ranged GET continued a part mid-way');
  t.equal(midPart[0]! % PART, 1000, 'from the byte the cut part reached');
  t.equal(objectGets(front).length, PARTS + 1, 'nothing else was fetched again');
});

t.test('a stalled part (s3StallTimeout) is aborted and retried alone', async (t) => {
  // The whole-object GET (part 0) stops after 5000 bytes with its socket open.
  const { object, front, tempPath, download } = await setup(t, () => ({ stallAfter: 5000, stallTimes: 1 }));
  const started = Date.now();
  const result = await download({ stallTimeoutMs: 300 });
  // Without ending the stalled body itself the part waited for the socket's own 60 s timeout.
  t.ok(Date.now() - started < 20_000, `resumed after s3StallTimeout, not the socket timeout (${Date.now() - started} ms)`);
  t.ok((await readFile(tempPath)).equals(object));
  t.equal(result.md5, md5(object));
  t.ok(ranged(front).some((r) => r.headers.range === `bytes=5000-${PART - 1}`), 'part 0 went on from byte 5000');
  t.equal(objectGets(front).length, PARTS + 1, 'nothing else was fetched again');
});

t.test('resume after a killed run keeps finished parts: only the missing ones are fetched', async (t) => {
  const { object, front, tempPath, download } = await setup(t);
  // What a killed run leaves: parts 0-3 and 6 on disk, part 4 half, the rest holes; the part list names the finished ones.
  const file = Buffer.alloc(7 * PART);
  for (const i of [0, 1, 2, 3, 6]) object.copy(file, i * PART, i * PART, (i + 1) * PART);
  object.copy(file, 4 * PART, 4 * PART, 4 * PART + 100);
  await writeFile(tempPath, file);
  await writeFile(partListOf(tempPath), JSON.stringify({ etag: `"${md5(object)}"`, total: SIZE, partSize: PART, check: { method: 'etag-md5', expected: md5(object) }, done: [0, 1, 2, 3, 6] }));
  const result = await download({ resumeFrom: file.length });
  t.ok((await readFile(tempPath)).equals(object), 'byte-exact');
  t.equal(result.md5, md5(object), 'checked as a whole: the kept parts were read again');
  const fetched = ranged(front).map((r) => r.headers.range).sort();
  t.same(fetched, [`bytes=${4 * PART}-${5 * PART - 1}`, `bytes=${5 * PART}-${6 * PART - 1}`, `bytes=${7 * PART}-${8 * PART - 1}`, `bytes=${8 * PART}-${SIZE - 1}`].sort(), 'only the missing parts');
  t.equal(objectGets(front).length, 4, 'no whole-object GET, no HEAD');
  t.notOk(await stat(partListOf(tempPath)).catch(() => undefined), 'the part list is gone');
});

t.test('a part list whose object has changed since: the file is fetched again from zero', async (t) => {
  const { object, tempPath, download } = await setup(t);
  await writeFile(tempPath, Buffer.alloc(3 * PART, 7));
  await writeFile(partListOf(tempPath), JSON.stringify({ etag: '"0123456789abcdef0123456789abcdef"', total: SIZE, partSize: PART, check: { method: 'etag-md5', expected: '0123456789abcdef0123456789abcdef' }, done: [0, 1, 2] }));
  const result = await download({ resumeFrom: 3 * PART });
  t.ok((await readFile(tempPath)).equals(object));
  t.equal(result.md5, md5(object));
});

t.test('a torn part list is not trusted: fetched again from zero', async (t) => {
  const { object, tempPath, download } = await setup(t);
  await writeFile(tempPath, Buffer.alloc(3 * PART, 7));
  await writeFile(partListOf(tempPath), '{"etag":"\\"ab');
  const result = await download({ resumeFrom: 3 * PART });
  t.ok((await readFile(tempPath)).equals(object));
  t.equal(result.md5, md5(object));
});

t.test('the s3-download sink: parts share a budget of 2 x numThreads connections, small objects stay whole', async (t) => {
  const dir = t.testdir({});
  const targetDir = path.join(dir, 'backup');
  const s3 = await startS3rver(t, dir);
  const objects = new Map<string, Buffer>([
    ['big-1', randomBytes(SIZE)], ['big-2', randomBytes(SIZE)], ['small-1', randomBytes(50_000)], ['small-2', randomBytes(70_000)],
  ]);
  for (const [id, body] of objects) await s3.put(`calls/${id}`, body);
  const front = await startS3Front(t, s3.endpoint);
  const numThreads = 2;
  const config = configWith({ targetDir, numThreads, s3Bucket: 'recordings', s3Endpoint: front.endpoint, s3ForcePathStyle: true, s3KeyTemplate: 'calls/{mediaId}', s3PartSize: PART, s3PartThreshold: 4 * PART });
  const context = createRunContext({ config, credentials: S3RVER_KEY, openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }) });
  const sink = await s3Download.create({}, context, componentEvents('s3-download'));
  const out = await sink(_([newRecord(recordingWith('rec-1', ['big-1', 'small-1'])), newRecord(recordingWith('rec-2', ['big-2', 'small-2']))])).collect().toPromise(Promise);
  await (await context.store()).close();
  t.same(out.flatMap((r) => r.media.map((m) => m.status)), ['downloaded', 'downloaded', 'downloaded', 'downloaded']);
  const folder = path.join(targetDir, 'Environment/2024/03/05/10');
  for (const [id, body] of objects) t.ok((await readFile(path.join(folder, `${id}.bin`))).equals(body), `${id} byte-exact`);
  t.same((await readdir(folder)).filter((n) => n.startsWith('.')), [], 'no temp file, no part list left');
  const gets = (key: string) => front.requests.filter((r) => r.method === 'GET' && r.key === key);
  t.equal(gets('calls/small-1').length, 1, 'a small object is one GET');
  t.equal(gets('calls/big-1').length, PARTS, 'a big one comes in parts');
  t.ok(front.maxGetsInFlight <= 2 * numThreads, `at most 2 x numThreads GETs at once (${front.maxGetsInFlight})`);
  t.ok(front.maxGetsInFlight > numThreads, `the spare connections were used (${front.maxGetsInFlight} > ${numThreads})`);
});

t.test('a large object hands its transfer slot on after its first part: a small one waiting starts while the parts go on', async (t) => {
  // numThreads 1: one transfer slot and one spare connection. The big object's last ranged
  // GET is held until the small object's GET has reached S3. Had the big object kept its
  // slot until its last part, the small one could not start before it: the hold would
  // run out (10 s) and `smallDuringParts` stay false.
  const dir = t.testdir({});
  const targetDir = path.join(dir, 'backup');
  const s3 = await startS3rver(t, dir);
  const big = randomBytes(SIZE);
  const small = randomBytes(40_000);
  await s3.put('calls/big-1', big);
  await s3.put('calls/small-1', small);
  const front = await startS3Front(t, s3.endpoint);
  let smallArrived!: () => void;
  const smallGet = new Promise<void>((resolve) => (smallArrived = resolve));
  let smallDuringParts = false;
  front.beforeGet = async (key, n) => {
    if (key === 'calls/small-1') smallArrived();
    if (key === 'calls/big-1' && n === PARTS) {
      smallDuringParts = await Promise.race([smallGet.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 10_000, false).unref())]);
    }
  };
  const config = configWith({ targetDir, numThreads: 1, s3Bucket: 'recordings', s3Endpoint: front.endpoint, s3ForcePathStyle: true, s3KeyTemplate: 'calls/{mediaId}', s3PartSize: PART, s3PartThreshold: 4 * PART });
  const context = createRunContext({ config, credentials: S3RVER_KEY, openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }) });
  const sink = await s3Download.create({}, context, componentEvents('s3-download'));
  const out = await sink(_([newRecord(recordingWith('rec-1', ['big-1'])), newRecord(recordingWith('rec-2', ['small-1']))])).collect().toPromise(Promise);
  await (await context.store()).close();
  t.same(out.flatMap((r) => r.media.map((m) => m.status)), ['downloaded', 'downloaded']);
  t.ok(smallDuringParts, "the small object's GET came while the big one's parts were still in flight");
  const folder = path.join(targetDir, 'Environment/2024/03/05/10');
  t.ok((await readFile(path.join(folder, 'big-1.bin'))).equals(big), 'big byte-exact');
  t.ok((await readFile(path.join(folder, 'small-1.bin'))).equals(small), 'small byte-exact');
  t.equal(front.gets('calls/big-1'), PARTS, 'the big one still came in its parts');
  t.ok(front.maxGetsInFlight <= 2, `within the budget of 2 x numThreads (${front.maxGetsInFlight})`);
});

t.test('s3PartSize unset: 64 MiB / numThreads in whole MiB, from 2 to 8 MiB (partSizeFor)', async (t) => {
  const MiB = 1024 * 1024;
  t.same([1, 4, 8, 12, 16, 32, 64].map((n) => partSizeFor(n) / MiB), [8, 8, 8, 5, 4, 2, 2]);
  // Through the sink: a 17 MiB object over an 8 MiB threshold.
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  const object = randomBytes(17 * MiB);
  await s3.put('calls/big-1', object);
  const front = await startS3Front(t, s3.endpoint);
  for (const [numThreads, parts] of [[16, 5], [4, 3]] as const) {
    const targetDir = path.join(dir, `backup-${numThreads}`);
    const config = configWith({ targetDir, numThreads, s3Bucket: 'recordings', s3Endpoint: front.endpoint, s3ForcePathStyle: true, s3KeyTemplate: 'calls/{mediaId}', s3PartThreshold: 8 * MiB });
    const context = createRunContext({ config, credentials: S3RVER_KEY, openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }) });
    const sink = await s3Download.create({}, context, componentEvents('s3-download'));
    const before = front.gets('calls/big-1');
    const out = await sink(_([newRecord(recordingWith('rec-1', ['big-1']))])).collect().toPromise(Promise);
    await (await context.store()).close();
    t.same(out.flatMap((r) => r.media.map((m) => m.status)), ['downloaded']);
    t.ok((await readFile(path.join(targetDir, 'Environment/2024/03/05/10/big-1.bin'))).equals(object), `numThreads ${numThreads}: byte-exact`);
    t.equal(front.gets('calls/big-1') - before, parts, `numThreads ${numThreads}: ${parts} parts of ${partSizeFor(numThreads) / MiB} MiB`);
  }
});

t.test('s3PartThreshold unset: a large object comes in parts from a far store, whole from a near one', async (t) => {
  t.equal(DEFAULT_CONFIG.s3PartThreshold, undefined, 'unset by default');
  // The rule: a wait of 25 ms or more, 5 ms or more of it idle.
  t.notOk(storeIsFar({ ms: 105, idleMs: 0 }), 'a long wait spent working: near (rcbs was busy, not waiting)');
  t.notOk(storeIsFar({ ms: 10, idleMs: 10 }), 'a quick answer: near');
  t.ok(storeIsFar({ ms: 44, idleMs: 9 }), 'a round trip of 40 ms, partly idle: far');

  const MiB = 1024 * 1024;
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  const object = randomBytes(65 * MiB); // just over the 64 MiB default threshold
  await s3.put('calls/big-1', object);
  const front = await startS3Front(t, s3.endpoint);
  const backup = async (label: string) => {
    const targetDir = path.join(dir, label);
    const config = configWith({ targetDir, numThreads: 4, s3Bucket: 'recordings', s3Endpoint: front.endpoint, s3ForcePathStyle: true, s3KeyTemplate: 'calls/{mediaId}' });
    const context = createRunContext({ config, credentials: S3RVER_KEY, openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }) });
    const sink = await s3Download.create({}, context, componentEvents('s3-download'));
    const before = front.gets('calls/big-1');
    const out = await sink(_([newRecord(recordingWith('rec-1', ['big-1']))])).collect().toPromise(Promise);
    await (await context.store()).close();
    t.same(out.flatMap((r) => r.media.map((m) => m.status)), ['downloaded'], `${label}: downloaded`);
    t.ok((await readFile(path.join(targetDir, 'Environment/2024/03/05/10/big-1.bin'))).equals(object), `${label}: byte-exact`);
    return front.gets('calls/big-1') - before;
  };
  // s3rver on this machine answers in a few ms.
  t.equal(await backup('near'), 1, 'near: one GET');
  // 40 ms before each answer, rcbs waiting: a round trip of a real network.
  front.beforeGet = () => new Promise((resolve) => setTimeout(resolve, 40));
  t.equal(await backup('far'), 9, 'far: 9 parts of 8 MiB (numThreads 4)');
  // The same 40 ms, but spent working (a busy machine): not a sign of distance.
  front.beforeGet = async () => {
    const until = performance.now() + 40;
    while (performance.now() < until);
  };
  t.equal(await backup('busy'), 1, 'busy, not far: one GET');
});

t.test('a near judgement is revised: once another object shows the store far, one coming whole is cut into parts, and later ones come in parts', async (t) => {
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  const objects = new Map(['calls/a', 'calls/b', 'calls/c'].map((key) => [key, randomBytes(SIZE)]));
  for (const [key, object] of objects) await s3.put(key, object);
  const front = await startS3Front(t, s3.endpoint);
  // a's whole-object answer stops after 300,000 bytes, its socket open: it is still coming when b answers.
  front.rules.set('calls/a', { stallAfter: 300_000, stallTimes: 1 });
  // Before each object's first answer, 40 ms: spent working (the front runs in this process) for
  // a and c, so their own answers look near; idle for b, a round trip: far.
  front.beforeGet = async (key, n) => {
    if (n > 1) return;
    if (key === 'calls/b') return new Promise((resolve) => setTimeout(resolve, 40));
    const until = performance.now() + 40;
    while (performance.now() < until);
  };
  const client = createS3Client(configWith({ s3ForcePathStyle: true }), S3RVER_KEY, { bucket: s3.bucket, region: 'us-east-1', keyPrefix: '', endpoint: front.endpoint }, { concurrency: 8 });
  t.teardown(() => client.destroy());
  const distance = new StoreDistance();
  const spare = new TransferSlots(3);
  const tempOf = (key: string) => path.join(dir, `.${path.basename(key)}.bin.0123abcd.part`);
  // Without the revision a stays stalled until this, then resumes as one open-ended GET.
  const download = (key: string) => downloadObject({ client, bucket: s3.bucket, key, tempPath: tempOf(key), delayMs: () => 0, stallTimeoutMs: 3000, parts: { size: PART, threshold: PART * 4, distance, spare } });

  const a = download('calls/a');
  for (let waited = 0; ((await stat(tempOf('calls/a')).catch(() => undefined))?.size ?? 0) < 300_000; waited += 10) {
    if (waited > 2000) throw new Error('a never got its first 300,000 bytes');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.notOk(distance.far, 'a was judged near: it comes whole');
  const b = await download('calls/b');
  t.ok(distance.far, 'b showed the store far');
  t.equal(b.parts, PARTS, 'b in parts');
  const resultA = await a;
  t.equal(resultA.parts, PARTS, 'a was cut into parts');
  t.equal(resultA.md5, md5(objects.get('calls/a')!), 'its MD5 covers the whole file in order');
  t.ok((await readFile(tempOf('calls/a'))).equals(objects.get('calls/a')!), 'byte-exact');
  const aGets = front.requests.filter((r) => r.method === 'GET' && r.key === 'calls/a');
  t.notOk(aGets[0]!.headers.range, 'a began as one whole-object GET');
  // Its first part was on disk: kept; the other parts are fetched.
  t.same(aGets.slice(1).map((r) => r.headers.range).sort(), Array.from({ length: PARTS - 1 }, (_, i) => `bytes=${(i + 1) * PART}-${Math.min(SIZE, (i + 2) * PART) - 1}`).sort(), 'then the parts it did not have, by explicit ranges');

  const c = await download('calls/c');
  t.equal(c.parts, PARTS, 'c: its own answer looked near, but the run knows the store is far');
  t.equal(c.md5, md5(objects.get('calls/c')!));
});
