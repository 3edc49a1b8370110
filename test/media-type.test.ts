// Pins the media filter (SPEC §3 mediaTypePattern): the default pattern keeps
// audio/mp3 and video/mp4 media and drops recordings with only other types; the
// guide's own value `audio\/mp3`, read through the real config.properties parser,
// keeps MP3 only; the pattern matches the WHOLE type (audio/mp3 is not
// audio/mp3x); the recording JSON is never changed; with metadataOnly a recording
// without wanted media is still kept (its metadata is exported). A wrong filter
// silently skips media an operator must keep, so each case must be able to fail.

import t from 'tap';
import _ from 'highland';
import mediaType from '../src/transforms/media-type.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents, tallyRun } from '../src/pipeline/outcome.js';
import { configWith } from '../src/config/defaults.js';
import { parseProperties } from '../src/config/properties.js';
import { newRecord, type PipelineRecord, type Recording } from '../src/pipeline/types.js';
import type { RcbsConfig } from '../src/config/types.js';

function mediaFile(mediaId: string, type: string) {
  return { startTime: '2015-09-01T16:42:59.000+0000', stopTime: '2015-09-01T16:43:10.000+0000', mediaId, type, tenant: 'Environment', ivrprofile: 'CallRecProfile', parameters: { agentId: '+14160000001' } };
}

const recordings: Recording[] = [
  { id: 'mp3-only', mediaFiles: [mediaFile('a.mp3', 'audio/mp3')], custom: { kept: true } },
  { id: 'screen', callRecordingId: 'mp3-only', mediaFiles: [mediaFile('s.mp4', 'video/mp4')] },
  { id: 'wav-only', mediaFiles: [mediaFile('w.wav', 'audio/wav')] },
  { id: 'mixed', mediaFiles: [mediaFile('m1.wav', 'audio/wav'), mediaFile('m2.mp3', 'audio/mp3'), { ...mediaFile('ignored', 'audio/mp3'), mediaId: undefined, mediaID: 'm3.mp3' }] },
  { id: 'lookalike', mediaFiles: [mediaFile('x.mp3x', 'audio/mp3x'), mediaFile('y', 'xaudio/mp3')] },
  { id: 'empty', mediaFiles: [] },
];

async function runMediaType(config: Partial<RcbsConfig>, options = {}) {
  const input = structuredClone(recordings);
  const context = createRunContext({ config: configWith(config) });
  const self = componentEvents('media-type');
  const fn = await mediaType.create(options, context, self);
  const kept = (await fn(_(input.map(newRecord))).collect().toPromise(Promise)) as PipelineRecord[];
  const byId = Object.fromEntries(kept.map((r) => [r.recording.id as string, r.media.map((m) => m.mediaId)]));
  return { kept, byId, self, context };
}

t.test('the default pattern keeps audio/mp3 and video/mp4, drops recordings with neither', async (t) => {
  const { kept, byId, self } = await runMediaType({});
  t.same(byId, { 'mp3-only': ['a.mp3'], screen: ['s.mp4'], mixed: ['m2.mp3', 'm3.mp3'] });
  t.equal(self.dropped, 3, 'wav-only, lookalike and empty are dropped');
  t.equal(tallyRun(kept, [self]).dropped, 3);
  t.ok(kept.every((r) => r.media.every((m) => m.status === 'pending')), 'wanted media are pending');
  t.equal(kept.find((r) => r.recording.id === 'mixed')!.media[0]!.type, 'audio/mp3');
  // The recording JSON keeps every media file and unknown field, untouched.
  t.same(kept.map((r) => r.recording), recordings.filter((r) => ['mp3-only', 'screen', 'mixed'].includes(r.id as string)));
});

t.test("the guide's `mediaTypePattern = audio\\/mp3` keeps MP3 only", async (t) => {
  const parsed = parseProperties('mediaTypePattern = audio\\/mp3\n');
  t.same(parsed.errors, []);
  const fromProperties = parsed.entries[0]!.value;
  t.equal(fromProperties, 'audio/mp3', 'Java properties unescaping turns \\/ into /');
  for (const pattern of [fromProperties, 'audio\\/mp3']) {
    const { byId } = await runMediaType({ mediaTypePattern: pattern });
    t.same(byId, { 'mp3-only': ['a.mp3'], mixed: ['m2.mp3', 'm3.mp3'] }, `pattern ${JSON.stringify(pattern)}`);
  }
});

t.test('the pattern must match the whole type', async (t) => {
  const { byId } = await runMediaType({ mediaTypePattern: 'audio/mp3' });
  t.notOk('lookalike' in byId, 'audio/mp3x and xaudio/mp3 are not audio/mp3');
  const prefix = await runMediaType({ mediaTypePattern: 'audio/mp3.*' });
  t.same(prefix.byId.lookalike, ['x.mp3x'], 'an explicit .* widens it');
});

t.test('the pipeline option `pattern` overrides the config, (?i) is case-insensitive', async (t) => {
  const { byId } = await runMediaType({ mediaTypePattern: 'audio/mp3' }, { pattern: '(?i)AUDIO/WAV' });
  t.same(byId, { 'wav-only': ['w.wav'], mixed: ['m1.wav'] });
});

t.test('metadataOnly keeps recordings without wanted media, with no media to fetch', async (t) => {
  const { byId, self } = await runMediaType({ metadataOnly: true });
  t.same(byId, { 'mp3-only': ['a.mp3'], screen: ['s.mp4'], 'wav-only': [], mixed: ['m2.mp3', 'm3.mp3'], lookalike: [], empty: [] });
  t.equal(self.dropped, 0);
  const forced = await runMediaType({ metadataOnly: true }, { keepEmpty: false });
  t.equal(forced.self.dropped, 3, 'keepEmpty: false drops them even then');
});

t.test('an invalid pattern is a config error naming it', async (t) => {
  await t.rejects(runMediaType({ mediaTypePattern: 'audio/(mp3' }), { code: 'RCBS_CONFIG_INVALID', message: /mediaTypePattern "audio\/\(mp3" is not a valid regular expression/ });
  await t.rejects(runMediaType({}, { pattern: '[' }), { code: 'RCBS_PIPELINE_INVALID' });
});
