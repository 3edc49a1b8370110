// Generated recordings for the sandbox, shaped like the guide's "Recording metadata"
// section (reference/rcbs-admin-guide.txt): voice calls with several audio/mp3
// segments, screen recordings (video/mp4) pointing back at a call through
// callRecordingId, two tenants, eventHistory with attached data and agent
// join/left events, `duration`/`size` sometimes as strings, and a field no guide
// names so tests can check unknown fields are kept.
// Deterministic: the same seed, count, range and sizes give byte-identical
// recordings and media plaintexts, so a failing end-to-end test can be replayed.
// The few deliberately broken recordings carry `odd` (outside the JSON) so a test
// can find them; they come on top of the requested count.

import type { Recording } from '../pipeline/types.js';

export const SANDBOX_TENANTS = ['Environment', 'Tenant_B'] as const;

/** Deliberately awkward recordings, each exercising one guard of the client. */
export type OddKind =
  | 'wav-media' // audio/wav: dropped by the default mediaTypePattern
  | 'no-media-type' // mediaFiles[0] without the required `type`
  | 'no-id' // no top-level id
  | 'traversal-media-id' // mediaId tries ../ path traversal (no S3 object exists for it)
  | 'dotdot-tenant'; // tenant is `..`

export const ODD_KINDS: readonly OddKind[] = ['wav-media', 'no-media-type', 'no-id', 'traversal-media-id', 'dotdot-tenant'];

export interface SandboxMedia {
  mediaId: string;
  type: string | undefined;
  /** S3 key: {keyPrefix}{mediaId}. */
  key: string;
  /** What decrypting the S3 object must give. */
  plain: Buffer;
  /** False for media the sandbox deliberately never uploads (path traversal). */
  upload: boolean;
  /** Filled once the encrypted object is in S3. */
  encryptedSize?: number;
  /** Hex MD5 of the encrypted object (= its ETag). */
  encryptedMd5?: string;
}

export interface SandboxRecording {
  /** The JSON GWS serves; mutated in place by addLateMedia. */
  recording: Recording;
  /** Recording id (undefined for the `no-id` oddity). */
  id: string | undefined;
  kind: 'voice' | 'screen';
  odd?: OddKind;
  stopTimeMs: number;
  media: SandboxMedia[];
}

export interface MediaSizeRange {
  min: number;
  max: number;
}

export interface GenerateOptions {
  /** Good recordings (voice and screen together); the oddities come on top. */
  count: number;
  seed: number;
  /** stopTimes fall in [start, end). */
  range: { start: number; end: number };
  mediaSize: MediaSizeRange;
  /** Plaintext size of the n-th media generated (index n-1), overriding mediaSize; for benches. */
  mediaSizes?: readonly number[];
  /** Most audio segments per voice call (default 3); 1 gives one media per recording. */
  maxSegments?: number;
  keyPrefix: string;
  oddities: boolean;
}

/** mulberry32: tiny, fast, good enough for test data; never for secrets. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes two integers into one seed, so each media has its own byte stream. */
function mixSeed(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Pseudo-random bytes for one media file: deterministic per (seed, sequence). */
export function mediaPlaintext(seed: number, sequence: number, size: number): Buffer {
  const random = seededRandom(mixSeed(seed, sequence));
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) {
    const word = Math.floor(random() * 4294967296);
    for (let j = 0; j < 4 && i + j < size; j++) bytes[i + j] = (word >>> (8 * j)) & 0xff;
  }
  return bytes;
}

/** GWS time format: 2015-09-01T16:42:59.000+0000. */
export function gwsTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

const CALL_UUID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
const HEX = '0123456789abcdef';

class Generator {
  readonly #random: () => number;
  #mediaSequence = 0;
  readonly #options: GenerateOptions;

  constructor(options: GenerateOptions) {
    this.#options = options;
    this.#random = seededRandom(options.seed);
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.#random() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.#random() * alphabet.length)];
    return out;
  }

  /** Mostly the 32-character CallUUID of the guide's example, sometimes a GUID. */
  callUuid(): string {
    if (this.chance(0.2)) {
      const h = this.chars(HEX, 32).toUpperCase();
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    return this.chars(CALL_UUID_ALPHABET, 32);
  }

  phone(): string {
    return this.chance(0.5) ? String(this.int(8_500_000, 8_599_999)) : `+1416${String(this.int(0, 9_999_999)).padStart(7, '0')}`;
  }

  /** A stopTime in the range, on a whole second like real GWS data. */
  stopTime(): number {
    const { start, end } = this.#options.range;
    const firstSecond = Math.ceil(start / 1000);
    const lastSecond = Math.ceil(end / 1000) - 1;
    return (lastSecond < firstSecond ? start : this.int(firstSecond, lastSecond) * 1000);
  }

  nextMediaSequence(): number {
    return ++this.#mediaSequence;
  }

  plainSize(): number {
    const { min, max } = this.#options.mediaSize;
    return this.int(min, max);
  }
}

interface Agent {
  userName: string;
  firstName: string;
  lastName: string;
  phoneNumber: string;
  contactId: string;
}

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Linus'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Thompson', 'Hamilton', 'Torvalds'];

function agent(g: Generator, tenant: string): Agent {
  const n = g.int(1, 40);
  return {
    userName: `agent${n}@${tenant.toLowerCase()}.example.com`,
    firstName: g.pick(FIRST_NAMES),
    lastName: g.pick(LAST_NAMES),
    phoneNumber: `+1416${String(1000 + n).padStart(7, '0')}`,
    contactId: g.chars(HEX, 24),
  };
}

function timeParts(ms: number): { date: string; time: string } {
  const iso = new Date(ms).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 19).replace(/:/g, '-') };
}

function mediaIdFor(g: Generator, callId: string, startMs: number, sequence: number, extension: string): string {
  const { date, time } = timeParts(startMs);
  return `${callId}_${date}_${time}-${g.chars(HEX, 8).toUpperCase()}-${g.chars(HEX, 8).toUpperCase()}-${sequence.toString(16).toUpperCase().padStart(8, '0')}.${extension}`;
}

interface MediaSpec {
  callId: string;
  tenant: string;
  startMs: number;
  stopMs: number;
  type: string;
  extension: string;
  agent: Agent;
  ani: string;
  dnis: string;
}

function mediaFile(g: Generator, spec: MediaSpec, options: GenerateOptions): { json: Record<string, unknown>; media: SandboxMedia } {
  const sequence = g.nextMediaSequence();
  const mediaId = mediaIdFor(g, spec.callId, spec.startMs, sequence, spec.extension);
  // plainSize() is drawn even when mediaSizes overrides it, so the rest of the data stays the same.
  const drawnSize = g.plainSize();
  const plain = mediaPlaintext(options.seed, sequence, options.mediaSizes?.[sequence - 1] ?? drawnSize);
  const durationMs = spec.stopMs - spec.startMs;
  const { date, time } = timeParts(spec.startMs);
  const masks = g.chance(0.25)
    ? [
        { time: gwsTime(spec.startMs + Math.floor(durationMs / 3)), type: 'stop' },
        { time: gwsTime(spec.startMs + Math.floor((2 * durationMs) / 3)), type: 'resume' },
      ]
    : [];
  const json: Record<string, unknown> = {
    startTime: gwsTime(spec.startMs),
    stopTime: gwsTime(spec.stopMs),
    callUUID: spec.callId,
    mediaId,
    type: spec.type,
    // GWS sends these as strings at times: the client must read both.
    duration: g.chance(0.5) ? String(durationMs) : durationMs,
    tenant: spec.tenant,
    ivrprofile: spec.type.startsWith('video/') ? 'ScreenRecProfile' : 'CallRecProfile',
    size: g.chance(0.5) ? String(plain.length) : plain.length,
    parameters: {
      id: `${spec.callId}_${date}_${time}`,
      dnis: spec.dnis,
      username: spec.agent.userName,
      connid: g.chars(HEX, 16),
      callUuid: spec.callId,
      ani: spec.ani,
      dateTime: new Date(spec.startMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      recordDN: spec.agent.phoneNumber,
      agentId: spec.agent.phoneNumber,
      sipsAppName: 'SIP_Server',
      record: 'ON',
    },
    masks,
    certAlias: [`rcs_${spec.tenant}_GIR:CN=rcbs-sandbox:1`],
    partitions: [],
    accessgroups: ['/'],
    channels: spec.type.startsWith('audio/') ? 2 : 1,
  };
  return { json, media: { mediaId, type: spec.type, key: options.keyPrefix + mediaId, plain, upload: true } };
}

function eventHistory(g: Generator, callId: string, startMs: number, stopMs: number, agents: Agent[], ani: string): Record<string, unknown>[] {
  const at = (ms: number) => gwsTime(ms);
  const events: Record<string, unknown>[] = [
    {
      occurredAt: at(startMs),
      eventId: `${new Date(startMs).toISOString().replace('T', ' ').slice(0, 23)}_${callId}`,
      event: 'Data',
      calluuid: callId,
      data: { added: { GSIP_RECORD: 'ON', GSIP_REC_FN: `${callId}_${timeParts(startMs).date}` } },
    },
    { occurredAt: at(startMs), event: 'Joined', calluuid: callId, contact: { type: 'External', phoneNumber: ani } },
  ];
  const slot = Math.floor((stopMs - startMs) / agents.length);
  agents.forEach((a, i) => {
    const contact = { type: 'User', phoneNumber: a.phoneNumber, userName: a.userName, firstName: a.firstName, lastName: a.lastName, contactId: a.contactId };
    events.push({ occurredAt: at(startMs + i * slot), event: 'Joined', calluuid: callId, contact });
    events.push({ occurredAt: at(startMs + (i + 1) * slot), event: 'Left', calluuid: callId, contact });
  });
  events.push(
    { occurredAt: at(stopMs), event: 'Data', calluuid: callId, data: { deleted: { GSIP_RECORD: 'ON' } } },
    { occurredAt: at(stopMs), event: 'Left', calluuid: callId, contact: { type: 'External', phoneNumber: ani } },
  );
  if (g.chance(0.3)) events.splice(1, 0, { occurredAt: at(startMs + 1000), event: 'Data', calluuid: callId, data: { added: { CustomerSegment: g.pick(['gold', 'silver', 'bronze']) } } });
  return events;
}

/** A voice call: 1-3 audio segments, one agent per segment. */
function voiceRecording(g: Generator, options: GenerateOptions, index: number, extension = 'mp3', type = 'audio/mp3'): SandboxRecording {
  const id = g.callUuid();
  const tenant = g.chance(0.6) ? SANDBOX_TENANTS[0] : SANDBOX_TENANTS[1];
  const stopMs = g.stopTime();
  const startMs = stopMs - g.int(20, 900) * 1000;
  const ani = g.phone();
  const dnis = `+1416${String(g.int(0, 9_999_999)).padStart(7, '0')}`;
  const segments = g.int(1, options.maxSegments ?? 3);
  const agents: Agent[] = [];
  const mediaJson: Record<string, unknown>[] = [];
  const media: SandboxMedia[] = [];
  const slot = Math.floor((stopMs - startMs) / segments);
  for (let s = 0; s < segments; s++) {
    const a = agent(g, tenant);
    agents.push(a);
    const segStart = startMs + s * slot;
    const segStop = s === segments - 1 ? stopMs : segStart + slot - 1000;
    const made = mediaFile(g, { callId: id, tenant, startMs: segStart, stopMs: segStop, type, extension, agent: a, ani, dnis }, options);
    mediaJson.push(made.json);
    media.push(made.media);
  }
  const recording: Recording = {
    id,
    callerPhoneNumber: ani,
    dialedPhoneNumber: dnis,
    startTime: gwsTime(startMs),
    stopTime: gwsTime(stopMs),
    mediaFiles: mediaJson,
    eventHistory: eventHistory(g, id, startMs, stopMs, agents, ani),
    callType: g.chance(0.7) ? 'Inbound' : 'Outbound',
    screenRecording: false,
    region: g.pick(['region1', 'region2']),
    // Not in the guide: a client must keep it untouched in the written JSON.
    sandboxTrace: { generator: 'rcbs-sandbox', seed: options.seed, index },
  };
  return { recording, id, kind: 'voice', stopTimeMs: stopMs, media };
}

/** A screen recording of a call: one video/mp4, callRecordingId = the call's id. */
function screenRecording(g: Generator, options: GenerateOptions, call: SandboxRecording, index: number): SandboxRecording {
  const callJson = call.recording;
  const id = g.callUuid();
  const tenant = (callJson.mediaFiles as Array<{ tenant: string }>)[0]!.tenant;
  const startMs = Date.parse(String(callJson.startTime).replace('+0000', 'Z'));
  // Screen uploads finish a little after the call, but stay inside the range.
  const stopMs = Math.min(call.stopTimeMs + g.int(1, 30) * 1000, Math.ceil(options.range.end / 1000) * 1000 - 1000);
  const a = agent(g, tenant);
  const ani = String(callJson.callerPhoneNumber);
  const dnis = String(callJson.dialedPhoneNumber);
  const made = mediaFile(g, { callId: id, tenant, startMs, stopMs, type: 'video/mp4', extension: 'mp4', agent: a, ani, dnis }, options);
  callJson.screenRecording = true;
  const recording: Recording = {
    id,
    callRecordingId: call.id,
    callerPhoneNumber: ani,
    dialedPhoneNumber: dnis,
    startTime: gwsTime(startMs),
    stopTime: gwsTime(stopMs),
    mediaFiles: [made.json],
    eventHistory: [
      { occurredAt: gwsTime(startMs), event: 'Joined', calluuid: id, contact: { type: 'User', phoneNumber: a.phoneNumber, userName: a.userName, contactId: a.contactId } },
      { occurredAt: gwsTime(stopMs), event: 'Left', calluuid: id, contact: { type: 'User', phoneNumber: a.phoneNumber, userName: a.userName, contactId: a.contactId } },
    ],
    region: callJson.region,
    sandboxTrace: { generator: 'rcbs-sandbox', seed: options.seed, index },
  };
  return { recording, id, kind: 'screen', stopTimeMs: stopMs, media: [made.media] };
}

function oddRecording(g: Generator, options: GenerateOptions, kind: OddKind, index: number): SandboxRecording {
  const made = kind === 'wav-media' ? voiceRecording(g, options, index, 'wav', 'audio/wav') : voiceRecording(g, options, index);
  const files = made.recording.mediaFiles as Array<Record<string, unknown>>;
  switch (kind) {
    case 'wav-media':
      break;
    case 'no-media-type':
      delete files[0]!.type;
      made.media[0]!.type = undefined;
      break;
    case 'no-id':
      delete made.recording.id;
      made.id = undefined;
      break;
    case 'traversal-media-id': {
      const mediaId = `../../../escaped-${made.media[0]!.mediaId}`;
      files[0]!.mediaId = mediaId;
      // Never uploaded: an S3 key with ../ would escape s3rver's own folder.
      made.media[0] = { ...made.media[0]!, mediaId, key: options.keyPrefix + mediaId, upload: false };
      break;
    }
    case 'dotdot-tenant':
      for (const f of files) f.tenant = '..';
      break;
  }
  made.odd = kind;
  return made;
}

/** The whole data set: `count` good recordings then the oddities, in generation order. */
export function generateRecordings(options: GenerateOptions): SandboxRecording[] {
  const g = new Generator(options);
  const out: SandboxRecording[] = [];
  while (out.length < options.count) {
    const call = voiceRecording(g, options, out.length);
    out.push(call);
    if (out.length < options.count && g.chance(0.25)) out.push(screenRecording(g, options, call, out.length));
  }
  if (options.oddities) {
    for (const kind of ODD_KINDS) out.push(oddRecording(g, options, kind, out.length));
  }
  return out;
}

/** One more segment for a recording, after the fact: what GWS shows when media arrive late. */
export function lateMediaFor(target: SandboxRecording, options: GenerateOptions, lateIndex: number): SandboxMedia {
  const g = new Generator({ ...options, seed: mixSeed(options.seed, 0x1a7e + lateIndex) });
  const files = target.recording.mediaFiles as Array<Record<string, unknown>>;
  const last = files[files.length - 1]!;
  const type = String(last.type ?? 'audio/mp3');
  const callId = target.id ?? 'LATE';
  const startMs = Date.parse(String(last.startTime).replace('+0000', 'Z'));
  const stopMs = target.stopTimeMs;
  const tenant = String(last.tenant ?? SANDBOX_TENANTS[0]);
  const made = mediaFile(
    g,
    {
      callId,
      tenant,
      startMs,
      stopMs,
      type,
      extension: type.startsWith('video/') ? 'mp4' : 'mp3',
      agent: agent(g, tenant),
      ani: String(target.recording.callerPhoneNumber ?? ''),
      dnis: String(target.recording.dialedPhoneNumber ?? ''),
    },
    { ...options, seed: mixSeed(options.seed, 0x1a7e + lateIndex) },
  );
  // The mediaId must stay globally unique even though this generator restarts its sequence.
  const mediaId = made.media.mediaId.replace(/\.(\w+)$/, `-LATE${lateIndex}.$1`);
  made.json.mediaId = mediaId;
  files.push(made.json);
  const media = { ...made.media, mediaId, key: options.keyPrefix + mediaId };
  target.media.push(media);
  return media;
}
