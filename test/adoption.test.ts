// Pins adoption (SPEC §5, issue 13): a targetDir filled by the original tool (media
// and JSON at their final paths, no .rcbs/) is not downloaded again. Each file found
// without an index entry is checked against its object (one HEAD, then a local digest)
// and adopted into the index; a file of the right size with a flipped byte is not
// adopted but downloaded again; the summary and the run report count "adopted"; the
// next run skips everything; verify passes. An object that offers only its size
// (SSE-KMS, no checksum) cannot prove a file, so it is fetched, never adopted.
// Real CLI, real sandbox, S3 requests counted by a proxy; s3-front plays real S3.

import t from 'tap';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { adoptIfSame } from '../src/s3/adopt.js';
import { withSandbox } from './helpers/sandbox-run.js';
import { startS3Front } from './helpers/s3-front.js';
import { startS3rver, S3RVER_KEY } from './helpers/s3rver.js';
import { wantedMedia } from './helpers/backup-state.js';
import fg from 'fast-glob';

t.test('a backup without .rcbs/ is adopted file by file; a corrupted file of the right size is fetched again', async (t) => {
  const run = await withSandbox(t, { sandbox: { recordings: 6, seed: 51, oddities: false } });
  const first = await run.run(['-config', run.configPath]);
  t.equal(first.code, 0, first.stderr.slice(-800));
  const wanted = [...wantedMedia(run.sandbox).keys()];
  t.ok(wanted.length >= 4, `${wanted.length} media files`);

  // As the original tool would have left it: the files, no state.
  rmSync(path.join(run.targetDir, '.rcbs'), { recursive: true });
  const [damagedPath] = await fg(`**/${wanted[0]}.bin`, { cwd: run.targetDir, absolute: true });
  const original = readFileSync(damagedPath!);
  const bytes = Buffer.from(original);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(damagedPath!, bytes);

  const before = run.s3Requests().length;
  const second = await run.run(['-config', run.configPath]);
  t.equal(second.code, 0, second.stderr.slice(-1500));
  const requests = run.s3Requests().slice(before);
  const gets = requests.filter((r) => r.method === 'GET' && r.key.includes(wanted[0]!));
  t.equal(gets.length, 1, 'the corrupted file is downloaded again');
  t.equal(requests.filter((r) => r.method === 'GET' && r.key !== '').length, 1, 'and nothing else is downloaded');
  t.equal(requests.filter((r) => r.method === 'HEAD').length, wanted.length, 'one HEAD per file found without an index entry');
  t.match(second.stderr, new RegExp(`adopted\\s+${wanted.length - 1} files`));
  t.match(second.stderr, /not adopted: downloading it again/);
  t.ok(readFileSync(damagedPath!).equals(original), 'the file is the object again');
  const runs = path.join(run.targetDir, '.rcbs', 'runs');
  const report = JSON.parse(readFileSync(path.join(runs, readdirSync(runs).sort().at(-1)!), 'utf8'));
  t.match(report.totals, { adopted: wanted.length - 1, downloaded: 1, failed: 0 });

  const third = await run.run(['-config', run.configPath]);
  t.equal(third.code, 0);
  t.equal(run.s3Requests().slice(before + requests.length).filter((r) => r.method === 'GET' || r.method === 'HEAD').filter((r) => r.key !== '').length, 0, 'the next run asks S3 for nothing');
  const verify = await run.run(['verify', '--config', run.configPath]);
  t.equal(verify.code, 0, verify.stderr.slice(-800));
});

t.test('an object that offers only its size is never adopted; a checksum is used when offered', async (t) => {
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  const front = await startS3Front(t, s3.endpoint);
  const body = Buffer.from('the recording, encrypted');
  await s3.put('kms', body);
  await s3.put('plain', body);
  const file = path.join(dir, 'on-disk.bin');
  writeFileSync(file, body);
  front.rules.set('kms', { sse: 'aws:kms' });
  const client = new S3Client({ endpoint: front.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3RVER_KEY.awsAccessKeyId, secretAccessKey: S3RVER_KEY.awsSecretAccessKey } });
  t.teardown(() => client.destroy());

  t.match(await adoptIfSame(client, { bucket: 'recordings', key: 'kms' }, file), { adopted: false, reason: /no checksum and no MD5 ETag/ });
  t.match(await adoptIfSame(client, { bucket: 'recordings', key: 'plain' }, file), { adopted: true, verifiedBy: 'etag-md5', bytes: body.length });
  writeFileSync(file, Buffer.from('the recording, encrypteD'));
  t.match(await adoptIfSame(client, { bucket: 'recordings', key: 'plain' }, file), { adopted: false, reason: /differ/ });
  t.match(await adoptIfSame(client, { bucket: 'recordings', key: 'missing' }, file), { adopted: false, reason: /HEAD failed/ });
});
