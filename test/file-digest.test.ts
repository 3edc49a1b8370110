// Pins the off-thread digests (src/s3/file-digest.ts) that prove a download
// against its ETag or checksum: the worker's values equal Node's own digests of
// the same bytes for every kind, whatever the chunking; reset() starts over after
// a truncate; a file shorter than announced is an RCBS_S3_INTEGRITY error, never
// a digest of fewer bytes; many files at once do not mix.

import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { open, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { FileDigest } from '../src/s3/file-digest.js';

const crc32 = (data: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(data) >>> 0);
  return out.toString('base64');
};
const expected = (data: Buffer) => [
  createHash('md5').update(data).digest('hex'),
  createHash('sha256').update(data).digest('base64'),
  createHash('sha1').update(data).digest('base64'),
  crc32(data),
];

t.test('every kind equals Node’s digest of the same bytes, fed in uneven steps', async (t) => {
  const dir = t.testdir();
  const data = randomBytes(3 * 1024 * 1024 + 11);
  const file = path.join(dir, 'f');
  await writeFile(file, '');
  const handle = await open(file, 'r+');
  t.teardown(() => handle.close());
  const digest = new FileDigest(handle.fd, ['md5', 'sha256', 'sha1', 'crc32']);
  let written = 0;
  for (const step of [1, 65_536, 7, 1_048_576, 2_000_000, 10_000_000]) {
    const end = Math.min(data.length, written + step);
    await appendFile(file, data.subarray(written, end));
    written = end;
    digest.upTo(written);
    t.same(await digest.values(), expected(data.subarray(0, written)), `after ${written} bytes`);
  }
  t.equal(written, data.length);
  await digest.release();
});

t.test('reset after a truncate starts from byte 0, with the new kinds', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'f');
  const first = randomBytes(100_000);
  const second = randomBytes(50_000);
  await writeFile(file, first);
  const handle = await open(file, 'r+');
  t.teardown(() => handle.close());
  const digest = new FileDigest(handle.fd, ['md5']);
  digest.upTo(first.length);
  await handle.truncate(0);
  digest.reset(['md5', 'crc32']);
  await handle.write(second, 0, second.length, 0);
  digest.upTo(second.length);
  const [md5, crc] = await digest.values();
  t.equal(md5, createHash('md5').update(second).digest('hex'));
  t.equal(crc, crc32(second));
  await digest.release();
});

t.test('a file shorter than upTo says so instead of digesting fewer bytes', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'f');
  await writeFile(file, randomBytes(1000));
  const handle = await open(file, 'r');
  t.teardown(() => handle.close());
  const digest = new FileDigest(handle.fd, ['md5']);
  digest.upTo(5000);
  await t.rejects(digest.values(), { code: 'RCBS_S3_INTEGRITY', message: /ends at byte 1000, before byte 5000/ });
  await digest.release();
});

t.test('forty files hashed at once keep their own bytes', async (t) => {
  const dir = t.testdir();
  const files = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    const data = randomBytes(20_000 + i * 997);
    const name = path.join(dir, `f${i}`);
    await writeFile(name, data);
    const handle = await open(name, 'r');
    return { data, handle, digest: new FileDigest(handle.fd, ['md5']) };
  }));
  for (const f of files) f.digest.upTo(f.data.length);
  const values = await Promise.all(files.map((f) => f.digest.values()));
  t.same(values.map((v) => v[0]), files.map((f) => createHash('md5').update(f.data).digest('hex')));
  for (const f of files) {
    await f.digest.release();
    await f.handle.close();
  }
});
