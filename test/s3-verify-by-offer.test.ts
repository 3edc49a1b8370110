// Pins SPEC §5 "the strongest content check the object offers" (issue 12): a file is
// proved by the object's full-object checksum when S3 gives one (asked for with
// x-amz-checksum-mode: ENABLED), else by its ETag only when that is an MD5 (not an
// SSE-KMS or SSE-C object's, not a multipart `…-N` one), else by its size alone.
// Before this, an SSE-KMS object (32-hex ETag that is not its MD5) failed as
// corrupt and was never stored. A byte flipped on the way is caught by every method
// that reads the bytes, by rcbs itself (the SDK does not validate as well: its
// error would not be RCBS_S3_INTEGRITY), and resumed transfers, in the same run or
// from a previous run's partial file, get the same whole-file check.
// Real s3rver behind test/helpers/s3-front.ts (answers like AWS S3), real SDK.

import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configWith } from '../src/config/defaults.js';
import { createS3Client } from '../src/s3/client.js';
import { downloadObject } from '../src/s3/transfer.js';
import { S3RVER_KEY, startFaultProxy, startS3rver } from './helpers/s3rver.js';
import { checksumOf, startS3Front, type ChecksumAlgorithm, type ObjectRule } from './helpers/s3-front.js';

const KEY = 'tenant1/media-1';

async function setup(t: Test, rule: (object: Buffer) => Promise<ObjectRule> | ObjectRule, options: { size?: number; cutAfter?: number } = {}) {
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  const object = randomBytes(options.size ?? 400_000);
  await s3.put(KEY, object);
  const front = await startS3Front(t, s3.endpoint);
  front.rules.set(KEY, await rule(object));
  // A TCP proxy that cuts the first connection mid-body, in front of the front.
  const endpoint = options.cutAfter !== undefined ? (await startFaultProxy(t, front.port, [{ kind: 'cut', afterBodyBytes: options.cutAfter }])).endpoint : front.endpoint;
  const client = createS3Client(configWith({ s3ForcePathStyle: true }), S3RVER_KEY, { bucket: s3.bucket, region: 'us-east-1', keyPrefix: '', endpoint }, { concurrency: 1 });
  t.teardown(() => client.destroy());
  const tempPath = path.join(dir, 'media-1.bin.part');
  const download = (extra: { resumeFrom?: number } = {}) => downloadObject({ client, bucket: s3.bucket, key: KEY, tempPath, delayMs: () => 0, ...extra });
  return { object, front, tempPath, download };
}

const full = (algorithm: ChecksumAlgorithm) => async (object: Buffer): Promise<ObjectRule> => ({ sse: 'aws:kms', checksum: { algorithm, value: await checksumOf(algorithm, object) } });

t.test('each kind of object is proved by what it offers, and the file is byte-exact', async (t) => {
  const cases: Array<[string, (object: Buffer) => Promise<ObjectRule> | ObjectRule, string]> = [
    ['plain object (ETag = MD5)', () => ({}), 'etag-md5'],
    ['SSE-KMS, no checksum: ETag is not the MD5', () => ({ sse: 'aws:kms' }), 'size'],
    ['SSE-KMS DSSE, no checksum', () => ({ sse: 'aws:kms:dsse' }), 'size'],
    ['SSE-C, no checksum', () => ({ sse: 'sse-c' }), 'size'],
    ['multipart ETag …-N', () => ({ multipartParts: 3 }), 'size'],
    ['SSE-KMS with CRC64NVME (S3 default since 2025)', full('crc64nvme'), 'crc64nvme'],
    ['SSE-KMS with CRC32C', full('crc32c'), 'crc32c'],
    ['SSE-KMS with CRC32', full('crc32'), 'crc32'],
    ['SSE-KMS with SHA-1', full('sha1'), 'sha1'],
    ['SSE-KMS with SHA-256', full('sha256'), 'sha256'],
    ['multipart with a composite SHA-256 …-3: never used', () => ({ multipartParts: 3, checksum: { algorithm: 'sha256', value: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=-3' } }), 'size'],
    ['plain ETag but a COMPOSITE CRC32 without -N (Range bytes=0- form): ETag MD5 used', () => ({ checksum: { algorithm: 'crc32', value: 'AAAAAA==', type: 'COMPOSITE' } }), 'etag-md5'],
  ];
  for (const [name, rule, method] of cases) {
    await t.test(name, async (t) => {
      const { object, front, tempPath, download } = await setup(t, rule);
      const result = await download();
      t.equal(result.verifiedBy, method);
      t.ok((await readFile(tempPath)).equals(object), 'byte-exact');
      if (method.startsWith('crc') || method.startsWith('sha')) t.equal(result.checksum, front.rules.get(KEY)!.checksum!.value, 'the checksum is returned for the index');
      t.match(front.requests[0]!.headers, { 'x-amz-checksum-mode': 'ENABLED' }, 'checksums were asked for');
      t.equal(front.requests.length, 1, 'one GET, no HEAD');
    });
  }
});

t.test('a flipped byte is caught by rcbs for every method that reads the bytes, and never accepted', async (t) => {
  const methods: Array<[string, (object: Buffer) => Promise<ObjectRule> | ObjectRule, RegExp]> = [
    ['etag-md5', () => ({}), /MD5 .* but the ETag says/],
    ['crc64nvme', full('crc64nvme'), /CRC64NVME .* but S3 says/],
    ['crc32c', full('crc32c'), /CRC32C .* but S3 says/],
    ['crc32', full('crc32'), /CRC32 .* but S3 says/],
    ['sha1', full('sha1'), /SHA1 .* but S3 says/],
    ['sha256', full('sha256'), /SHA256 .* but S3 says/],
  ];
  for (const [method, rule, message] of methods) {
    await t.test(method, async (t) => {
      const { front, download } = await setup(t, async (object) => ({ ...(await rule(object)), flipByte: 300_001 }));
      // RCBS_S3_INTEGRITY with rcbs's message: had the SDK validated the checksum too, its
      // plain "Checksum mismatch" Error would have come first, as a transfer failure.
      await t.rejects(download(), { code: 'RCBS_S3_INTEGRITY', message });
      t.equal(front.gets(KEY), 2, 'retried once from zero, then given up');
    });
  }
});

t.test('a transfer cut mid-body and resumed by Range is still checked whole against the checksum of the first answer', async (t) => {
  const { object, front, tempPath, download } = await setup(t, full('crc64nvme'), { size: 3 * 1024 * 1024, cutAfter: 1_000_000 });
  const result = await download();
  t.equal(result.resumes, 1, 'resumed once');
  t.equal(result.verifiedBy, 'crc64nvme', 'the ranged answer carries no checksum; the first answer\'s is kept');
  t.ok((await readFile(tempPath)).equals(object));
  t.match(front.requests[1]!.headers.range, /^bytes=\d+-$/);
  t.equal(front.requests[1]!.headers['if-match'], result.etag, 'guarded by the ETag');
});

t.test('a partial file from an earlier run of an SSE-KMS object: a HEAD gives the checksum, the rest is fetched by Range', async (t) => {
  const { object, front, tempPath, download } = await setup(t, full('crc64nvme'));
  await writeFile(tempPath, object.subarray(0, 150_000));
  const result = await download({ resumeFrom: 150_000 });
  t.equal(result.verifiedBy, 'crc64nvme');
  t.ok((await readFile(tempPath)).equals(object), 'byte-exact');
  t.same(front.requests.map((r) => [r.method, r.headers.range]), [['GET', 'bytes=150000-'], ['HEAD', undefined]], 'the rest by Range, one HEAD, nothing from zero');
});

t.test('a damaged partial file from an earlier run is caught by the checksum and fetched again from zero', async (t) => {
  const { object, front, tempPath, download } = await setup(t, full('crc32c'));
  const damaged = Buffer.from(object.subarray(0, 150_000));
  damaged[10] = damaged[10]! ^ 0xff;
  await writeFile(tempPath, damaged);
  const result = await download({ resumeFrom: 150_000 });
  t.equal(result.verifiedBy, 'crc32c');
  t.ok((await readFile(tempPath)).equals(object), 'byte-exact after the retry from zero');
  t.equal(front.requests.at(-1)!.headers.range, undefined, 'the last GET was from zero');
});

t.test('a partial file from an earlier run of a size-only object cannot be proved: fetched again from zero', async (t) => {
  const { object, front, tempPath, download } = await setup(t, () => ({ sse: 'aws:kms' }));
  await writeFile(tempPath, object.subarray(0, 150_000));
  const result = await download({ resumeFrom: 150_000 });
  t.equal(result.verifiedBy, 'size');
  t.ok((await readFile(tempPath)).equals(object));
  t.equal(front.requests.at(-1)!.headers.range, undefined);
});
