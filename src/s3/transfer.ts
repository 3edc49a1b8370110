// One S3 object streamed to one temp file, checked, ready for the store to rename
// (SPEC §5). The body goes straight from the socket to the file with backpressure;
// MD5 (and the object's own checksum when it has one) is computed from exactly the
// bytes that reached the file, so a cut transfer resumes with `Range: bytes=<n>-`
// and the digest still covers the whole file without re-reading it. The resumed
// response must carry the first response's ETag (If-Match is sent for real S3,
// and checked here because some S3-compatible servers ignore it); otherwise the
// object changed and the transfer starts again from zero.

import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import zlib from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { RcbsError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { DEFAULT_RETRY, retryDelay, type RetryPolicy } from '../retry.js';
import { classifyS3Failure, objectUrl, type ObjectRef } from './failure.js';
import { chunksWritten } from './socket-garbage.js';

export interface TransferRequest extends ObjectRef {
  client: S3Client;
  /** The store's temp file beside the final name; created or truncated here. */
  tempPath: string;
  signal?: AbortSignal;
  retry?: RetryPolicy;
  /** Delay before retry number `attempt`; tests pass a fast one. */
  delayMs?: (attempt: number, retryAfter: string | undefined) => number;
  /** Called with each chunk's size once it is on disk (for progress). */
  onBytes?: (bytes: number) => void;
  log?: Logger;
  /** Bytes a previous run left in tempPath (the store's findPartial): continued, not re-fetched. */
  resumeFrom?: number;
}

export interface TransferResult {
  bytes: number;
  md5: string;
  etag?: string;
  /** What proved the file right besides its length. */
  verifiedBy: 'etag-md5' | 'checksum-sha256' | 'checksum-sha1' | 'checksum-crc32' | 'size';
  /** Ranged requests that continued a cut transfer. */
  resumes: number;
}

/** A checksum S3 returns for the whole object (x-amz-checksum-*), and how to compute it. */
interface ObjectChecksum {
  kind: 'checksum-sha256' | 'checksum-sha1' | 'checksum-crc32';
  expected: string;
  start(): { update(chunk: Buffer): void; digestBase64(): string };
}

function hashChecksum(algorithm: 'sha256' | 'sha1') {
  return () => {
    const hash = createHash(algorithm);
    return { update: (chunk: Buffer) => void hash.update(chunk), digestBase64: () => hash.digest('base64') };
  };
}

function crc32Checksum() {
  let value = 0;
  return {
    update: (chunk: Buffer) => void (value = zlib.crc32(chunk, value)),
    digestBase64: () => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(value >>> 0);
      return out.toString('base64');
    },
  };
}

/** The object's full-object checksum, when it has one rcbs can compute (composite `…-N` ones cannot be). */
function objectChecksum(res: GetObjectCommandOutput): ObjectChecksum | undefined {
  const full = (value: string | undefined) => (value && !value.includes('-') ? value : undefined);
  const sha256 = full(res.ChecksumSHA256);
  if (sha256) return { kind: 'checksum-sha256', expected: sha256, start: hashChecksum('sha256') };
  const sha1 = full(res.ChecksumSHA1);
  if (sha1) return { kind: 'checksum-sha1', expected: sha1, start: hashChecksum('sha1') };
  const crc32 = full(res.ChecksumCRC32);
  if (crc32) return { kind: 'checksum-crc32', expected: crc32, start: crc32Checksum };
  return undefined;
}

/** The MD5 an ETag stands for, when it is a plain one (not multipart `…-N`, not SSE-KMS style). */
export function etagMd5(etag: string | undefined): string | undefined {
  const bare = etag?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
  return bare && /^[0-9a-f]{32}$/.test(bare) ? bare : undefined;
}

/** `bytes <start>-<end>/<total>` */
function parseContentRange(value: string | undefined): { start: number; total?: number } | undefined {
  const m = value ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
}

/** What is on disk so far, and digests of exactly those bytes. */
interface Progress {
  written: number;
  md5: Hash;
  checksum?: ReturnType<ObjectChecksum['start']>;
}

/** Writes at explicit offsets and hashes a chunk only once it is on disk, so Progress never runs ahead of the file.
 * `idle()` waits for the write on the thread pool: when a transfer breaks, that write may
 * still land and move Progress after the stream has failed, and a resume computed before it
 * would write the rest at the wrong offset (the MD5 caught it; the retry refetched from zero). */
function fileSink(file: FileHandle, progress: Progress, onBytes?: (bytes: number) => void): Writable & { idle(): Promise<void> } {
  let inflight: Promise<void> = Promise.resolve();
  // Socket chunks are ~16-64 KiB: while one write is on the thread pool, the chunks that
  // arrive meanwhile are written together by writev (bench/BACKUP-RESULTS.md: one write
  // per chunk cost ~20% of the client's CPU on a 600 MiB backup).
  const writeChunks = async (chunks: Buffer[]) => {
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    let done = chunks.length === 1
      ? (await file.write(chunks[0]!, 0, length, progress.written)).bytesWritten
      : (await file.writev(chunks, progress.written)).bytesWritten;
    if (done < length) {
      // A short write (rare on regular files): the rest one write at a time.
      const rest = Buffer.concat(chunks).subarray(done);
      for (let offset = 0; offset < rest.length; ) {
        const { bytesWritten } = await file.write(rest, offset, rest.length - offset, progress.written + done);
        offset += bytesWritten;
        done += bytesWritten;
      }
    }
    for (const chunk of chunks) {
      progress.md5.update(chunk);
      progress.checksum?.update(chunk);
    }
    progress.written += length;
    chunksWritten(length);
    onBytes?.(length);
  };
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      inflight = writeChunks([chunk]);
      inflight.then(() => callback(), callback);
    },
    writev(entries, callback) {
      inflight = writeChunks(entries.map((e) => e.chunk as Buffer));
      inflight.then(() => callback(), callback);
    },
  });
  return Object.assign(sink, { idle: () => inflight.catch(() => {}) });
}

/** Re-reads the first `bytes` of a partial file into fresh digests. */
async function hashPartial(file: FileHandle, bytes: number): Promise<Progress> {
  const progress: Progress = { written: 0, md5: createHash('md5') };
  const buffer = Buffer.alloc(1 << 20);
  while (progress.written < bytes) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, bytes - progress.written), progress.written);
    if (bytesRead === 0) break;
    progress.md5.update(buffer.subarray(0, bytesRead));
    progress.written += bytesRead;
  }
  await file.truncate(progress.written);
  return progress;
}

/** S3 asked to send its x-amz-checksum-* headers without the SDK validating (it cannot validate resumed ranges). */
function withChecksumHeaders(command: GetObjectCommand): GetObjectCommand {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-checksum-mode'] = 'ENABLED';
      return next(args);
    },
    { step: 'build', name: 'rcbsChecksumHeaders' },
  );
  return command;
}

function aborted(ref: ObjectRef): RcbsError {
  return new RcbsError('RCBS_ABORTED', `interrupted while downloading ${objectUrl(ref)}`, { bucket: ref.bucket, key: ref.key });
}

/** A body that ended before Content-Length: resumable like a reset. */
function shortBody(ref: ObjectRef, written: number, total: number): RcbsError {
  return new RcbsError('RCBS_S3_TRANSFER', `${objectUrl(ref)} ended after ${written} of ${total} bytes`,
    { bucket: ref.bucket, key: ref.key, written, total, retryable: true });
}

// A run can survive a flaky link on a large file: a failure after progress does
// not use up the budget of consecutive failures, but the total is capped too.
const TOTAL_ATTEMPTS_FACTOR = 10;

export async function downloadObject(request: TransferRequest): Promise<TransferResult> {
  const { client, bucket, key, tempPath, signal } = request;
  const ref = { bucket, key };
  const policy = request.retry ?? DEFAULT_RETRY;
  const delayMs = request.delayMs ?? ((attempt, retryAfter) => retryDelay(policy, attempt, retryAfter));
  const log = request.log ?? silentLogger;

  const file = await open(tempPath, request.resumeFrom ? 'r+' : 'w');
  let progress: Progress = { written: 0, md5: createHash('md5') };
  // A previous run's partial file: its bytes are hashed again (the digest must cover
  // the whole file), and the first request is ranged without a known ETag.
  let inherited = false;
  if (request.resumeFrom) {
    progress = await hashPartial(file, request.resumeFrom);
    inherited = progress.written > 0;
  }
  let etag: string | undefined;
  let total = 0;
  let checksum: ObjectChecksum | undefined;
  let resumes = 0;

  const restartFromZero = async () => {
    inherited = false;
    await file.truncate(0);
    progress = { written: 0, md5: createHash('md5') };
    etag = undefined;
    checksum = undefined;
  };

  /** One GET: from zero, or from what is on disk. Resolves when the file holds the whole object. */
  const attempt = async (): Promise<void> => {
    // Without an ETag nothing guards a resume: such an object is fetched whole again.
    if (progress.written > 0 && etag === undefined && !inherited) await restartFromZero();
    const from = progress.written;
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(from > 0 ? { Range: `bytes=${from}-`, IfMatch: etag } : {}),
    });
    const res = await client.send(from > 0 ? command : withChecksumHeaders(command), { abortSignal: signal });
    const body = res.Body as Readable | undefined;
    if (!body) throw new RcbsError('RCBS_S3_TRANSFER', `${objectUrl(ref)} answered without a body`, { ...ref, retryable: true });
    const range = parseContentRange(res.ContentRange);
    if (inherited) {
      inherited = false;
      // Only a plain-MD5 ETag can prove a file spliced across runs whole; otherwise start over.
      if (!etagMd5(res.ETag) || !range || range.start !== from || range.total === undefined) {
        body.destroy();
        log.debug('partial file from an earlier run cannot be verified once resumed; downloading from zero', { object: objectUrl(ref) });
        await restartFromZero();
        return attempt();
      }
      etag = res.ETag;
      total = range.total;
    }
    if (from > 0) {
      if (res.ETag !== etag || (range && range.total !== undefined && range.total !== total)) {
        body.destroy();
        throw new RcbsError('RCBS_S3_CHANGED', `${objectUrl(ref)} changed during a resumed download (ETag ${etag} became ${res.ETag})`,
          { ...ref, etag, newEtag: res.ETag });
      }
      if (!range || range.start !== from) {
        // The server ignored Range and sent the whole object: take it from zero.
        log.debug('server ignored the Range request; downloading from zero', { object: objectUrl(ref) });
        await restartFromZero();
      }
    }
    if (progress.written === 0) {
      etag = res.ETag;
      total = range?.total ?? res.ContentLength ?? 0;
      if (range?.total === undefined && res.ContentLength === undefined) {
        body.destroy();
        throw new RcbsError('RCBS_S3_INTEGRITY', `${objectUrl(ref)} answered without a Content-Length; its size cannot be checked`, { ...ref });
      }
      checksum = objectChecksum(res);
      if (checksum) progress.checksum = checksum.start();
    } else {
      resumes++;
    }
    const sink = fileSink(file, progress, request.onBytes);
    try {
      await pipeline(body, sink, { signal });
    } finally {
      await sink.idle();
    }
    if (progress.written < total) throw shortBody(ref, progress.written, total);
    verify();
  };

  /**
   * S3 answers 416 to a Range that starts at or past the object's end. For a partial file
   * from an earlier run that usually means the run died between the last byte and the
   * rename: the file is whole. A HEAD tells: same length and the MD5 the ETag names, and it
   * is kept without fetching a byte; otherwise it is downloaded again from zero.
   */
  const inheritedIsWhole = async (): Promise<boolean> => {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    const expected = etagMd5(head.ETag);
    if (!expected || head.ContentLength !== progress.written || progress.md5.copy().digest('hex') !== expected) return false;
    etag = head.ETag;
    total = head.ContentLength;
    return true;
  };

  const verify = (): void => {
    const details = { ...ref, etag, bytes: progress.written, expectedBytes: total };
    if (progress.written !== total) {
      throw new RcbsError('RCBS_S3_INTEGRITY',
        `${objectUrl(ref)}: wrote ${progress.written} bytes but the object has ${total}`, details);
    }
    const expectedMd5 = etagMd5(etag);
    if (expectedMd5) {
      const md5 = progress.md5.copy().digest('hex');
      if (md5 !== expectedMd5) {
        throw new RcbsError('RCBS_S3_INTEGRITY', `${objectUrl(ref)}: the downloaded bytes have MD5 ${md5} but the ETag says ${expectedMd5}`, details);
      }
    } else if (checksum && progress.checksum) {
      const actual = progress.checksum.digestBase64();
      if (actual !== checksum.expected) {
        throw new RcbsError('RCBS_S3_INTEGRITY', `${objectUrl(ref)}: the downloaded bytes have ${checksum.kind} ${actual} but S3 says ${checksum.expected}`, details);
      }
    }
  };

  try {
    let failures = 0;
    let attempts = 0;
    let integrityRetried = false;
    for (;;) {
      if (signal?.aborted) throw aborted(ref);
      const before = progress.written;
      attempts++;
      try {
        await attempt();
        break;
      } catch (err) {
        if (signal?.aborted) throw aborted(ref);
        if (err instanceof RcbsError && err.code === 'RCBS_S3_INTEGRITY') {
          // Corruption on the way is retried once from zero; twice means the object itself is off.
          if (integrityRetried) throw err;
          integrityRetried = true;
          log.warn('downloaded file failed its integrity check; downloading again from zero', { object: objectUrl(ref), reason: err.message });
          await restartFromZero();
          continue;
        }
        const failure = classifyS3Failure(err, ref, policy);
        if (failure.kind === 'fatal') throw failure.error;
        if (inherited && failure.kind === 'changed' && failure.error.details.status === 416) {
          inherited = false;
          if (await inheritedIsWhole().catch(() => false)) {
            verify();
            log.debug('partial file from an earlier run is already the whole object; kept', { object: objectUrl(ref), bytes: progress.written });
            break;
          }
          log.info('partial file from an earlier run is not shorter than the object and not the object itself; downloading from zero', { object: objectUrl(ref), bytes: progress.written });
          await restartFromZero();
          continue;
        }
        failures = progress.written > before ? 1 : failures + 1;
        if (failures >= policy.attempts || attempts >= policy.attempts * TOTAL_ATTEMPTS_FACTOR) {
          if (failure.kind === 'changed') throw failure.error;
          throw new RcbsError('RCBS_S3_TRANSFER', `${failure.error.message}; gave up after ${attempts} attempts`,
            { ...failure.error.details, attempts, retryable: undefined }, { cause: err });
        }
        if (failure.kind === 'changed') {
          log.warn('S3 object changed during a resumed download; downloading again from zero', { object: objectUrl(ref) });
          await restartFromZero();
          continue;
        }
        const wait = delayMs(failures, failure.kind === 'retry' ? failure.retryAfter : undefined);
        log.debug('S3 download attempt failed; retrying', { object: objectUrl(ref), reason: failure.error.message, written: progress.written, waitMs: Math.round(wait) });
        await delay(wait, undefined, { signal }).catch(() => {
          throw aborted(ref);
        });
      }
    }
    // s3-download commits with { synced: true } on the strength of this fsync.
    await file.sync();
  } finally {
    await file.close();
  }
  return {
    bytes: progress.written,
    md5: progress.md5.digest('hex'),
    ...(etag !== undefined ? { etag } : {}),
    verifiedBy: etagMd5(etag) ? 'etag-md5' : checksum?.kind ?? 'size',
    resumes,
  };
}
