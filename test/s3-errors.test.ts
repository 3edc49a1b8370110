// Pins how S3 failures reach the operator (SPEC §2 exit codes, §3 credentials):
// a missing object (404) or a refused signature (403) fails only that media file,
// with a coded error naming s3://bucket/key and never the secret, while the other
// files still download; a 503 SlowDown is retried (not a failure); and no AWS
// credentials at all is one RCBS_S3_CREDENTIALS config error (exit 2) before any
// transfer. Real s3rver (it verifies SigV4), a real proxy answering 503.

import t from 'tap';
import _ from 'highland';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { configWith } from '../src/config/defaults.js';
import type { Credentials } from '../src/config/types.js';
import { RcbsError } from '../src/errors.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents, tallyRun } from '../src/pipeline/outcome.js';
import { newRecord, type PipelineRecord } from '../src/pipeline/types.js';
import { silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import { createS3Download } from '../src/sinks/s3-download.js';
import { recordingWith, S3RVER_KEY, startFaultProxy, startS3rver } from './helpers/s3rver.js';

const DIR = 'Environment/2024/03/05/10';

async function run(records: PipelineRecord[], endpoint: string, targetDir: string, credentials: Credentials = S3RVER_KEY) {
  const config = configWith({ targetDir, s3Bucket: 'recordings', s3Endpoint: endpoint, s3ForcePathStyle: true });
  const context = createRunContext({
    config,
    credentials,
    openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }),
  });
  const self = componentEvents('s3-download');
  const sink = await createS3Download({}, context, self, { delayMs: () => 1 });
  const out = await sink(_(records)).collect().toPromise(Promise);
  await (await context.store()).close();
  return { out, context, self };
}

t.test('404: that media file fails with RCBS_S3_NOT_FOUND naming the object; the others download', async (t) => {
  const dir = t.testdir({});
  const targetDir = path.join(dir, 'backup');
  const s3 = await startS3rver(t, dir);
  await s3.put('m-1', 'first');
  await s3.put('m-3', 'third');
  const { out, self } = await run(
    [newRecord(recordingWith('rec-1', ['m-1', 'm-2'])), newRecord(recordingWith('rec-2', ['m-3']))],
    s3.endpoint, targetDir,
  );
  const rec1 = out.find((r) => r.recording.id === 'rec-1')!;
  t.equal(rec1.status, 'failed');
  t.equal(rec1.media[0]!.status, 'downloaded');
  t.match(rec1.media[1], { mediaId: 'm-2', status: 'failed', error: { code: 'RCBS_S3_NOT_FOUND', message: /s3:\/\/recordings\/m-2 does not exist/ } });
  t.equal(out.find((r) => r.recording.id === 'rec-2')!.media[0]!.status, 'downloaded');
  const totals = tallyRun(out, [self]);
  t.same(totals.failures, [{ component: 's3-download', recordingId: 'rec-1', mediaId: 'm-2', code: 'RCBS_S3_NOT_FOUND', message: rec1.media[1]!.error!.message }]);
  t.equal(totals.failed, 1);
  t.equal(totals.downloaded, 2);
  t.same((await readdir(path.join(targetDir, DIR))).sort(), ['m-1.bin', 'm-3.bin'], 'no file, final or temp, for the missing object');
});

t.test('403 (wrong secret, refused by SigV4): coded per-media failure, secret never in the message', async (t) => {
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  await s3.put('m-1', 'first');
  const secret = 'not-the-S3RVER-secret-0123456789';
  const { out } = await run([newRecord(recordingWith('rec-1', ['m-1']))], s3.endpoint, path.join(dir, 'backup'),
    { awsAccessKeyId: 'S3RVER', awsSecretAccessKey: secret });
  const media = out[0]!.media[0]!;
  t.match(media, { status: 'failed', error: { code: 'RCBS_S3_FORBIDDEN', message: /S3 refused access to s3:\/\/recordings\/m-1 \(HTTP 403 SignatureDoesNotMatch\)/ } });
  t.notMatch(JSON.stringify(out) + JSON.stringify(tallyRun(out)), secret, 'the secret appears nowhere in the outcome');
});

t.test('503 SlowDown is retried, then the file downloads', async (t) => {
  const dir = t.testdir({});
  const targetDir = path.join(dir, 'backup');
  const s3 = await startS3rver(t, dir);
  await s3.put('m-1', 'payload after a slowdown');
  const proxy = await startFaultProxy(t, s3.port, [{ kind: 'slowdown' }, { kind: 'slowdown' }]);
  const { out } = await run([newRecord(recordingWith('rec-1', ['m-1']))], proxy.endpoint, targetDir);
  t.equal(out[0]!.media[0]!.status, 'downloaded');
  t.equal(tallyRun(out).failed, 0);
  t.equal(proxy.requests.length, 3, 'two 503 answers, then the real one');
  t.equal(await readFile(path.join(targetDir, DIR, 'm-1.bin'), 'utf8'), 'payload after a slowdown');
});

t.test('no AWS credentials at all: RCBS_S3_CREDENTIALS (exit 2) before any transfer', async (t) => {
  const dir = t.testdir({});
  const saved = { ...process.env };
  t.teardown(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });
  // The SDK's default chain reads process.env and ~/.aws: point it at nothing.
  for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'none');
  process.env.AWS_CONFIG_FILE = path.join(dir, 'none');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const proxy = await startFaultProxy(t, 9, []);
  const config = configWith({ targetDir: path.join(dir, 'backup'), s3Bucket: 'recordings', s3Endpoint: proxy.endpoint, s3ForcePathStyle: true });
  const context = createRunContext({ config, credentials: {} });
  const err = await createS3Download({}, context, componentEvents('s3-download')).catch((e: unknown) => e);
  t.ok(err instanceof RcbsError);
  t.equal((err as RcbsError).code, 'RCBS_S3_CREDENTIALS');
  t.equal((err as RcbsError).exitCode, 2);
  t.match((err as RcbsError).message, /AWS_ACCESS_KEY_ID/);
  t.equal(proxy.requests.length, 0, 'no request reached S3');
});
