// startSandbox: a local GWS and S3 holding generated, really encrypted recordings,
// the fixture of every end-to-end test and of `rcbs sandbox`. It makes a recipient
// identity, generates the recordings (data.ts), encrypts each media plaintext to a
// distinct CMS object (crypto.ts) and uploads it to s3rver (s3.ts), then serves the
// metadata from gws.ts. Everything lives in one temp folder that close() removes.

import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RcbsError } from '../errors.js';
import { DAY_MS } from '../config/defaults.js';
import { encryptMedia, generateIdentity } from './crypto.js';
import { generateRecordings, lateMediaFor, ODD_KINDS, type GenerateOptions, type MediaSizeRange, type SandboxMedia, type SandboxRecording } from './data.js';
import { startSandboxGws, type GwsFaults, type PagingMode, type SandboxGws } from './gws.js';
import { S3RVER_DEFAULT_KEY, SANDBOX_S3_REGION, startSandboxS3, type SandboxS3 } from './s3.js';

export type { SandboxMedia, SandboxRecording, OddKind } from './data.js';
export type { GwsFaults, PagingMode, GwsRequestInfo } from './gws.js';

export interface SandboxOptions {
  /** GWS port; 0 (default) = any free port. S3 always takes any free port. */
  port?: number;
  /** Good recordings (default 20); the oddities (ODD_KINDS) come on top. */
  recordings?: number;
  seed?: number;
  mode?: PagingMode;
  /** capped mode: never more than this many recordings per query. */
  cap?: number;
  faults?: GwsFaults;
  /** GWS waits this long before answering each page of recordings (default 0). */
  pageLatencyMs?: number;
  /** "Now" the stopTimes are placed before (default Date.now()). */
  now?: number;
  /** stopTimes fall in [start, end); default [now - 47 h, now - 1 min), inside the default maxAge=2 window. */
  range?: { start: number; end: number };
  /** Plaintext size per media in bytes: a fixed size or a range (default 1000-6000). */
  mediaSize?: number | MediaSizeRange;
  /** Plaintext size of the n-th media generated (index n-1), overriding mediaSize (benches: a few large among many small). */
  mediaSizes?: readonly number[];
  /** Most audio segments per voice call (default 3); 1 gives one media per recording. */
  maxSegments?: number;
  /** Add the deliberately broken recordings (default true). */
  oddities?: boolean;
  /** Encrypt and upload the media objects (default true). false: metadata only, for
   * metadata-export benches with tens of thousands of recordings (S3 stays empty). */
  media?: boolean;
  /** Default target folder for configProperties(). */
  targetDir?: string;
  gwsUsername?: string;
  gwsPassword?: string;
  awsAccessKeyId?: string;
  awsSecretAccessKey?: string;
  bucket?: string;
  keyPrefix?: string;
  /** Parallel openssl encryptions and uploads while seeding (default: 2 per CPU). */
  concurrency?: number;
  /** Recipient key and certificate to encrypt to (default: a fresh one), so a kept backup stays decryptable across sandbox restarts (npm start twice). */
  identity?: { keyPem: string; certPem: string };
}

export interface SandboxCredentials {
  gwsUsername: string;
  gwsPassword: string;
  awsAccessKeyId: string;
  awsSecretAccessKey: string;
}

export interface Sandbox {
  /** gwsUriPrefix, e.g. http://127.0.0.1:41234/api/v2 */
  readonly gwsUrl: string;
  readonly s3Endpoint: string;
  readonly s3Region: string;
  readonly bucket: string;
  readonly keyPrefix: string;
  readonly credentials: SandboxCredentials;
  readonly keyPem: string;
  readonly certPem: string;
  readonly keyPath: string;
  readonly certPath: string;
  /** The temp folder holding key, cert and s3rver's objects. */
  readonly dir: string;
  readonly seed: number;
  readonly now: number;
  /** Every recording served, good ones first then the oddities. */
  readonly recordings: readonly SandboxRecording[];
  /** The GWS server: request counts, onRequest hooks, configure(mode/faults). */
  readonly gws: SandboxGws;
  /** A media file by mediaId (late media included). */
  media(mediaId: string): SandboxMedia | undefined;
  /** A recording by id. */
  recording(id: string): SandboxRecording | undefined;
  /** A config.properties text for this sandbox. */
  configProperties(targetDir?: string, extra?: { decryptDir?: string; decryptKey?: string; [key: string]: string | number | boolean | undefined }): string;
  /** The environment variables rcbs reads its credentials from. */
  env(): Record<string, string>;
  /** Adds one media file to a recording (stopTime unchanged) and uploads its object. */
  addLateMedia(recordingId: string): Promise<SandboxMedia>;
  close(): Promise<void>;
}

export const SANDBOX_DEFAULTS = {
  recordings: 20,
  seed: 1,
  mediaSize: { min: 1000, max: 6000 },
  gwsUsername: 'sandbox-admin@rcbs.test',
  gwsPassword: 'sandbox-gws-password',
  awsAccessKeyId: S3RVER_DEFAULT_KEY,
  awsSecretAccessKey: S3RVER_DEFAULT_KEY,
  bucket: 'rcbs-sandbox',
  keyPrefix: 'recordings/',
} as const;

const HOUR_MS = 3_600_000;

/** Runs `work` over items with at most `limit` in flight; rejects on the first failure. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Java properties escaping for a value: backslashes, and leading spaces kept. */
function propertyValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/^ /, '\\ ');
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RcbsError('RCBS_USAGE', `sandbox ${name} must be a whole number of at least ${min}, got ${value}`, { key: name, value });
  }
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const count = options.recordings ?? SANDBOX_DEFAULTS.recordings;
  checkCount('recordings', count, 0);
  const seed = options.seed ?? SANDBOX_DEFAULTS.seed;
  checkCount('seed', seed, 0);
  const now = options.now ?? Date.now();
  const range = options.range ?? { start: now - 47 * HOUR_MS, end: now - 60_000 };
  if (!(range.end > range.start)) throw new RcbsError('RCBS_USAGE', `sandbox range must end after it starts, got ${range.start}..${range.end}`);
  const mediaSize = typeof options.mediaSize === 'number' ? { min: options.mediaSize, max: options.mediaSize } : (options.mediaSize ?? SANDBOX_DEFAULTS.mediaSize);
  checkCount('mediaSize', mediaSize.min, 0);
  checkCount('mediaSize', mediaSize.max, mediaSize.min);
  const credentials: SandboxCredentials = {
    gwsUsername: options.gwsUsername ?? SANDBOX_DEFAULTS.gwsUsername,
    gwsPassword: options.gwsPassword ?? SANDBOX_DEFAULTS.gwsPassword,
    awsAccessKeyId: options.awsAccessKeyId ?? SANDBOX_DEFAULTS.awsAccessKeyId,
    awsSecretAccessKey: options.awsSecretAccessKey ?? SANDBOX_DEFAULTS.awsSecretAccessKey,
  };
  const bucket = options.bucket ?? SANDBOX_DEFAULTS.bucket;
  const keyPrefix = options.keyPrefix ?? SANDBOX_DEFAULTS.keyPrefix;
  for (const size of options.mediaSizes ?? []) checkCount('mediaSizes', size, 0);
  if (options.maxSegments !== undefined) checkCount('maxSegments', options.maxSegments, 1);
  if (options.pageLatencyMs !== undefined) checkCount('pageLatencyMs', options.pageLatencyMs, 0);
  const generate: GenerateOptions = {
    count, seed, range, mediaSize, keyPrefix, oddities: options.oddities ?? true,
    ...(options.mediaSizes ? { mediaSizes: options.mediaSizes } : {}),
    ...(options.maxSegments !== undefined ? { maxSegments: options.maxSegments } : {}),
  };
  const concurrency = options.concurrency ?? Math.max(2, 2 * os.availableParallelism());

  const dir = await mkdtemp(path.join(os.tmpdir(), 'rcbs-sandbox-'));
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  let s3: SandboxS3 | undefined;
  let gws: SandboxGws | undefined;
  try {
    const identityPromise = options.identity ? Promise.resolve(options.identity) : generateIdentity();
    const s3Promise = startSandboxS3({ directory: path.join(dir, 's3'), bucket, accessKeyId: credentials.awsAccessKeyId, secretAccessKey: credentials.awsSecretAccessKey });
    // Wait for both so a failure of one never leaves the other running unowned.
    const [identity, s3Result] = await Promise.allSettled([identityPromise, s3Promise]);
    if (s3Result.status === 'fulfilled') s3 = s3Result.value;
    if (identity.status === 'rejected') throw identity.reason;
    if (s3Result.status === 'rejected') throw s3Result.reason;
    const { keyPem, certPem } = identity.value;
    const s3Server = s3!;
    await writeFile(keyPath, keyPem, { mode: 0o600 });
    await writeFile(certPath, certPem);

    const recordings = generateRecordings(generate);
    const mediaById = new Map<string, SandboxMedia>();
    const recordingById = new Map<string, SandboxRecording>();
    for (const r of recordings) {
      if (r.id !== undefined) recordingById.set(r.id, r);
      for (const m of r.media) mediaById.set(m.mediaId, m);
    }

    const seedObject = async (media: SandboxMedia) => {
      if (!media.upload || options.media === false) return;
      const encrypted = await encryptMedia(media.plain, certPem);
      media.encryptedSize = encrypted.length;
      media.encryptedMd5 = createHash('md5').update(encrypted).digest('hex');
      const etag = await s3Server.put(media.key, encrypted);
      if (etag !== media.encryptedMd5) {
        throw new RcbsError('RCBS_INTERNAL', `sandbox S3 stored ${media.key} with ETag ${etag}, but its MD5 is ${media.encryptedMd5}`);
      }
    };
    await eachLimited(recordings.flatMap((r) => r.media), concurrency, seedObject);

    gws = await startSandboxGws({
      port: options.port ?? 0,
      username: credentials.gwsUsername,
      password: credentials.gwsPassword,
      s3: { bucket, region: SANDBOX_S3_REGION, keyPrefix, endpoint: s3Server.endpoint },
      recordings: () => recordings,
      ...(options.mode ? { mode: options.mode } : {}),
      ...(options.cap !== undefined ? { cap: options.cap } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.pageLatencyMs ? { pageLatencyMs: options.pageLatencyMs } : {}),
    });
    const gwsServer = gws;

    let lateCount = 0;
    let closing: Promise<void> | undefined;
    // Every generated stopTime is at or after range.start.
    const oldestStop = range.start;

    const sandbox: Sandbox = {
      gwsUrl: gwsServer.url,
      s3Endpoint: s3Server.endpoint,
      s3Region: SANDBOX_S3_REGION,
      bucket,
      keyPrefix,
      credentials,
      keyPem,
      certPem,
      keyPath,
      certPath,
      dir,
      seed,
      now,
      recordings,
      gws: gwsServer,
      media: (mediaId) => mediaById.get(mediaId),
      recording: (id) => recordingById.get(id),
      configProperties(targetDir = options.targetDir ?? path.join(dir, 'backup'), extra = {}) {
        // maxAge in whole days from the real clock, so a run started later still
        // reaches the oldest generated recording.
        const maxAgeDays = Math.max(1, Math.ceil((Date.now() - oldestStop) / DAY_MS) + 1);
        // decryptKey: where the caller keeps its copy of the key (the sandbox's own is removed at close).
        const { decryptDir, decryptKey = keyPath, ...rest } = extra;
        const lines = [
          '# rcbs sandbox configuration (generated). Credentials come from the environment:',
          '# see the sandbox output for the export lines (sandbox-only values).',
          `gwsUriPrefix = ${propertyValue(gwsServer.url)}`,
          `targetDir = ${propertyValue(targetDir.replace(/\\/g, '/'))}`,
          `s3Endpoint = ${propertyValue(s3Server.endpoint)}`,
          's3ForcePathStyle = true',
          `s3Region = ${SANDBOX_S3_REGION}`,
          `maxAge = ${maxAgeDays}`,
          'mediaTypePattern = audio/mp3|video/mp4',
        ];
        if (decryptDir !== undefined) {
          lines.push(`decryptDir = ${propertyValue(decryptDir.replace(/\\/g, '/'))}`, `decryptKey = ${propertyValue(String(decryptKey).replace(/\\/g, '/'))}`);
        } else {
          lines.push('# To decrypt as well, uncomment:', `# decryptDir = ${propertyValue(path.join(path.dirname(targetDir), 'decrypted').replace(/\\/g, '/'))}`, `# decryptKey = ${propertyValue(String(decryptKey).replace(/\\/g, '/'))}`);
        }
        for (const [key, value] of Object.entries(rest)) if (value !== undefined) lines.push(`${key} = ${propertyValue(String(value))}`);
        return lines.join('\n') + '\n';
      },
      env() {
        return {
          GWS_USERNAME: credentials.gwsUsername,
          GWS_PASSWORD: credentials.gwsPassword,
          AWS_ACCESS_KEY_ID: credentials.awsAccessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.awsSecretAccessKey,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          // No instance-metadata lookups from a laptop or CI runner.
          AWS_EC2_METADATA_DISABLED: 'true',
        };
      },
      async addLateMedia(recordingId) {
        const target = recordingById.get(recordingId);
        if (!target) throw new RcbsError('RCBS_USAGE', `sandbox has no recording with id ${recordingId}`, { recordingId });
        const media = lateMediaFor(target, generate, ++lateCount);
        mediaById.set(media.mediaId, media);
        await seedObject(media);
        return media;
      },
      close() {
        closing ??= (async () => {
          await Promise.allSettled([gwsServer.close(), s3Server.close()]);
          await rm(dir, { recursive: true, force: true });
        })();
        return closing;
      },
    };
    return sandbox;
  } catch (err) {
    await Promise.allSettled([gws?.close(), s3?.close()]);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export { ODD_KINDS };
