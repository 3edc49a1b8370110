// Pins SPEC §5 "an interrupted transfer resumes with a Range request guarded by the
// ETag": a connection cut mid-body is continued with `Range: bytes=<written>-`
// from what is already in the temp file (not fetched again from zero), the file
// ends byte-identical to the S3 object, and its MD5 covers the whole file. A
// resumed response whose ETag differs means the object changed: start from zero.
// Real s3rver, a real TCP proxy that cuts the connection, a real temp file.

import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configWith } from '../src/config/defaults.js';
import { createS3Client } from '../src/s3/client.js';
import { downloadObject } from '../src/s3/transfer.js';
import { createLogger } from '../src/log.js';
import { S3RVER_KEY, startFaultProxy, startS3rver } from './helpers/s3rver.js';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

async function setup(t: Test, faults: Parameters<typeof startFaultProxy>[2], size?: number, beforeConnection?: Parameters<typeof startFaultProxy>[3]) {
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  const object = randomBytes(size ?? 3 * 1024 * 1024);
  await s3.put('tenant1/media-1', object);
  const proxy = await startFaultProxy(t, s3.port, faults, beforeConnection);
  const config = configWith({ s3Endpoint: proxy.endpoint, s3ForcePathStyle: true });
  const client = createS3Client(config, S3RVER_KEY, { bucket: s3.bucket, region: 'us-east-1', keyPrefix: '', endpoint: proxy.endpoint }, { concurrency: 1 });
  t.teardown(() => client.destroy());
  return { s3, object, proxy, client, tempPath: path.join(dir, 'media-1.bin.tmp') };
}

/** The k of `bytes=k-`, or NaN. */
const rangeStart = (range: string | undefined) => Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1]);

// Bytes the client had received but not yet written when the socket died are lost
// with the socket (Node drops a destroyed response's buffer), so k is "what reached
// the file", a little below the cut point; never zero, never past it.
const LOST_IN_FLIGHT = 512 * 1024;

t.test('a body cut after N bytes resumes with Range: bytes=k- (k = bytes on disk) and re-sends only the rest', async (t) => {
  const cut = 1_000_000;
  const { s3, object, proxy, client, tempPath } = await setup(t, [{ kind: 'cut', afterBodyBytes: cut }]);
  const result = await downloadObject({ client, bucket: s3.bucket, key: 'tenant1/media-1', tempPath, delayMs: () => 0 });

  t.ok((await readFile(tempPath)).equals(object), 'file is byte-identical to the object');
  t.equal(result.bytes, object.length);
  t.equal(result.md5, md5(object), 'MD5 covers the whole file, not just the resumed part');
  t.equal(result.verifiedBy, 'etag-md5');
  t.equal(result.resumes, 1);
  t.equal(proxy.requests.length, 2, 'one cut request, one resumed request');
  t.equal(proxy.requests[0]!.range, undefined, 'the first request asks for the whole object');
  const k = rangeStart(proxy.requests[1]!.range);
  t.ok(k > cut - LOST_IN_FLIGHT && k <= cut, `the second request continues at byte ${k} (cut at ${cut})`);
  t.match(proxy.requests[1]!.head, /^if-match:/im, 'the resumed request carries If-Match for real S3');
  const resent = proxy.requests[1]!.bytesToClient;
  t.ok(resent >= object.length - k && resent < object.length - k + 2048, `re-sent ${resent} bytes ≈ total − k = ${object.length - k} (plus a response head)`);
});

t.test('a reset (RST) mid-body also resumes and ends byte-identical', async (t) => {
  const k = 700_000;
  const { s3, object, proxy, client, tempPath } = await setup(t, [{ kind: 'cut', afterBodyBytes: k, how: 'reset' }]);
  const result = await downloadObject({ client, bucket: s3.bucket, key: 'tenant1/media-1', tempPath, delayMs: () => 0 });
  t.ok((await readFile(tempPath)).equals(object));
  t.equal(result.md5, md5(object));
  const start = rangeStart(proxy.requests[1]?.range);
  t.ok(start > 0 && start <= k, `resumed at ${start}, within what was sent before the reset`);
});

t.test('two cuts in a row resume twice', async (t) => {
  const { s3, object, proxy, client, tempPath } = await setup(t, [
    { kind: 'cut', afterBodyBytes: 500_000 },
    { kind: 'cut', afterBodyBytes: 600_000 },
  ]);
  const result = await downloadObject({ client, bucket: s3.bucket, key: 'tenant1/media-1', tempPath, delayMs: () => 0 });
  t.ok((await readFile(tempPath)).equals(object));
  t.equal(result.resumes, 2);
  t.equal(proxy.requests.length, 3);
  t.equal(proxy.requests[0]!.range, undefined);
  const first = rangeStart(proxy.requests[1]!.range);
  const second = rangeStart(proxy.requests[2]!.range);
  t.ok(first > 0 && first <= 500_000, `first resume at ${first}`);
  t.ok(second > first && second <= first + 600_000, `second resume at ${second}, further on`);
});

t.test('an object replaced between the cut and the resume is downloaded again from zero', async (t) => {
  const replacement = randomBytes(2 * 1024 * 1024);
  let put: ((key: string, body: Buffer) => Promise<void>) | undefined;
  const { s3, proxy, client, tempPath } = await setup(t, [{ kind: 'cut', afterBodyBytes: 400_000 }], undefined, async (index) => {
    // The object is replaced after the cut, before the resumed request reaches S3.
    if (index === 1) await put!('tenant1/media-1', replacement);
  });
  put = s3.put;
  const result = await downloadObject({ client, bucket: s3.bucket, key: 'tenant1/media-1', tempPath, delayMs: () => 0 });
  t.ok((await readFile(tempPath)).equals(replacement), 'the file is the new object, not a splice of old and new');
  t.equal(result.md5, md5(replacement));
  t.ok(rangeStart(proxy.requests[1]!.range) > 0, 'the resume was tried');
  t.equal(proxy.requests[2]?.range, undefined, 'the ETag mismatch led to a request from zero');
});

// A run killed between the last byte and the rename leaves a temp file as long as the
// object. Resuming it asks for `bytes=<size>-`, which S3 answers with 416. That is not
// "the object changed": a HEAD shows whether the file is the object (length and the
// ETag's MD5), and then not one byte is fetched again.
async function resumeWholeLength(t: Test, partial: (object: Buffer) => Buffer) {
  const { s3, object, proxy, client, tempPath } = await setup(t, [], 300_000);
  await writeFile(tempPath, partial(object));
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', write: (line) => void lines.push(line) });
  const result = await downloadObject({ client, bucket: s3.bucket, key: 'tenant1/media-1', tempPath, resumeFrom: object.length, delayMs: () => 0, log });
  t.ok((await readFile(tempPath)).equals(object), 'the file is the object');
  t.equal(result.bytes, object.length);
  t.equal(result.md5, md5(object));
  t.equal(result.verifiedBy, 'etag-md5');
  t.equal(proxy.requests[0]!.range, `bytes=${object.length}-`, 'the resume asked for what follows the partial file');
  t.notOk(lines.some((line) => /warn|changed/.test(line)), `no warning that the object changed:\n${lines.join('\n')}`);
  return { object, proxy, lines };
}

t.test('a partial file from an earlier run that is already whole is kept, not fetched again', async (t) => {
  const { object, proxy, lines } = await resumeWholeLength(t, (object) => object);
  const relayed = proxy.requests.reduce((sum, r) => sum + r.bytesToClient, 0);
  t.ok(relayed < 4096, `only a 416 and a HEAD answer crossed the wire (${relayed} bytes for a ${object.length}-byte object)`);
  t.ok(lines.some((line) => /already the whole object; kept/.test(line)), 'the log says why nothing was fetched');
});

t.test('a partial file as long as the object but with other bytes is downloaded again from zero', async (t) => {
  const { object, proxy, lines } = await resumeWholeLength(t, (object) => {
    const damaged = Buffer.from(object);
    damaged[1234] = damaged[1234]! ^ 0xff;
    return damaged;
  });
  const relayed = proxy.requests.reduce((sum, r) => sum + r.bytesToClient, 0);
  t.ok(relayed > object.length, `the object was fetched again (${relayed} bytes relayed)`);
  t.ok(lines.some((line) => /rcbs info: partial file from an earlier run is not shorter than the object and not the object itself; downloading from zero/.test(line)), 'the log says so, as info');
});

// The wait before a resume is timers/promises' setTimeout with the run's signal: Ctrl-C
// ends it at once with RCBS_ABORTED instead of sleeping out the backoff.
t.test('an abort during the wait before a resume ends the download at once', async (t) => {
  const { s3, client, tempPath } = await setup(t, [{ kind: 'cut', afterBodyBytes: 500_000 }]);
  const controller = new AbortController();
  const started = performance.now();
  await t.rejects(
    downloadObject({
      client, bucket: s3.bucket, key: 'tenant1/media-1', tempPath, signal: controller.signal,
      delayMs: () => {
        setImmediate(() => controller.abort()); // once the 60 s wait has begun
        return 60_000;
      },
    }),
    { code: 'RCBS_ABORTED' },
  );
  t.ok(performance.now() - started < 5000, 'not the 60 s wait');
});
