// Pins the sandbox data generator: the same seed gives byte-identical recordings
// and plaintexts (a failing end-to-end run can be replayed), another seed gives
// other data, and the shapes the client must cope with are really there: the
// guide's fields, duration/size sometimes strings, size = plain size, an unknown
// field, two tenants, screen recordings whose callRecordingId names a voice
// recording, unique mediaIds, stopTimes inside the range, and each flagged oddity.
import t from 'tap';
import { generateRecordings, ODD_KINDS, type GenerateOptions } from '../src/sandbox/data.js';

const NOW = Date.UTC(2024, 0, 15, 12);
const options: GenerateOptions = {
  count: 40, seed: 3, range: { start: NOW - 47 * 3_600_000, end: NOW - 60_000 }, mediaSize: { min: 100, max: 400 }, keyPrefix: 'recordings/', oddities: true,
};

type Media = Record<string, unknown> & { mediaId?: string; type?: string; tenant?: string; size: number | string; duration: number | string };

t.test('the same seed gives identical data; another seed other data', async (t) => {
  const a = generateRecordings(options);
  const b = generateRecordings(options);
  t.equal(JSON.stringify(a.map((r) => r.recording)), JSON.stringify(b.map((r) => r.recording)));
  t.ok(a.every((r, i) => r.media.every((m, j) => m.plain.equals(b[i]!.media[j]!.plain))), 'plaintexts are identical');
  const c = generateRecordings({ ...options, seed: 4 });
  t.not(c[0]!.id, a[0]!.id);
  t.notOk(c[0]!.media[0]!.plain.equals(a[0]!.media[0]!.plain));
});

t.test('recordings look like the guide and carry the awkward shapes', async (t) => {
  const all = generateRecordings(options);
  const good = all.filter((r) => !r.odd);
  t.equal(good.length, 40, 'count good recordings');
  t.same(all.filter((r) => r.odd).map((r) => r.odd), ODD_KINDS, 'every oddity once, flagged');

  const media = good.flatMap((r) => r.recording.mediaFiles as Media[]);
  const ids = all.flatMap((r) => r.media.map((m) => m.mediaId));
  t.equal(new Set(ids).size, ids.length, 'mediaIds are globally unique');
  t.ok(good.some((r) => (r.recording.mediaFiles as unknown[]).length > 1), 'some calls have several media');
  t.same(new Set(media.map((m) => m.tenant)), new Set(['Environment', 'Tenant_B']), 'two tenants');
  t.ok(media.some((m) => typeof m.size === 'string') && media.some((m) => typeof m.size === 'number'), 'size is sometimes a string');
  t.ok(media.some((m) => typeof m.duration === 'string') && media.some((m) => typeof m.duration === 'number'), 'duration is sometimes a string');
  for (const r of good) {
    t.match(r.recording, {
      id: /^([0-9A-V]{32}|[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})$/,
      startTime: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$/,
      stopTime: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$/,
      callerPhoneNumber: String,
      dialedPhoneNumber: String,
      region: String,
      eventHistory: Array,
      sandboxTrace: { generator: 'rcbs-sandbox' },
    });
    t.ok(r.stopTimeMs >= options.range.start && r.stopTimeMs < options.range.end, 'stopTime inside the range');
    t.equal(Date.parse(String(r.recording.stopTime).replace('+0000', 'Z')), r.stopTimeMs);
    for (const [i, m] of (r.recording.mediaFiles as Media[]).entries()) {
      t.match(m, { startTime: String, stopTime: String, mediaId: String, type: /^(audio\/mp3|video\/mp4)$/, ivrprofile: String, parameters: { username: String, sipsAppName: String, ani: String, dnis: String, dateTime: String, connid: String, agentId: String, id: String, record: 'ON' }, masks: Array });
      t.equal(Number(m.size), r.media[i]!.plain.length, 'size is the plain size');
      t.equal(r.media[i]!.key, 'recordings/' + m.mediaId);
    }
  }
  const voiceIds = new Set(good.filter((r) => r.kind === 'voice').map((r) => r.id));
  const screens = good.filter((r) => r.kind === 'screen');
  t.ok(screens.length > 0, 'there are screen recordings');
  for (const s of screens) {
    t.ok(voiceIds.has(s.recording.callRecordingId as string), 'callRecordingId names a voice recording');
    t.equal((s.recording.mediaFiles as Media[])[0]!.type, 'video/mp4');
  }
  const history = good.flatMap((r) => r.recording.eventHistory as Array<{ event: string; contact?: { contactId?: string } }>);
  t.ok(history.some((e) => e.event === 'Data') && history.some((e) => e.event === 'Joined' && e.contact?.contactId) && history.some((e) => e.event === 'Left'));
});

t.test('each oddity is broken the way its flag says', async (t) => {
  const odd = new Map(generateRecordings(options).filter((r) => r.odd).map((r) => [r.odd!, r]));
  const first = (kind: (typeof ODD_KINDS)[number]) => (odd.get(kind)!.recording.mediaFiles as Media[])[0]!;
  t.equal(first('wav-media').type, 'audio/wav');
  t.notOk('type' in first('no-media-type'));
  t.notOk('id' in odd.get('no-id')!.recording);
  t.match(first('traversal-media-id').mediaId, /^\.\.\//);
  t.equal(odd.get('traversal-media-id')!.media[0]!.upload, false);
  t.ok((odd.get('dotdot-tenant')!.recording.mediaFiles as Media[]).every((m) => m.tenant === '..'));
  t.equal(generateRecordings({ ...options, oddities: false }).length, 40, 'oddities can be left out');
});
