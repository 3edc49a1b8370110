// Pins issue 12's "done when" through the CLI: a backup of a bucket that mixes plain,
// SSE-KMS, SSE-C, multipart and CRC64NVME/CRC32C objects (as AWS S3 answers them,
// played by test/helpers/s3-front.ts in front of the sandbox's s3rver) is complete and
// byte-exact; each media file's check method is in the index and the summary counts
// them ("checked by"); a byte flipped on the way is never stored under its final name;
// `rcbs verify` re-checks each file with its method (the object's checksum again) and
// shows the methods; an index line written before methods were recorded still verifies.

import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startSandbox } from '../src/sandbox/index.js';
import { runCli } from './helpers/cli.js';
import { backupState, sandboxBackup, wantedMedia } from './helpers/backup-state.js';
import { checksumOf, startS3Front, type ObjectRule } from './helpers/s3-front.js';

t.test('a mixed real-S3 bucket backs up complete and byte-exact, each file proved by what it offers', async (t) => {
  const sandbox = await startSandbox({ recordings: 8, oddities: false, seed: 23, maxSegments: 1, mediaSize: { min: 20_000, max: 40_000 } });
  t.teardown(() => sandbox.close());
  const media = [...wantedMedia(sandbox).keys()];
  t.ok(media.length >= 7, `${media.length} media`);
  const key = (mediaId: string) => sandbox.media(mediaId)!.key;
  const reader = new S3Client({ region: sandbox.s3Region, endpoint: sandbox.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: sandbox.credentials.awsAccessKeyId, secretAccessKey: sandbox.credentials.awsSecretAccessKey } });
  t.teardown(() => reader.destroy());
  const bytesOf = async (mediaId: string) => Buffer.from(await (await reader.send(new GetObjectCommand({ Bucket: sandbox.bucket, Key: key(mediaId) }))).Body!.transformToByteArray());

  const front = await startS3Front(t, sandbox.s3Endpoint);
  const plan: Array<[string, ObjectRule, string]> = [
    [media[0]!, {}, 'etag-md5'],
    [media[1]!, { sse: 'aws:kms' }, 'size'],
    [media[2]!, { sse: 'sse-c' }, 'size'],
    [media[3]!, { multipartParts: 4 }, 'size'],
    [media[4]!, { sse: 'aws:kms', checksum: { algorithm: 'crc64nvme', value: await checksumOf('crc64nvme', await bytesOf(media[4]!)) } }, 'crc64nvme'],
    [media[5]!, { multipartParts: 2, checksum: { algorithm: 'crc32c', value: await checksumOf('crc32c', await bytesOf(media[5]!)) } }, 'crc32c'],
  ];
  for (const [mediaId, rule] of plan) front.rules.set(key(mediaId), rule);
  // Corrupted on the way every time: never stored.
  const flipped = media[6]!;
  front.rules.set(key(flipped), { sse: 'aws:kms', checksum: { algorithm: 'crc64nvme', value: await checksumOf('crc64nvme', await bytesOf(flipped)) }, flipByte: 777 });

  const { targetDir, config, env } = sandboxBackup(t.testdir(), sandbox, {}, (text) => text.replace(/^s3Endpoint = .*$/m, `s3Endpoint = ${front.endpoint}`));
  const first = await runCli(['-config', config], { env });
  t.equal(first.code, 1, `the corrupted media fails: exit 1\n${first.stderr.slice(-2000)}`);
  t.match(first.stderr, /RCBS_S3_INTEGRITY[^\n]*CRC64NVME/, 'caught by the CRC64NVME check');
  const state = backupState(targetDir, sandbox);
  t.same(state.problems, [], 'nothing corrupt under a final name');
  t.same(state.missing, [flipped], 'only the corrupted media is missing');
  t.same(state.temps, []);

  const index = (await readFile(path.join(targetDir, '.rcbs', 'index.ndjson'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const [mediaId, rule, method] of plan) {
    const entry = index.find((e) => e.mediaId === mediaId);
    t.equal(entry?.verifiedBy, method, `${mediaId}: indexed as checked by ${method}`);
    if (rule.checksum) t.equal(entry?.checksum, rule.checksum.value, 'with the object\'s checksum');
  }
  t.match(first.stderr, /checked by\s+[^\n]*crc32c 1[^\n]*crc64nvme 1[^\n]*etag-md5 \d+[^\n]*size 3/, 'the summary counts files per method');

  front.rules.delete(key(flipped));
  const rerun = await runCli(['-config', config], { env });
  t.equal(rerun.code, 0, rerun.stderr.slice(-1500));
  const final = backupState(targetDir, sandbox);
  t.same(final.problems, []);
  t.ok(final.complete, 'complete, byte-exact set');

  const verify = await runCli(['verify', '--config', config], { env });
  t.equal(verify.code, 0, verify.stderr.slice(-1500));
  t.match(verify.stderr, /checked by\s+[^\n]*crc32c 1[^\n]*crc64nvme 1[^\n]*size 3/, 'verify shows the methods');

  // An index line from before methods were recorded: verified by its MD5, shown as md5.
  const indexPath = path.join(targetDir, '.rcbs', 'index.ndjson');
  const lines = (await readFile(indexPath, 'utf8')).trim().split('\n').map((line) => {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.mediaId === media[4]) {
      delete entry.verifiedBy;
      delete entry.checksum;
    }
    return JSON.stringify(entry);
  });
  await writeFile(indexPath, lines.join('\n') + '\n');
  const old = await runCli(['verify', '--config', config], { env });
  t.equal(old.code, 0, old.stderr.slice(-1500));
  t.match(old.stderr, /checked by\s+[^\n]*md5 1/, 'an older index line verifies by its MD5');
  t.notMatch(old.stderr, /crc64nvme/);
});
