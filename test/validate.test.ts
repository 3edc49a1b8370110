// Pins the `validate` transform and schemas/recording.schema.json (SPEC §5, §6):
// each kind of bad record (no id, empty id, no or non-array mediaFiles, a media
// file without mediaId/mediaID, without the guide's required fields, a size or a
// time that is not one, a malformed event) goes to the real store's
// .rcbs/quarantine.ndjson with every problem and its JSON path, is counted and
// leaves the stream while the run goes on; good records, in the shapes real GWS
// sends (the guide's example, mediaID and Id spellings, sizes as strings, screen
// recordings with callRecordingId, no masks or channels), pass untouched with
// their unknown fields. Over-constraining loses backups; under-constraining
// writes files nobody can find: both must fail here.

import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import _ from 'highland';
import validate from '../src/transforms/validate.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents, tallyRun } from '../src/pipeline/outcome.js';
import { configWith } from '../src/config/defaults.js';
import { silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import { newRecord, type PipelineRecord, type Recording } from '../src/pipeline/types.js';

function mediaFile(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    startTime: '2015-09-01T16:42:59.000+0000',
    stopTime: '2015-09-01T16:43:10.000+0000',
    callUUID: '011AP643CSAPR4FKQGQE31TAES0001TH',
    mediaId: '011AP643CSAPR4FKQGQE31TAES0001TH_2015-09-01_16-42-58-006B015E-10003E55-00000001.mp3',
    type: 'audio/mp3',
    duration: '11595',
    tenant: 'Environment',
    ivrprofile: 'CallRecProfile',
    size: '184896',
    parameters: { id: '011AP643CSAPR4FKQGQE31TAES0001TH_2015-09-01_16-42-58', dnis: '+14160000001', ani: '8522001', agentId: '+14160000001', sipsAppName: 'SIP_Server' },
    certAlias: ['rcs_Tenant_21-86_GIR_Team:214:CN=gir_21-86'],
    partitions: [],
    accessgroups: ['/'],
    channels: 2,
    ...overrides,
  };
}

function recording(overrides: Record<string, unknown> = {}): Recording {
  return {
    id: '011AP643CSAPR4FKQGQE31TAES0001TH',
    callerPhoneNumber: '8522001',
    dialedPhoneNumber: '+14160000001',
    startTime: '2015-09-01T16:42:59.000+0000',
    stopTime: '2015-09-01T16:43:36.000+0000',
    mediaFiles: [mediaFile()],
    eventHistory: [
      { occurredAt: '2015-09-01T16:42:59.000+0000', eventId: '2015-09-01 16:42:59.167_011AP643', event: 'Data', calluuid: '011AP643CSAPR4FKQGQE31TAES0001TH', data: { added: { GSIP_RECORD: 'ON' } } },
      { occurredAt: '2015-09-01T16:42:58.000+0000', event: 'Joined', calluuid: '011AP643CSAPR4FKQGQE31TAES0001TH', contact: { type: 'External', phoneNumber: '8522001' } },
    ],
    callType: 'Inbound',
    screenRecording: false,
    region: 'region1',
    ...overrides,
  };
}

const good: Recording[] = [
  recording({ futureField: { nested: [1, { deep: true }] } }),
  // The guide's table spellings: Id and mediaID; numbers as numbers.
  (() => {
    const r = recording({ mediaFiles: [mediaFile({ mediaId: undefined, mediaID: 'M-2.mp3', size: 184896, duration: 11595, vendorExtra: 'x' })] });
    delete r.id;
    r.Id = 'GOOD-ID-SPELLING';
    (r.mediaFiles as Array<Record<string, unknown>>)[0] = JSON.parse(JSON.stringify((r.mediaFiles as unknown[])[0]));
    return r;
  })(),
  // A screen recording: callRecordingId, video, no channels/partitions/accessgroups/eventHistory, masks present.
  {
    id: 'SCREEN-1',
    callRecordingId: '011AP643CSAPR4FKQGQE31TAES0001TH',
    startTime: '2015-09-01T16:42:59Z',
    mediaFiles: [(() => {
      const m = mediaFile({ mediaId: 'SCREEN-1.mp4', type: 'video/mp4', masks: [{ time: '2015-09-01T16:43:00.000+0000', type: 'pause' }] });
      delete m.channels;
      delete m.partitions;
      delete m.accessgroups;
      return m;
    })()],
  },
  // No media yet (late media): valid; media-type decides what happens to it.
  recording({ id: 'NO-MEDIA-YET', mediaFiles: [] }),
];

const bad: Array<{ name: string; recording: Recording; reason: RegExp[] }> = [
  { name: 'no id', recording: (() => { const r = recording(); delete r.id; return r; })(), reason: [/^\/: must have required property 'id', or must have required property 'Id'/] },
  { name: 'empty id', recording: recording({ id: '' }), reason: [/\/id: must NOT have fewer than 1 characters \(got ""\)/] },
  { name: 'no mediaFiles', recording: (() => { const r = recording({ id: 'NO-MF' }); delete r.mediaFiles; return r; })(), reason: [/\/: must have required property 'mediaFiles'/] },
  { name: 'mediaFiles not an array', recording: recording({ id: 'MF-OBJ', mediaFiles: { 0: mediaFile() } }), reason: [/\/mediaFiles: must be array/] },
  {
    name: 'media file without mediaId or mediaID',
    recording: recording({ id: 'NO-MEDIA-ID', mediaFiles: [mediaFile(), mediaFile({ mediaId: undefined })] }),
    reason: [/\/mediaFiles\/1: must have required property 'mediaId', or must have required property 'mediaID'/],
  },
  {
    name: 'media file without the guide\'s required fields, all named at once',
    recording: recording({ id: 'MISSING', mediaFiles: [{ mediaId: 'x.mp3' }] }),
    reason: ['startTime', 'stopTime', 'type', 'tenant', 'ivrprofile', 'parameters'].map((f) => new RegExp(`/mediaFiles/0: must have required property '${f}'`)),
  },
  {
    name: 'size and duration that are not numbers',
    recording: recording({ id: 'BAD-SIZE', mediaFiles: [mediaFile({ size: '12kB', duration: -5 })] }),
    reason: [/\/mediaFiles\/0\/size: must be a whole number >= 0, or one written as a string \(got "12kB"\)/, /\/mediaFiles\/0\/duration: must be a whole number >= 0, or one written as a string \(got -5\)/],
  },
  { name: 'a time that is not one', recording: recording({ id: 'BAD-TIME', stopTime: 'yesterday' }), reason: [/\/stopTime: must be a GWS time such as 2015-09-01T16:42:59.000\+0000, or epoch milliseconds \(got "yesterday"\)/] },
  { name: 'parameters not an object', recording: recording({ id: 'BAD-PARAMS', mediaFiles: [mediaFile({ parameters: 'ani=1' })] }), reason: [/\/mediaFiles\/0\/parameters: must be object/] },
  {
    name: 'an event without calluuid',
    recording: recording({ id: 'BAD-EVENT', eventHistory: [{ occurredAt: '2015-09-01T16:42:59.000+0000', event: 'Data' }] }),
    reason: [/\/eventHistory\/0: must have required property 'calluuid'/],
  },
];

t.test('bad records go to quarantine with every problem and its JSON path; good ones pass untouched', async (t) => {
  const targetDir = t.testdir({});
  const store = openStore({ targetDir, recordingFolderFormat: 'yyyy/MM/dd/HH', log: silentLogger });
  const context = createRunContext({ config: configWith({ targetDir }), openStore: () => store });
  const self = componentEvents('validate');
  const fn = await validate.create({}, context, self);

  // Good and bad interleaved: the run goes on after each quarantine, order kept.
  const input = [bad[0]!.recording, good[0]!, ...bad.slice(1, 5).map((b) => b.recording), good[1]!, good[2]!, ...bad.slice(5).map((b) => b.recording), good[3]!];
  const snapshot = JSON.stringify(input);
  const out = (await fn(_(input.map(newRecord))).collect().toPromise(Promise)) as PipelineRecord[];
  await (await store).close();

  t.same(out.map((r) => r.recording), good, 'only the good records come out, in order');
  t.equal(out[0]!.recording, input[1], 'the very same objects, not copies');
  t.equal(JSON.stringify(input), snapshot, 'nothing was changed, unknown fields included');
  t.equal(self.dropped, bad.length);
  t.equal(tallyRun(out, [self]).quarantined, bad.length);

  const lines = (await readFile(path.join(targetDir, '.rcbs', 'quarantine.ndjson'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { reason: string; code: string; recording: Recording });
  t.equal(lines.length, bad.length, 'one quarantine line per bad record');
  for (const { name, recording: rec, reason } of bad) {
    const entry = lines.find((l) => JSON.stringify(l.recording) === JSON.stringify(rec));
    if (!t.ok(entry, `${name}: quarantined with the recording`)) continue;
    t.equal(entry!.code, 'RCBS_RECORD_INVALID');
    for (const pattern of reason) t.match(entry!.reason, pattern, `${name}: ${entry!.reason}`);
  }
  const missing = lines.find((l) => l.recording.id === 'MISSING')!;
  t.equal(missing.reason.split('; ').length, 6, 'allErrors: every missing field, one line each');
});

t.test('--dry-run counts and reports without writing a quarantine', async (t) => {
  const targetDir = t.testdir({});
  let opened = false;
  const logs: string[] = [];
  const context = createRunContext({
    config: configWith({ targetDir }),
    dryRun: true,
    log: { ...silentLogger, warn: (msg, fields) => logs.push(`${msg} ${JSON.stringify(fields)}`) },
    openStore: async () => {
      opened = true;
      return openStore({ targetDir, recordingFolderFormat: 'yyyy/MM/dd/HH', log: silentLogger });
    },
  });
  const self = componentEvents('validate');
  const fn = await validate.create({}, context, self);
  const out = (await fn(_([bad[1]!.recording, good[0]!].map(newRecord))).collect().toPromise(Promise)) as PipelineRecord[];
  t.equal(out.length, 1);
  t.equal(tallyRun(out, [self]).quarantined, 1);
  t.notOk(opened, 'the store was not opened');
  t.match(logs.join('\n'), /would quarantine record.*\/id: must NOT have fewer than 1 characters/);
});

t.test('an unreadable schema option is a pipeline error naming the file', async (t) => {
  const context = createRunContext({ config: configWith({}) });
  await t.rejects(Promise.resolve(validate.create({ schema: '/nonexistent/recording.schema.json' }, context, componentEvents('validate'))), { code: 'RCBS_PIPELINE_INVALID', message: /\/nonexistent\/recording\.schema\.json/ });
});
