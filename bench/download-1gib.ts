// Bench (run by hand, not in the suite): one 1 GiB object from @20minutes/s3rver
// downloaded by the s3-download sink, to show memory stays flat whatever the size.
//   serve <dir>      starts s3rver with a 1 GiB random object, prints READY <port>, runs until killed
//   download <port> <targetDir>   runs the sink once against it and prints bytes and MiB/s
// bench/download-1gib.sh runs both and measures the download process with /usr/bin/time -v.

import { createReadStream, createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import _ from 'highland';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no typings
import S3rver from '@20minutes/s3rver';
import { configWith } from '../src/config/defaults.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { newRecord } from '../src/pipeline/types.js';
import { silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import { createS3Download } from '../src/sinks/s3-download.js';

// SIZE_MIB: another size for quicker runs (bench/download-1gib.sh WAN=1 uses 256).
const SIZE = Number(process.env.SIZE_MIB ?? 1024) * 1024 * 1024;
const KEY = { awsAccessKeyId: 'S3RVER', awsSecretAccessKey: 'S3RVER' };
const recording = {
  id: 'bench-rec',
  startTime: '2024-03-05T10:20:30.000+0000',
  mediaFiles: [{ mediaId: 'bench-1gib', type: 'audio/mp3', tenant: 'Bench', startTime: '2024-03-05T10:20:30.000+0000' }],
};

async function serve(dir: string) {
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(dir, 's3rver'), configureBuckets: [{ name: 'recordings' }] });
  const { port } = (await server.run()) as { port: number };
  const source = path.join(dir, 'object.bin');
  const out = createWriteStream(source);
  for (let written = 0; written < SIZE; written += 1 << 20) {
    if (!out.write(randomBytes(1 << 20))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const client = new S3Client({
    region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: KEY.awsAccessKeyId, secretAccessKey: KEY.awsSecretAccessKey },
  });
  await client.send(new PutObjectCommand({ Bucket: 'recordings', Key: 'bench-1gib', Body: createReadStream(source), ContentLength: SIZE }));
  process.stdout.write(`READY ${port}\n`);
}

async function download(port: string, targetDir: string) {
  // PART_THRESHOLD / PART_SIZE (bytes): s3PartThreshold / s3PartSize, for A/B runs (0 = one GET).
  const parts = {
    ...(process.env.PART_THRESHOLD ? { s3PartThreshold: Number(process.env.PART_THRESHOLD) } : {}),
    ...(process.env.PART_SIZE ? { s3PartSize: Number(process.env.PART_SIZE) } : {}),
  };
  const config = configWith({ targetDir, s3Bucket: 'recordings', s3Endpoint: `http://127.0.0.1:${port}`, s3ForcePathStyle: true, ...parts });
  const context = createRunContext({ config, credentials: KEY, openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }) });
  const started = process.hrtime.bigint();
  const sink = await createS3Download({}, context, componentEvents('s3-download'));
  const [record] = await sink(_([newRecord(recording)])).collect().toPromise(Promise);
  await (await context.store()).close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const media = record!.media[0]!;
  if (media.status !== 'downloaded') throw new Error(`download failed: ${JSON.stringify(media)}`);
  process.stdout.write(`downloaded ${media.bytes} bytes in ${seconds.toFixed(1)} s (${((media.bytes ?? 0) / 1048576 / seconds).toFixed(0)} MiB/s) to ${media.path}\n`);
}

const [mode, a, b] = process.argv.slice(2);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
if (mode === 'serve') await serve(a!);
else if (mode === 'download') await download(a!, b!);
else throw new Error('usage: download-1gib.ts serve <dir> | download <port> <targetDir>');
