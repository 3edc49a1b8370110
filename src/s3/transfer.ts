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
import zlib from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { RcbsError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { retryDelay, sleep } from '../retry.js';
import { classifyS3Failure, objectUrl, S3_RETRY, type ObjectRef, type TransferRetryPolicy } from './failure.js';
import { chunksWritten } from './socket-garbage.js';

export interface TransferRequest extends ObjectRef {
  client: S3Client;
  /** The store's temp file beside the final name; created or truncated here. */
  tempPath: string;
  signal?: AbortSignal;
  retry?: TransferRetryPolicy;
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

/** Writes at explicit offsets and reports a chunk (`written`) only once it is on disk, so the
 * transfer's progress never runs ahead of the file. `idle()` waits for the write on the
 * thread pool: when a transfer breaks, that write may still land and move the progress
 * after the stream has failed, and a resume computed before it would write the rest at
 * the wrong offset (the MD5 caught it; the retry refetched from zero). */
function fileSink(file: FileHandle, progress: Progress, written: (chunks: Buffer[], length: number) => void): Writable & { idle(): Promise<void> } {
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
    written(chunks, length);
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

function freshProgress(): Progress {
  return { written: 0, md5: createHash('md5') };
}

/** Re-reads the first `bytes` of a partial file into fresh digests. */
async function hashPartial(file: FileHandle, bytes: number): Promise<Progress> {
  const progress = freshProgress();
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

/** What the transfer does after a failed attempt. */
type AfterFailure = 'again' | 'done';

/**
 * One object's transfer as explicit state (issue 16): the fields say where it stands,
 * one method per event (headers, chunk, end, error, resume) moves it on. The loop in
 * `run` only sends requests and hands each outcome to these methods, so a checksum
 * method or a ranged part is a field and an event handler, not another closure.
 */
class ObjectTransfer {
  readonly ref: ObjectRef;
  readonly #request: TransferRequest;
  readonly #file: FileHandle;
  readonly #policy: TransferRetryPolicy;
  readonly #delayMs: (attempt: number, retryAfter: string | undefined) => number;
  readonly #log: Logger;
  readonly #signal: AbortSignal | undefined;

  /** Bytes on disk and digests of exactly those bytes. */
  progress: Progress = freshProgress();
  /** The ETag of the first response: every resumed range must carry it. */
  etag: string | undefined;
  /** The object's length, from the first response. */
  total = 0;
  /** The object's own full-object checksum, from the first response. */
  checksum: ObjectChecksum | undefined;
  /** The partial file is a previous run's: no ETag guards it, the first response decides. */
  inherited = false;
  /** Ranged requests that continued a cut transfer. */
  resumes = 0;
  /** Requests sent. */
  attempts = 0;
  /** Failures in a row without a byte of progress (a failure after progress counts as the first). */
  failures = 0;
  /** A failed integrity check is retried once from zero; twice means the object itself is off. */
  integrityRetried = false;

  constructor(request: TransferRequest, file: FileHandle) {
    this.#request = request;
    this.#file = file;
    this.ref = { bucket: request.bucket, key: request.key };
    this.#policy = request.retry ?? S3_RETRY;
    this.#delayMs = request.delayMs ?? ((attempt, retryAfter) => retryDelay(this.#policy, attempt, retryAfter));
    this.#log = request.log ?? silentLogger;
    this.#signal = request.signal;
  }

  async run(): Promise<TransferResult> {
    if (this.#request.resumeFrom) {
      // A previous run's partial file: its bytes are hashed again (the digest must cover
      // the whole file), and the first request is ranged without a known ETag.
      this.progress = await hashPartial(this.#file, this.#request.resumeFrom);
      this.inherited = this.progress.written > 0;
    }
    for (;;) {
      if (this.#signal?.aborted) throw aborted(this.ref);
      const before = this.progress.written;
      try {
        await this.#attempt();
        break;
      } catch (err) {
        if ((await this.onError(err, before)) === 'done') break;
      }
    }
    // s3-download commits with { synced: true } on the strength of this fsync.
    await this.#file.sync();
    return {
      bytes: this.progress.written,
      md5: this.progress.md5.digest('hex'),
      ...(this.etag !== undefined ? { etag: this.etag } : {}),
      verifiedBy: etagMd5(this.etag) ? 'etag-md5' : this.checksum?.kind ?? 'size',
      resumes: this.resumes,
    };
  }

  /** One GET: from zero, or from what is on disk. Resolves when the file holds the whole object. */
  async #attempt(): Promise<void> {
    for (;;) {
      const from = await this.resume();
      const command = new GetObjectCommand({
        Bucket: this.ref.bucket,
        Key: this.ref.key,
        ...(from > 0 ? { Range: `bytes=${from}-`, IfMatch: this.etag } : {}),
      });
      this.attempts++;
      const res = await this.#request.client.send(from > 0 ? command : withChecksumHeaders(command), { abortSignal: this.#signal });
      const body = res.Body as Readable | undefined;
      if (!body) throw new RcbsError('RCBS_S3_TRANSFER', `${objectUrl(this.ref)} answered without a body`, { ...this.ref, retryable: true });
      let next: 'body' | 'again';
      try {
        next = await this.onHeaders(res, from);
      } catch (err) {
        body.destroy();
        throw err;
      }
      if (next === 'again') {
        body.destroy();
        continue;
      }
      const sink = fileSink(this.#file, this.progress, (chunks, length) => this.onChunk(chunks, length));
      try {
        await pipeline(body, sink, { signal: this.#signal });
      } finally {
        await sink.idle();
      }
      this.onEnd();
      return;
    }
  }

  /** Where the next request starts: what is on disk, unless nothing can guard a resume. */
  async resume(): Promise<number> {
    // Without an ETag nothing guards a resume: such an object is fetched whole again.
    if (this.progress.written > 0 && this.etag === undefined && !this.inherited) await this.restartFromZero();
    return this.progress.written;
  }

  /** The response head: decides whether its body continues the file ('body') or a new request is needed ('again'). */
  async onHeaders(res: GetObjectCommandOutput, from: number): Promise<'body' | 'again'> {
    const range = parseContentRange(res.ContentRange);
    if (this.inherited) {
      this.inherited = false;
      // Only a plain-MD5 ETag can prove a file spliced across runs whole; otherwise start over.
      if (!etagMd5(res.ETag) || !range || range.start !== from || range.total === undefined) {
        this.#log.debug('partial file from an earlier run cannot be verified once resumed; downloading from zero', { object: objectUrl(this.ref) });
        await this.restartFromZero();
        return 'again';
      }
      this.etag = res.ETag;
      this.total = range.total;
    }
    if (from > 0) {
      if (res.ETag !== this.etag || (range && range.total !== undefined && range.total !== this.total)) {
        throw new RcbsError('RCBS_S3_CHANGED', `${objectUrl(this.ref)} changed during a resumed download (ETag ${this.etag} became ${res.ETag})`,
          { ...this.ref, etag: this.etag, newEtag: res.ETag });
      }
      if (!range || range.start !== from) {
        // The server ignored Range and sent the whole object: take it from zero.
        this.#log.debug('server ignored the Range request; downloading from zero', { object: objectUrl(this.ref) });
        await this.restartFromZero();
      }
    }
    if (this.progress.written === 0) {
      if (range?.total === undefined && res.ContentLength === undefined) {
        throw new RcbsError('RCBS_S3_INTEGRITY', `${objectUrl(this.ref)} answered without a Content-Length; its size cannot be checked`, { ...this.ref });
      }
      this.etag = res.ETag;
      this.total = range?.total ?? res.ContentLength ?? 0;
      this.checksum = objectChecksum(res);
      if (this.checksum) this.progress.checksum = this.checksum.start();
    } else {
      this.resumes++;
    }
    return 'body';
  }

  /** Chunks that reached the file: their digests (the file sink calls this only once they are on disk). */
  onChunk(chunks: Buffer[], length: number): void {
    for (const chunk of chunks) {
      this.progress.md5.update(chunk);
      this.progress.checksum?.update(chunk);
    }
    this.progress.written += length;
    chunksWritten(length);
    this.#request.onBytes?.(length);
  }

  /** The body ended: short means resumable, whole means checked. */
  onEnd(): void {
    if (this.progress.written < this.total) throw shortBody(this.ref, this.progress.written, this.total);
    this.verify();
  }

  /** A failed attempt: retried, resumed, restarted from zero, accepted ('done'), or thrown. */
  async onError(err: unknown, before: number): Promise<AfterFailure> {
    const signal = this.#signal;
    if (signal?.aborted) throw aborted(this.ref);
    if (err instanceof RcbsError && err.code === 'RCBS_S3_INTEGRITY') {
      if (this.integrityRetried) throw err;
      this.integrityRetried = true;
      this.#log.warn('downloaded file failed its integrity check; downloading again from zero', { object: objectUrl(this.ref), reason: err.message });
      await this.restartFromZero();
      return 'again';
    }
    const failure = classifyS3Failure(err, this.ref, this.#policy);
    if (failure.kind === 'fatal') throw failure.error;
    if (this.inherited && failure.kind === 'changed' && failure.error.details.status === 416) {
      this.inherited = false;
      if (await this.#inheritedIsWhole().catch(() => false)) {
        this.verify();
        this.#log.debug('partial file from an earlier run is already the whole object; kept', { object: objectUrl(this.ref), bytes: this.progress.written });
        return 'done';
      }
      this.#log.info('partial file from an earlier run is not shorter than the object and not the object itself; downloading from zero', { object: objectUrl(this.ref), bytes: this.progress.written });
      await this.restartFromZero();
      return 'again';
    }
    this.failures = this.progress.written > before ? 1 : this.failures + 1;
    if (this.failures > this.#policy.maxRetries || this.attempts >= this.#policy.maxAttempts) {
      if (failure.kind === 'changed') throw failure.error;
      throw new RcbsError('RCBS_S3_TRANSFER', `${failure.error.message}; gave up after ${this.attempts} attempts`,
        { ...failure.error.details, attempts: this.attempts, retryable: undefined }, { cause: err });
    }
    if (failure.kind === 'changed') {
      this.#log.warn('S3 object changed during a resumed download; downloading again from zero', { object: objectUrl(this.ref) });
      await this.restartFromZero();
      return 'again';
    }
    const wait = this.#delayMs(this.failures, failure.kind === 'retry' ? failure.retryAfter : undefined);
    this.#log.debug('S3 download attempt failed; retrying', { object: objectUrl(this.ref), reason: failure.error.message, written: this.progress.written, waitMs: Math.round(wait) });
    if (!(await sleep(wait, signal))) throw aborted(this.ref);
    return 'again';
  }

  async restartFromZero(): Promise<void> {
    this.inherited = false;
    await this.#file.truncate(0);
    this.progress = freshProgress();
    this.etag = undefined;
    this.checksum = undefined;
  }

  /**
   * S3 answers 416 to a Range that starts at or past the object's end. For a partial file
   * from an earlier run that usually means the run died between the last byte and the
   * rename: the file is whole. A HEAD tells: same length and the MD5 the ETag names, and it
   * is kept without fetching a byte; otherwise it is downloaded again from zero.
   */
  async #inheritedIsWhole(): Promise<boolean> {
    const head = await this.#request.client.send(new HeadObjectCommand({ Bucket: this.ref.bucket, Key: this.ref.key }), { abortSignal: this.#signal });
    const expected = etagMd5(head.ETag);
    if (!expected || head.ContentLength !== this.progress.written || this.progress.md5.copy().digest('hex') !== expected) return false;
    this.etag = head.ETag;
    this.total = head.ContentLength;
    return true;
  }

  /** Length, then the ETag's MD5 or the object's checksum, against what is on disk. */
  verify(): void {
    const { ref, progress, total, etag, checksum } = this;
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
  }
}

export async function downloadObject(request: TransferRequest): Promise<TransferResult> {
  const file = await open(request.tempPath, request.resumeFrom ? 'r+' : 'w');
  try {
    return await new ObjectTransfer(request, file).run();
  } finally {
    await file.close();
  }
}
