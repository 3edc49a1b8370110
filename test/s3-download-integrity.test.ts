// Pins SPEC §5 "checked against the S3 object, then renamed": bytes corrupted on
// the way (a proxy flips one body byte) fail the ETag-MD5 check, are retried once
// from zero, and if still wrong the media fails with RCBS_S3_INTEGRITY and no file
// under the final name (nor a temp file) is left. Corrupted once → the retry from
// zero gives a byte-identical file. Real s3rver, real proxy, real files.

import t, { type Test } from 'tap';
import _ from 'highland';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { configWith } from '../src/config/defaults.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents, tallyRun } from '../src/pipeline/outcome.js';
import { newRecord } from '../src/pipeline/types.js';
import { silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import { createS3Download } from '../src/sinks/s3-download.js';
import { recordingWith, S3RVER_KEY, startFaultProxy, startS3rver, type Fault } from './helpers/s3rver.js';

const DIR = 'Environment/2024/03/05/10';

async function downloadThrough(t: Test, faults: Fault[]) {
  const dir = t.testdir({});
  const targetDir = path.join(dir, 'backup');
  const s3 = await startS3rver(t, dir);
  const object = randomBytes(500_000);
  await s3.put('m-1', object);
  const proxy = await startFaultProxy(t, s3.port, faults);
  const config = configWith({ targetDir, s3Bucket: 'recordings', s3Endpoint: proxy.endpoint, s3ForcePathStyle: true });
  const context = createRunContext({
    config,
    credentials: S3RVER_KEY,
    openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }),
  });
  const sink = await createS3Download({}, context, componentEvents('s3-download'), { delayMs: () => 1 });
  const [record] = await sink(_([newRecord(recordingWith('rec-1', ['m-1']))])).collect().toPromise(Promise);
  const store = await context.store();
  const indexed = await store.getMedia('m-1');
  await store.close();
  return { record: record!, object, proxy, context, folder: path.join(targetDir, DIR), indexed };
}

t.test('a byte flipped in every response: RCBS_S3_INTEGRITY after one retry, no file left', async (t) => {
  const { record, proxy, folder, indexed } = await downloadThrough(t, [{ kind: 'flip', atBodyByte: 4242 }, { kind: 'flip', atBodyByte: 99 }]);
  t.match(record.media[0], { status: 'failed', error: { code: 'RCBS_S3_INTEGRITY', message: /MD5 .* but the ETag says/ } });
  t.equal(record.status, 'failed');
  t.equal(proxy.requests.length, 2, 'retried once from zero, then gave up');
  t.equal(proxy.requests[1]!.range, undefined, 'the retry starts from zero');
  t.equal(tallyRun([record!]).failed, 1);
  t.equal(indexed, undefined, 'not in the index');
  t.same(await readdir(folder).catch(() => []), [], 'no final file and no temp file');
});

t.test('a byte flipped once: the retry from zero gives a byte-identical file', async (t) => {
  const { record, object, folder, indexed } = await downloadThrough(t, [{ kind: 'flip', atBodyByte: 123_456 }]);
  t.equal(record.media[0]!.status, 'downloaded');
  t.ok((await readFile(path.join(folder, 'm-1.bin'))).equals(object));
  t.equal(indexed?.size, object.length);
});
