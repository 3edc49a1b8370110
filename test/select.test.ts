// Pins the `select` transform (SPEC §6): fields kept and renamed by path, in the
// order given; a missing path gives null (the column stays); through an array
// without flatten a field gives every value; `flatten: "mediaFiles"` gives one row
// per media file where `mediaFiles.<x>` is that file's field and `@path` that file's
// path in the backup; a recording without media gives no row and is counted as
// dropped. The row is what the ndjson sink writes (not the recording), so
// `--ndjson` after a select prints the rows a CSV would hold.

import t from 'tap';
import _ from 'highland';
import { PassThrough } from 'node:stream';
import select from '../src/transforms/select.js';
import ndjsonSink from '../src/sinks/ndjson.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { configWith } from '../src/config/defaults.js';
import { newRecord, type PipelineRecord, type Recording } from '../src/pipeline/types.js';

const recordings: Recording[] = [
  {
    id: 'r1', startTime: '2015-09-01T16:42:59.000+0000', callerPhoneNumber: '+14165550100',
    mediaFiles: [
      { mediaId: 'm1', type: 'audio/mp3', size: '406080', tenant: 'Environment', parameters: { agentId: '+1001' } },
      { mediaId: 'm2', type: 'video/mp4', size: 1200, tenant: 'Environment', parameters: { agentId: '+1002' } },
    ],
  },
  { id: 'r2', startTime: '2015-09-02T08:00:00.000+0000', mediaFiles: [] },
];

async function run(options: Record<string, unknown>, prepare: (r: PipelineRecord) => void = () => {}) {
  const context = createRunContext({ config: configWith({}) });
  const self = componentEvents('select');
  const fn = await select.create(options as never, context, self);
  const input = structuredClone(recordings).map(newRecord);
  input.forEach(prepare);
  const out = (await fn(_(input)).collect().toPromise(Promise)) as PipelineRecord[];
  return { out, self, context };
}

t.test('keeps and renames fields in the order given; missing is null; arrays give every value', async (t) => {
  const { out, self } = await run({ fields: { caller: 'callerPhoneNumber', id: 'id', types: 'mediaFiles.type', missing: 'no.such', when: 'startTime' } });
  t.equal(out.length, 2);
  t.same(Object.keys(out[0]!.row!), ['caller', 'id', 'types', 'missing', 'when'], 'output order as given');
  t.same(out[0]!.row, { caller: '+14165550100', id: 'r1', types: ['audio/mp3', 'video/mp4'], missing: null, when: '2015-09-01T16:42:59.000+0000' });
  t.same(out[1]!.row, { caller: null, id: 'r2', types: null, missing: null, when: '2015-09-02T08:00:00.000+0000' });
  t.same(out[0]!.recording, recordings[0], 'the recording is kept untouched beside the row');
  t.equal(self.dropped, 0);
});

t.test('flatten mediaFiles: one row per media file with its recording fields and its own outcome', async (t) => {
  const { out, self } = await run(
    { flatten: 'mediaFiles', fields: { id: 'id', mediaId: 'mediaFiles.mediaId', agent: 'mediaFiles.parameters.agentId', size: 'mediaFiles.size', file: '@path', start: 'startTime' } },
    (r) => {
      if (r.recording.id === 'r1') r.media = [{ mediaId: 'm2', status: 'skipped', path: 'Environment/2015/09/01/16/m2.bin', bytes: 9 }];
    },
  );
  t.same(out.map((r) => r.row), [
    { id: 'r1', mediaId: 'm1', agent: '+1001', size: '406080', file: null, start: '2015-09-01T16:42:59.000+0000' },
    { id: 'r1', mediaId: 'm2', agent: '+1002', size: 1200, file: 'Environment/2015/09/01/16/m2.bin', start: '2015-09-01T16:42:59.000+0000' },
  ]);
  t.same(out[1]!.media.map((m) => m.mediaId), ['m2'], 'each row carries its own media outcome');
  t.not(out[0]!.errors, out[1]!.errors, 'rows do not share their error lists');
  t.equal(self.dropped, 1, 'the recording without media gave no row and is counted');
  t.equal(self.droppedBy.filtered, 1);
});

t.test('bad paths are reported at load with the output name', async (t) => {
  const problems = select.check!({ fields: { ok: 'id', bad: 'a..b', worse: '@nothing' } });
  t.match(problems, [/^\/fields\/bad: "a\.\.b" is not a field path/, /^\/fields\/worse: "@nothing": @nothing is not an outcome field/]);
});

t.test('the ndjson sink writes the row, in its field order', async (t) => {
  const { out } = await run({ flatten: 'mediaFiles', fields: { mediaId: 'mediaFiles.mediaId', id: 'id' } });
  const stdout = new PassThrough();
  const chunks: string[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c.toString()));
  const context = createRunContext({ config: configWith({}), stdout });
  const fn = await ndjsonSink.create({}, context, componentEvents('ndjson'));
  await fn(_(out)).collect().toPromise(Promise);
  t.equal(chunks.join(''), '{"mediaId":"m1","id":"r1"}\n{"mediaId":"m2","id":"r1"}\n');
});
