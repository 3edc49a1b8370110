// Pins SPEC §5 "a body that stalls is resumed by Range" (issue 12): S3 (here the
// front, test/helpers/s3-front.ts) sends part of a body and then nothing, keeping the
// socket open. After s3StallTimeout without a byte the attempt is aborted and the
// rest is asked for with `Range: bytes=<bytes on disk>-`; the file ends byte-exact.
// Before, only the SDK's 60 s socket timeout could end such a wait, and no config key
// set it. The config key reaches the sink (the test sets it to 300 ms); writing to a
// slow disk is not a stall (the clock stops while a write is in flight).

import t from 'tap';
import _ from 'highland';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { configWith } from '../src/config/defaults.js';
import { loadConfig } from '../src/config/load.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { newRecord } from '../src/pipeline/types.js';
import { createLogger, silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import { createS3Download } from '../src/sinks/s3-download.js';
import { recordingWith, S3RVER_KEY, startS3rver } from './helpers/s3rver.js';
import { startS3Front } from './helpers/s3-front.js';

const DIR = 'Environment/2024/03/05/10';

t.test('a body that stops mid-way is aborted after s3StallTimeout and resumed by Range', async (t) => {
  const dir = t.testdir({});
  const targetDir = path.join(dir, 'backup');
  const s3 = await startS3rver(t, dir);
  const object = randomBytes(600_000);
  await s3.put('m-1', object);
  const front = await startS3Front(t, s3.endpoint);
  front.rules.set('m-1', { stallAfter: 200_000, stallTimes: 2 });
  const lines: string[] = [];
  const config = configWith({ targetDir, s3Bucket: 'recordings', s3Endpoint: front.endpoint, s3ForcePathStyle: true, s3StallTimeout: 300 });
  const context = createRunContext({
    config,
    credentials: S3RVER_KEY,
    log: createLogger({ level: 'debug', write: (line) => void lines.push(line) }),
    openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }),
  });
  const started = Date.now();
  const sink = await createS3Download({}, context, componentEvents('s3-download'), { delayMs: () => 1 });
  const [record] = await sink(_([newRecord(recordingWith('rec-1', ['m-1']))])).collect().toPromise(Promise);
  await (await context.store()).close();
  const elapsed = Date.now() - started;

  t.equal(record!.media[0]!.status, 'downloaded', lines.join('\n'));
  t.ok((await readFile(path.join(targetDir, DIR, 'm-1.bin'))).equals(object), 'byte-exact');
  const gets = front.requests.filter((r) => r.method === 'GET');
  t.equal(gets.length, 3, 'two stalled answers, then the rest');
  t.equal(gets[0]!.headers.range, undefined);
  t.equal(gets[1]!.headers.range, 'bytes=200000-', 'resumed from the bytes on disk');
  t.equal(gets[2]!.headers.range, 'bytes=400000-', 'and again after the second stall');
  t.ok(lines.some((line) => /stalled: no byte for 300 ms \(s3StallTimeout\)/.test(line)), 'the log says why');
  t.ok(elapsed < 10_000, `done in ${elapsed} ms, not after the SDK's 60 s socket timeout`);
});

t.test('s3StallTimeout is a config key: seconds or ISO-8601, default 30 s, never 0', async (t) => {
  const dir = t.testdir({ 'a.properties': 's3StallTimeout = PT0.5S\n', 'b.properties': 's3StallTimeout = 0\n', 'c.properties': '' });
  const load = (name: string) => loadConfig({ configFile: path.join(dir, name), env: {}, sets: [] });
  t.equal((await load('a.properties')).config.s3StallTimeout, 500);
  t.equal((await load('c.properties')).config.s3StallTimeout, 30_000);
  await t.rejects(load('b.properties'), { code: 'RCBS_CONFIG_INVALID', message: /s3StallTimeout/ });
});
