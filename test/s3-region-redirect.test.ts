// Pins SPEC §5 "a bucket in another region than configured is followed (the region
// S3 names) with one info line" (issue 12), in both forms S3 uses: 301
// PermanentRedirect with x-amz-bucket-region, and 400 AuthorizationHeaderMalformed
// that names the region only in its XML body (the SDK's followRegionRedirects does
// not handle that one). The front (test/helpers/s3-front.ts) refuses any request
// signed for another region than its bucket's; s3rver behind it verifies the
// signature of the requests signed for the right one. Every media file downloads,
// and the operator reads one line, not one per file.

import t from 'tap';
import _ from 'highland';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { configWith } from '../src/config/defaults.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { newRecord } from '../src/pipeline/types.js';
import { createLogger, silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import { createS3Download } from '../src/sinks/s3-download.js';
import { recordingWith, S3RVER_KEY, startS3rver } from './helpers/s3rver.js';
import { startS3Front } from './helpers/s3-front.js';

const DIR = 'Environment/2024/03/05/10';

for (const form of ['redirect-301', 'authorization-400'] as const) {
  t.test(`a bucket in another region (${form}) is followed with one info line`, async (t) => {
    const dir = t.testdir({});
    const targetDir = path.join(dir, 'backup');
    const s3 = await startS3rver(t, dir);
    for (const id of ['m-1', 'm-2', 'm-3']) await s3.put(id, `payload of ${id}`);
    const front = await startS3Front(t, s3.endpoint);
    front.bucketRegion = 'eu-west-1';
    front.regionError = form;
    const lines: string[] = [];
    const config = configWith({ targetDir, s3Bucket: 'recordings', s3Region: 'us-east-1', s3Endpoint: front.endpoint, s3ForcePathStyle: true, numThreads: 2 });
    const context = createRunContext({
      config,
      credentials: S3RVER_KEY,
      log: createLogger({ level: 'info', write: (line) => void lines.push(line) }),
      openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }),
    });
    const sink = await createS3Download({}, context, componentEvents('s3-download'), { delayMs: () => 1 });
    const out = await sink(_([newRecord(recordingWith('rec-1', ['m-1', 'm-2'])), newRecord(recordingWith('rec-2', ['m-3']))])).collect().toPromise(Promise);
    await (await context.store()).close();

    t.same(out.flatMap((r) => r.media.map((m) => m.status)), ['downloaded', 'downloaded', 'downloaded'], lines.join('\n'));
    for (const id of ['m-1', 'm-2', 'm-3']) t.equal(await readFile(path.join(targetDir, DIR, `${id}.bin`), 'utf8'), `payload of ${id}`);
    const followed = lines.filter((line) => /is in region eu-west-1, not us-east-1: following it/.test(line));
    t.equal(followed.length, 1, `one info line:\n${lines.join('\n')}`);
    t.match(followed[0], /^rcbs info:/);
    const refused = front.requests.filter((r) => r.status === (form === 'redirect-301' ? 301 : 400));
    t.ok(refused.length >= 1 && refused.length <= 2, `only the transfers already under way met the wrong region (${refused.length})`);
    t.ok(front.requests.filter((r) => r.status === 200).every((r) => r.signedRegion === 'eu-west-1'), 'everything after is signed for eu-west-1');
  });
}
