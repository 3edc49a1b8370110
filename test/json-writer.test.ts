// Pins sink `json-writer` (SPEC §5): <id>.json is the metadata exactly as
// received (unknown fields kept, nothing invented), written atomically in its
// folder only once its media are in place; identical content is not rewritten;
// late media (a longer media list) rewrite it; an unsafe id sends the record to
// quarantine.ndjson and out of the stream; a dry run writes nothing.

import t from 'tap';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import _ from 'highland';
import jsonWriter from '../src/sinks/json-writer.js';
import { openStore } from '../src/store/index.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents, tallyRun } from '../src/pipeline/outcome.js';
import { configWith } from '../src/config/defaults.js';
import { newRecord, type MediaOutcome, type PipelineRecord, type Recording } from '../src/pipeline/types.js';
import { silentLogger } from '../src/log.js';
import type { RcbsConfig } from '../src/config/types.js';

const received = (media: string[], extra: Record<string, unknown> = {}): Recording => ({
  id: 'rec-1',
  callerPhoneNumber: '+15551234',
  startTime: '2015-09-01T16:42:59.000+0000',
  stopTime: '2015-09-01T16:45:00.000+0000',
  someFieldNobodyDocuments: { nested: [1, 'two', null], 'odd key': true },
  mediaFiles: media.map((mediaId) => ({ mediaId, type: 'audio/mp3', tenant: 'Tenant1', size: '1234' })),
  ...extra,
});

const withMedia = (recording: Recording, status: MediaOutcome['status'] = 'downloaded'): PipelineRecord => ({
  ...newRecord(recording),
  media: ((recording.mediaFiles as Array<{ mediaId: string }>) ?? []).map((m) => ({ mediaId: m.mediaId, status })),
});

async function run(targetDir: string, records: PipelineRecord[], config: Partial<RcbsConfig> = {}, dryRun = false) {
  const context = createRunContext({
    config: configWith({ targetDir, ...config }),
    dryRun,
    openStore: () => openStore({ targetDir, recordingFolderFormat: 'yyyy/MM/dd/HH', log: silentLogger }),
  });
  const self = componentEvents('json-writer');
  const fn = await jsonWriter.create({}, context, self);
  const out = await fn(_(records)).collect().toPromise(Promise);
  await (await context.store()).close();
  return { out, context, self };
}

const jsonPath = (dir: string) => path.join(dir, 'Tenant1', '2015', '09', '01', '16', 'rec-1.json');

t.test('writes the metadata exactly as received, beside its media', async (t) => {
  const dir = t.testdir();
  const recording = received(['m1']);
  const { out } = await run(dir, [withMedia(recording)]);
  const text = readFileSync(jsonPath(dir), 'utf8');
  t.same(JSON.parse(text), recording, 'same content, unknown fields kept, nothing added');
  t.equal(text, JSON.stringify(recording, null, 2) + '\n');
  t.match(out[0], { json: 'Tenant1/2015/09/01/16/rec-1.json', dir: 'Tenant1/2015/09/01/16', status: 'done' });
  t.same(readdirSync(path.dirname(jsonPath(dir))), ['rec-1.json'], 'no temp file left');
});

t.test('identical content is skipped; late media rewrite the JSON; fewer media keep it', async (t) => {
  const dir = t.testdir();
  await run(dir, [withMedia(received(['m1']))]);
  const first = statSync(jsonPath(dir));

  const again = await run(dir, [withMedia(received(['m1']), 'skipped')]);
  t.equal(statSync(jsonPath(dir)).ino, first.ino, 'not rewritten (same inode)');
  t.equal(again.out[0]!.json, 'Tenant1/2015/09/01/16/rec-1.json');

  const late = received(['m1', 'm2']);
  await run(dir, [withMedia(late)]);
  t.same(JSON.parse(readFileSync(jsonPath(dir), 'utf8')), late, 'rewritten with the late media');
  const index = readFileSync(path.join(dir, '.rcbs', 'recordings.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.same(index.map((e) => e.mediaIds), [['m1'], ['m1', 'm2']]);

  await run(dir, [withMedia(received(['m2']))]);
  t.same(JSON.parse(readFileSync(jsonPath(dir), 'utf8')), late, 'a shorter media list does not replace what is on disk');
});

t.test('a JSON removed from disk is written again', async (t) => {
  const dir = t.testdir();
  await run(dir, [withMedia(received(['m1']))]);
  const { rmSync } = await import('node:fs');
  rmSync(jsonPath(dir));
  await run(dir, [withMedia(received(['m1']))]);
  t.ok(existsSync(jsonPath(dir)));
});

t.test('not written while media are pending or failed, nor for a failed record; metadataOnly writes anyway', async (t) => {
  const dir = t.testdir();
  const mixed = withMedia(received(['m1', 'm2']));
  mixed.media[1]!.status = 'failed';
  const { out } = await run(dir, [withMedia(received(['m1']), 'pending'), mixed, { ...withMedia(received(['m1'])), status: 'failed' }]);
  t.equal(out.length, 3, 'records pass on');
  t.notOk(existsSync(jsonPath(dir)));
  t.same(out.map((r) => r.json), [undefined, undefined, undefined]);

  await run(dir, [withMedia(received(['m1']), 'pending')], { metadataOnly: true });
  t.ok(existsSync(jsonPath(dir)), 'metadataOnly does not wait for media');
});

t.test('unsafe ids are quarantined and dropped; the run goes on', async (t) => {
  const root = t.testdir({ target: {} });
  const dir = path.join(root, 'target');
  const records = [
    withMedia(received(['m1'], { id: '..' })),
    withMedia(received(['m1'], { id: 'CON' })),
    withMedia(received(['m1'], { id: undefined })),
    withMedia(received(['m1'], { startTime: 'not a time' })),
    withMedia(received(['m1'], { id: '../../escape' })), // a traversal attempt: quarantined
    withMedia(received(['m1'])),
  ];
  const { out, self } = await run(dir, records);
  t.equal(out.length, 1);
  t.equal(tallyRun(out, [self]).quarantined, 5);
  t.equal(self.dropped, 5);
  const quarantined = readFileSync(path.join(dir, '.rcbs', 'quarantine.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(quarantined.length, 5);
  for (const q of quarantined) t.match(q, { code: 'RCBS_UNSAFE_NAME', reason: String, recording: Object, quarantinedAt: String });
  t.same(quarantined[0].recording, records[0]!.recording, 'the recording is kept as received');
  t.match(quarantined[4].reason, /path separator/);
  t.equal(out[0]!.json, `Tenant1/2015/09/01/16/${records[5]!.recording.id}.json`);
  t.same(readdirSync(root), ['target'], 'nothing outside targetDir');
});

t.test('a dry run writes nothing', async (t) => {
  const dir = t.testdir();
  const { out } = await run(dir, [withMedia(received(['m1']))], {}, true);
  t.equal(out.length, 1);
  t.notOk(existsSync(path.join(dir, 'Tenant1')));
  t.notOk(existsSync(path.join(dir, '.rcbs', 'recordings.ndjson')) && readFileSync(path.join(dir, '.rcbs', 'recordings.ndjson'), 'utf8').length > 0);
});
