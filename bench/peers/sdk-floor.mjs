// The floor of any Node tool built on @aws-sdk/client-s3 (bench/backup-vs-peers.sh, tool
// "sdk-floor"): GetObject of every object in <work>/sizes.txt, 16 at a time, each body
// piped to a file named like rclone's (<out>/<key without the prefix>). No MD5, no
// fsync, no metadata, no GWS: what rcbs costs beyond this is rcbs's own work.
//   node bench/peers/sdk-floor.mjs <work> <out>    (env: S3_ENDPOINT S3_BUCKET S3_PREFIX, AWS keys)
// Knobs for comparisons: SDK_N (transfers at once, 16), SDK_MD5=1 (hash every chunk, as
// rcbs must), SDK_HANDLER=undici (the SDK over bench/peers/undici-handler.mjs).
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { UndiciHandler } from './undici-handler.mjs';

const [work, out] = process.argv.slice(2);
const { S3_ENDPOINT, S3_BUCKET, S3_PREFIX } = process.env;
const keys = readFileSync(path.join(work, 'sizes.txt'), 'utf8').trim().split('\n').map((line) => line.split(' ')[0]);
const client = new S3Client({ endpoint: S3_ENDPOINT, forcePathStyle: true, region: 'us-east-1', ...(process.env.SDK_HANDLER === 'undici' ? { requestHandler: new UndiciHandler() } : {}) });
let next = 0;
await Promise.all(Array.from({ length: Number(process.env.SDK_N ?? 16) }, async () => {
  while (next < keys.length) {
    const key = keys[next++];
    const file = path.join(out, key.slice(S3_PREFIX.length));
    await mkdir(path.dirname(file), { recursive: true });
    const res = await client.send(new GetObjectCommand({ Bucket: S3_BUCKET, Key: key }));
    if (process.env.SDK_MD5) {
      const md5 = createHash('md5');
      res.Body.on('data', (chunk) => md5.update(chunk));
    }
    await pipeline(res.Body, createWriteStream(file));
  }
}));
