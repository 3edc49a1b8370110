// Pins how far the s3-download sink looks ahead for its largest-first order (SPEC §8):
// records are pulled up to max(2 x numThreads, LOOK_AHEAD_RECORDS) ahead, so a large
// media file (by the size GWS gives) listed a dozen records later starts before the
// small ones listed before it, even at numThreads 1. With only 2 x numThreads records
// pulled, it would have waited for its turn in the listing. Real s3rver behind the S3
// front (which holds the first GET until every record has reached the sink).

import t from 'tap';
import _ from 'highland';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { configWith } from '../src/config/defaults.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { newRecord, type PipelineRecord } from '../src/pipeline/types.js';
import { silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import s3Download, { LOOK_AHEAD_RECORDS } from '../src/sinks/s3-download.js';
import { recordingWith, S3RVER_KEY, startS3rver } from './helpers/s3rver.js';
import { startS3Front } from './helpers/s3-front.js';

t.test('a large media file a dozen records later starts right after the first transfer, at numThreads 1', async (t) => {
  const count = 20;
  const bigAt = 12;
  t.ok(count <= LOOK_AHEAD_RECORDS, 'all the records fit in the look-ahead');
  const dir = t.testdir({});
  const targetDir = path.join(dir, 'backup');
  const s3 = await startS3rver(t, dir);
  const records = Array.from({ length: count }, (_, i) => {
    const recording = recordingWith(`rec-${i}`, [`m-${i}`]);
    // The size GWS gives is what orders the waiting transfers; the objects themselves are small.
    (recording.mediaFiles as Array<Record<string, unknown>>)[0]!.size = i === bigAt ? '500000000' : '1000';
    return recording;
  });
  for (let i = 0; i < count; i++) await s3.put(`calls/m-${i}`, randomBytes(1000));
  const front = await startS3Front(t, s3.endpoint);
  let allIn!: () => void;
  const everyRecordIn = new Promise<void>((resolve) => (allIn = resolve));
  let pulled = 0;
  front.beforeGet = async (_key, n) => {
    // Bounded: with a shorter look-ahead the records never all come in while the first GET is held.
    if (n === 1 && front.requests.filter((r) => r.method === 'GET').length === 1) await Promise.race([everyRecordIn, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  };
  const config = configWith({ targetDir, numThreads: 1, s3Bucket: 'recordings', s3Endpoint: front.endpoint, s3ForcePathStyle: true, s3KeyTemplate: 'calls/{mediaId}' });
  const context = createRunContext({ config, credentials: S3RVER_KEY, openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }) });
  const sink = await s3Download.create({}, context, componentEvents('s3-download'));
  const input = _(records.map((r) => newRecord(r))).tap(() => {
    if (++pulled === count) allIn();
  });
  const out = (await sink(input).collect().toPromise(Promise)) as PipelineRecord[];
  await (await context.store()).close();
  t.equal(out.length, count);
  t.ok(out.every((r) => r.media.every((m) => m.status === 'downloaded')), 'every file downloaded');
  const order = front.requests.filter((r) => r.method === 'GET').map((r) => r.key);
  t.equal(order[0], 'calls/m-0', 'the first record took the one slot');
  t.equal(order[1], `calls/m-${bigAt}`, 'the largest waiting transfer went next, ahead of the 11 listed before it');
});
