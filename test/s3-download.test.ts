// Pins the s3-download sink end to end against a real S3-compatible server (SPEC
// §5): each pending media file lands byte-identical at
// <targetDir>/<tenant>/<yyyy/MM/dd/HH>/<mediaId>.bin with nothing else left in the
// folder (no temp file), the index records path, size, MD5 and ETag, the record
// carries the outcome, and media the dedupe step marked 'skipped' are not fetched
// again. Also: dry-run plans without touching S3 or disk, and at most
// `concurrency` transfers are in flight.

import t from 'tap';
import _ from 'highland';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { configWith } from '../src/config/defaults.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents, tallyRun } from '../src/pipeline/outcome.js';
import { newRecord, type PipelineRecord } from '../src/pipeline/types.js';
import { silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import s3Download from '../src/sinks/s3-download.js';
import { recordingWith, S3RVER_KEY, startFaultProxy, startS3rver } from './helpers/s3rver.js';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const DIR = 'Environment/2024/03/05/10';

async function run(records: PipelineRecord[], options: { endpoint: string; targetDir: string; dryRun?: boolean; concurrency?: number }) {
  const config = configWith({ targetDir: options.targetDir, s3Bucket: 'recordings', s3Endpoint: options.endpoint, s3ForcePathStyle: true, s3KeyTemplate: 'calls/{mediaId}' });
  const context = createRunContext({
    config,
    credentials: S3RVER_KEY,
    dryRun: options.dryRun ?? false,
    // As a real dry run does: the store read-only, no lock.
    openStore: () => openStore({ targetDir: options.targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger, lock: !options.dryRun, readOnly: options.dryRun }),
  });
  const self = componentEvents('s3-download');
  const sink = await s3Download.create(options.concurrency ? { concurrency: options.concurrency } : {}, context, self);
  const out = await sink(_(records)).collect().toPromise(Promise);
  if (!options.dryRun) await (await context.store()).close();
  return { out, context, self };
}

t.test('pending media land byte-identical at the SPEC §5 path, indexed, no temp files', async (t) => {
  const dir = t.testdir({});
  const targetDir = path.join(dir, 'backup');
  const s3 = await startS3rver(t, dir);
  const objects = new Map<string, Buffer>([
    ['m-1', randomBytes(300_000)],
    ['m-2', randomBytes(1)],
    ['m-3', randomBytes(2 * 1024 * 1024 + 17)],
  ]);
  for (const [id, body] of objects) await s3.put(`calls/${id}`, body);

  const { out, self } = await run(
    [newRecord(recordingWith('rec-1', ['m-1', 'm-2'])), newRecord(recordingWith('rec-2', ['m-3']))],
    { endpoint: s3.endpoint, targetDir },
  );

  t.equal(out.length, 2);
  for (const [id, body] of objects) {
    t.ok((await readFile(path.join(targetDir, DIR, `${id}.bin`))).equals(body), `${id}.bin is byte-identical`);
  }
  t.same((await readdir(path.join(targetDir, DIR))).sort(), ['m-1.bin', 'm-2.bin', 'm-3.bin'], 'no temp file left beside them');
  const rec1 = out.find((r) => r.recording.id === 'rec-1')!;
  t.same(rec1.media, [
    { mediaId: 'm-1', type: 'audio/mp3', status: 'downloaded', path: `${DIR}/m-1.bin`, bytes: 300_000, verifiedBy: 'etag-md5' },
    { mediaId: 'm-2', type: 'audio/mp3', status: 'downloaded', path: `${DIR}/m-2.bin`, bytes: 1, verifiedBy: 'etag-md5' },
  ]);
  t.same(tallyRun(out).verifiedBy, { 'etag-md5': 3 }, 'the run counts how each file was checked');
  t.equal(rec1.dir, DIR);
  t.equal(tallyRun(out).downloaded, 3);
  t.equal(tallyRun(out).bytes, 300_000 + 1 + 2 * 1024 * 1024 + 17);
  t.equal(tallyRun(out, [self]).failed, 0);

  const store = await openStore({ targetDir, recordingFolderFormat: 'yyyy/MM/dd/HH', log: silentLogger, lock: false, readOnly: true });
  t.teardown(() => store.close());
  for (const [id, body] of objects) {
    const entry = await store.getMedia(id);
    t.match(entry, { recordingId: id === 'm-3' ? 'rec-2' : 'rec-1', mediaId: id, path: `${DIR}/${id}.bin`, size: body.length, md5: md5(body), etag: `"${md5(body)}"` }, `index entry of ${id}`);
    t.ok(await store.isMediaDone(id));
  }
});

t.test('only pending media are fetched: skipped ones (dedupe) cause no request', async (t) => {
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  await s3.put('calls/m-1', 'one');
  await s3.put('calls/m-2', 'two');
  const proxy = await startFaultProxy(t, s3.port, []);
  const record = newRecord(recordingWith('rec-1', ['m-1', 'm-2']));
  record.media = [
    { mediaId: 'm-1', type: 'audio/mp3', status: 'skipped' },
    { mediaId: 'm-2', type: 'audio/mp3', status: 'pending' },
  ];
  const failed = newRecord(recordingWith('rec-2', ['m-1']));
  failed.status = 'failed';
  const { out } = await run([record, failed], { endpoint: proxy.endpoint, targetDir: path.join(dir, 'backup') });
  const byId = (id: string) => out.find((r) => r.recording.id === id)!;
  t.equal(byId('rec-1').media[0]!.status, 'skipped');
  t.equal(byId('rec-1').media[1]!.status, 'downloaded');
  t.same(byId('rec-2').media, [], 'a failed record passes untouched');
  t.equal(proxy.requests.filter((r) => r.head.startsWith('GET')).length, 1, 'one GET, for m-2 only');
  t.match(proxy.requests[0]!.head, /^GET \/recordings\/calls\/m-2/);
});

t.test('dry-run plans every media file without a request or a file', async (t) => {
  const dir = t.testdir({});
  const proxy = await startFaultProxy(t, 9, []); // nothing may connect
  const { out } = await run([newRecord(recordingWith('rec-1', ['m-1', 'm-2']))], { endpoint: proxy.endpoint, targetDir: path.join(dir, 'backup'), dryRun: true });
  t.same(out[0]!.media.map((m) => m.status), ['planned', 'planned']);
  t.equal(proxy.requests.length, 0);
  t.same(await readdir(dir), [], 'nothing written');
});

t.test('no more than `concurrency` transfers are in flight', async (t) => {
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  const ids = Array.from({ length: 8 }, (_, i) => `m-${i}`);
  for (const id of ids) await s3.put(`calls/${id}`, randomBytes(64 * 1024));
  let open = 0;
  let peak = 0;
  // Each connection is held open until the proxy relays it: count connections being served at once.
  const proxy = await startFaultProxy(t, s3.port, [], async () => {
    open++;
    peak = Math.max(peak, open);
    await new Promise((resolve) => setImmediate(resolve));
  });
  const records = ids.map((id) => newRecord(recordingWith(`rec-${id}`, [id])));
  const { out } = await run(records, { endpoint: proxy.endpoint, targetDir: path.join(dir, 'backup'), concurrency: 2 });
  t.equal(tallyRun(out).downloaded, 8);
  t.equal(out.length, 8);
  t.ok(proxy.requests.length <= 3, `at most concurrency + 1 sockets were opened (${proxy.requests.length})`);
  t.ok(peak >= 1);
});

t.test('s3KeyTemplate: a malformed template is a config error at start; a field the media lacks fails that media only', async (t) => {
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  await s3.put('Environment/m-1', 'one');
  for (const bad of ['{keyPrefix}', 'calls/{media Id}', 'calls/{mediaId', '']) {
    const context = createRunContext({ config: configWith({ targetDir: dir, s3Bucket: 'recordings', s3Endpoint: s3.endpoint, s3KeyTemplate: bad }), credentials: S3RVER_KEY });
    await t.rejects(Promise.resolve(s3Download.create({}, context, componentEvents('s3-download'))), { code: 'RCBS_CONFIG_INVALID', details: { key: 's3KeyTemplate' } }, `"${bad}" refused at start`);
  }
  const targetDir = path.join(dir, 'backup');
  const config = configWith({ targetDir, s3Bucket: 'recordings', s3Endpoint: s3.endpoint, s3ForcePathStyle: true, s3KeyTemplate: '{tenant}/{mediaId}{extension}' });
  const context = createRunContext({ config, credentials: S3RVER_KEY, openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }) });
  const sink = await s3Download.create({}, context, componentEvents('s3-download'));
  const withExtension = recordingWith('rec-1', ['m-1']);
  (withExtension.mediaFiles as Array<Record<string, unknown>>)[0]!.extension = '';
  const out = await sink(_([newRecord(withExtension), newRecord(recordingWith('rec-2', ['m-2']))])).collect().toPromise(Promise);
  await (await context.store()).close();
  const ok = out.find((r) => r.recording.id === 'rec-1');
  const missing = out.find((r) => r.recording.id === 'rec-2');
  t.equal(ok!.media[0]!.status, 'downloaded', 'key rendered from the media file fields: Environment/m-1');
  t.match(missing!.media[0], { status: 'failed', error: { code: 'RCBS_RECORD_INVALID', message: /needs \{extension\}/ } });
});
