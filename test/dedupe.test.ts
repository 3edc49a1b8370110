// Pins the SPEC §5 dedupe rule: a media file is skipped only when the index says
// it was completed AND it is still on disk with the indexed size. A file moved
// away (the guide: "they will be downloaded again") or cut to the wrong size is
// fetched again; records always pass on (late media may need the JSON rewritten).

import t from 'tap';
import { mkdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import _ from 'highland';
import dedupe from '../src/transforms/dedupe.js';
import { openStore } from '../src/store/index.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents, tallyRun } from '../src/pipeline/outcome.js';
import { configWith } from '../src/config/defaults.js';
import { newRecord, type PipelineRecord } from '../src/pipeline/types.js';
import { silentLogger } from '../src/log.js';

async function run(targetDir: string, records: PipelineRecord[]) {
  const context = createRunContext({
    config: configWith({ targetDir }),
    openStore: () => openStore({ targetDir, recordingFolderFormat: 'yyyy', log: silentLogger }),
  });
  const fn = await dedupe.create({}, context, componentEvents('dedupe'));
  const out = await fn(_(records)).collect().toPromise(Promise);
  await (await context.store()).close();
  return { out, context };
}

t.test('skips indexed media still on disk; fetches moved-away, wrong-size and unknown ones', async (t) => {
  const targetDir = t.testdir();
  const folder = path.join(targetDir, 'T', '2015');
  mkdirSync(folder, { recursive: true });
  const store = await openStore({ targetDir, recordingFolderFormat: 'yyyy', log: silentLogger });
  for (const [mediaId, bytes] of [['kept', 5], ['moved', 5], ['short', 5]] as const) {
    writeFileSync(path.join(folder, `${mediaId}.bin`), 'x'.repeat(bytes));
    await store.recordMedia({ recordingId: 'r1', mediaId, path: `T/2015/${mediaId}.bin`, size: bytes, md5: '0'.repeat(32), completedAt: 1 });
  }
  await store.close();
  renameSync(path.join(folder, 'moved.bin'), path.join(targetDir, 'elsewhere.bin'));
  truncateSync(path.join(folder, 'short.bin'), 2);

  const record = newRecord({ id: 'r1' });
  record.media = ['kept', 'moved', 'short', 'new'].map((mediaId) => ({ mediaId, type: 'audio/mp3', status: 'pending' as const }));
  const { out } = await run(targetDir, [record]);
  t.equal(out.length, 1, 'the record passes on');
  t.same(out[0]!.media.map((m) => [m.mediaId, m.status]), [['kept', 'skipped'], ['moved', 'pending'], ['short', 'pending'], ['new', 'pending']]);
  t.match(out[0]!.media[0], { path: 'T/2015/kept.bin', bytes: 5 });
  t.equal(tallyRun(out).skipped, 1);
});

t.test('without media-type, entries come from the recording\'s media files; failed records are left alone', async (t) => {
  const targetDir = t.testdir({ T: { 'a.bin': 'abc' } });
  const store = await openStore({ targetDir, recordingFolderFormat: 'yyyy', log: silentLogger });
  await store.recordMedia({ recordingId: 'r', mediaId: 'a', path: 'T/a.bin', size: 3, md5: '0'.repeat(32), completedAt: 1 });
  await store.close();

  const fresh = newRecord({ id: 'r', mediaFiles: [{ mediaId: 'a', type: 'audio/mp3' }, { mediaId: 'b', type: 'video/mp4' }, { mediaId: 'a' }] });
  const failed = { ...newRecord({ id: 'f', mediaFiles: [{ mediaId: 'a' }] }), status: 'failed' as const };
  const { out } = await run(targetDir, [fresh, failed]);
  t.same(out[0]!.media.map((m) => [m.mediaId, m.status]), [['a', 'skipped'], ['b', 'pending']]);
  t.same(out[1]!.media, [], 'a failed record is not touched');
});
