// One S3 object streamed to one temp file, checked, ready for the store to rename
// (SPEC §5). The body goes straight from the socket to the file with backpressure;
// MD5 (and the object's own checksum when it has one) is computed from exactly the
// bytes that reached the file, so a cut transfer resumes with `Range: bytes=<n>-`
// and the digest still covers the whole file without re-reading it. The resumed
// response must carry the first response's ETag (If-Match is sent for real S3,
// and checked here because some S3-compatible servers ignore it); otherwise the
// object changed and the transfer starts again from zero. The whole file is then
// proved by what the object offers (object-check.ts): its full-object checksum, its
// MD5 ETag, or its size. Failures are classified by the policy in failure.ts: retried,
// resumed, restarted, this object's failure, or the run's (RUN_STOPPING_CODES).
// A large object (PartOptions) continues after its first response as parallel ranged
// parts (parts.ts): that response's body fills the first part.

import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand, HeadObjectCommand } from './sdk.js';
import { RcbsError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { isRetryableError, retryDelay } from '../retry.js';
import { classifyS3Failure, objectUrl, S3_RETRY, type ObjectRef, type TransferRetryPolicy } from './failure.js';
import { isChecksumMethod, offeredCheck, startDigest, type CheckMethod, type Digest, type ObjectCheck } from './object-check.js';
import { answerWait, PartedDownload, readPartList, removePartList, storeIsFar, type PartOptions } from './parts.js';
import type { HandOff } from './transfer-slots.js';
import { chunksWritten } from './socket-garbage.js';

export { etagMd5 } from './object-check.js';

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
  /** No byte for this long (headers or body) aborts the attempt, which is then resumed by Range (s3StallTimeout). */
  stallTimeoutMs?: number;
  /** The client for the region S3 says the bucket is in (BucketClient.follow); without it, that answer fails the file. */
  followRegion?: (region: string) => S3Client;
  /** Large objects as parallel ranged GETs (parts.ts); without it, one GET per object. */
  parts?: PartOptions;
  /** Hands the transfer's slot to the next transfer waiting (TransferSlots): a large object
   * does once its first part is in, and its other parts go on the spare connections. */
  handOff?: HandOff;
}

export interface TransferResult {
  bytes: number;
  /** Hex MD5 of the file as written (the index keeps it for `verify`). */
  md5: string;
  etag?: string;
  /** What proved the file right besides its length (object-check.ts). */
  verifiedBy: CheckMethod;
  /** The object's full-object checksum (base64) when verifiedBy is a checksum method. */
  checksum?: string;
  /** Ranged requests that continued a cut transfer. */
  resumes: number;
  /** Parts, when the object came as parallel ranged GETs. */
  parts?: number;
}

/** `bytes <start>-<end>/<total>` */
export function parseContentRange(value: string | undefined): { start: number; end: number; total?: number } | undefined {
  const m = value ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** What is on disk so far, and digests of exactly those bytes. */
export interface Progress {
  written: number;
  md5: Hash;
  /** The digest of the object's checksum method, when it has one. */
  checksum?: Digest;
}

/** Bytes of a body held before they are written together (fileSink). */
const WRITE_BATCH_BYTES = 128 << 10;
/** The longest a held chunk waits for the disk (fileSink). */
const HOLD_MS = 50;

/** Writes at explicit offsets and reports a chunk (`written`) only once it is on disk, so the
 * transfer's progress never runs ahead of the file. `idle()` waits for the write on the
 * thread pool: when a transfer breaks, that write may still land and move the progress
 * after the stream has failed, and a resume computed before it would write the rest at
 * the wrong offset (the MD5 caught it; the retry refetched from zero). */
export function fileSink(
  file: FileHandle,
  progress: { written: number },
  written: (chunks: Buffer[], length: number) => void,
  watch: StallWatch,
  highWaterMark = 1 << 20,
): Writable & { idle(): Promise<void> } {
  let inflight: Promise<void> = Promise.resolve();
  const writeChunks = async (chunks: Buffer[]) => {
    watch.activity(true);
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
    watch.activity(false);
  };
  // A write costs ~15-20 µs of this thread whatever its size (bench/write-calls.mjs), and
  // the page cache takes a socket chunk (at most 64 KiB; a TLS record holds 16 KiB) before
  // the next one comes, so a chunk was a write of its own unless a write was
  // still on the thread pool. Chunks are held until `batch` bytes are in and then written
  // together (one writev): a quarter less client CPU over the model (BENCHMARKS.md), some
  // 10 MB more peak RSS (held chunks likely outlive a young GC: not measured). A held
  // chunk reaches the disk at the latest HOLD_MS after it came, when the body ends, or when
  // the sink is destroyed (a cut, a stall, a stop): what came before a break is on disk
  // for the resume, and a partial a killed run leaves has all but the last HOLD_MS.
  const batch = Math.min(WRITE_BATCH_BYTES, highWaterMark);
  let held: Buffer[] = [];
  let heldBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  /** Writes what is held after the writes already on their way; resolves when it is on disk. */
  const writeHeld = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (heldBytes === 0) return inflight;
    const chunks = held;
    held = [];
    heldBytes = 0;
    inflight = inflight.then(() => writeChunks(chunks));
    return inflight;
  };
  const take = (chunks: Buffer[], callback: (error?: Error | null) => void) => {
    for (const chunk of chunks) {
      held.push(chunk);
      heldBytes += chunk.length;
    }
    if (heldBytes >= batch) {
      writeHeld().then(() => callback(), callback);
      return;
    }
    watch.activity(false); // a chunk came: not a stall
    // A failed write is met by the next write, the end, or the destroy (all wait on `inflight`).
    timer ??= setTimeout(() => void writeHeld().catch(() => {}), HOLD_MS);
    callback();
  };
  const sink = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      take([chunk], callback);
    },
    writev(entries, callback) {
      take(entries.map((e) => e.chunk as Buffer), callback);
    },
    final(callback) {
      writeHeld().then(() => callback(), callback);
    },
    destroy(error, callback) {
      writeHeld().then(() => callback(error), (writeError: Error) => callback(error ?? writeError));
    },
  });
  return Object.assign(sink, { idle: () => inflight.catch(() => {}) });
}

export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

/**
 * s3StallTimeout: a request whose answer stops (no header, or no body byte) for `ms`
 * is aborted. The SDK's socket timeout does not cover a body on a socket that stays
 * alive, and a stalled body is not the SDK's to retry (FACTS.md): the transfer resumes
 * it by Range. Time spent writing to disk does not count (backpressure is not a stall).
 */
export class StallWatch {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  #writing = false;

  constructor(readonly ms: number) {
    this.#timer = setTimeout(() => this.#expire(), ms);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get stalled(): boolean {
    return this.#controller.signal.aborted;
  }

  /** A chunk arrived (writing) or reached the disk (not writing): the clock starts again. */
  activity(writing: boolean): void {
    this.#writing = writing;
    this.#timer.refresh();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  #expire(): void {
    if (this.#writing) this.#timer.refresh();
    else this.#controller.abort();
  }
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

/**
 * S3 asked to send its x-amz-checksum-* headers, as a header and not as the command's
 * ChecksumMode, so the SDK does not validate them too. With ChecksumMode ENABLED (or
 * responseChecksumValidation WHEN_SUPPORTED, which sets it) @aws-sdk/client-s3 3.1175
 * wraps the body in its own checksum stream (@aws-sdk/checksums flexible-checksums:
 * createChecksumStream): a second pass over every byte with its pure-JS CRC64NVME
 * (~195 MB/s here, bench/checksums.mjs), and a mismatch surfaces as a plain Error at the
 * body's end, which rcbs could not tell from a broken link. rcbs checks every file
 * itself, across resumed ranges the SDK never sees as one object (client.ts keeps
 * responseChecksumValidation WHEN_REQUIRED; test/s3-verify-by-offer.test.ts pins it).
 */
export function withChecksumHeaders<C extends GetObjectCommand | HeadObjectCommand>(command: C): C {
  // One build-step middleware fits both commands; their stacks differ only in input types.
  (command as GetObjectCommand).middlewareStack.add(
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
  #client: S3Client;
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
  /** How the file is proved to be the object, from the first response (or a HEAD for a partial file). */
  check: ObjectCheck | undefined;
  /** The checksum of what is on disk, once computed (a digest can be finished only once). */
  #finalChecksum: string | undefined;
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
  /** ExpiredToken: the credentials were fetched again once. */
  credentialsRefreshed = false;
  /** The bucket's region, as S3 named it, was followed. */
  regionFollowed = false;
  /** S3 answered at least once (headers): a later failure is not "unreachable". */
  answered = false;
  /** The object is coming in parallel parts (parts.ts): later attempts fetch the parts still missing. */
  parted: PartedDownload | undefined;

  constructor(request: TransferRequest, file: FileHandle) {
    this.#request = request;
    this.#client = request.client;
    this.#file = file;
    this.ref = { bucket: request.bucket, key: request.key };
    this.#policy = request.retry ?? S3_RETRY;
    this.#delayMs = request.delayMs ?? ((attempt, retryAfter) => retryDelay(this.#policy, attempt, retryAfter));
    this.#log = request.log ?? silentLogger;
    this.#signal = request.signal;
  }

  async run(): Promise<TransferResult> {
    const partList = this.#request.resumeFrom ? await readPartList(this.#request.tempPath) : undefined;
    if (partList) {
      // A previous run's parts: kept when the part list can be trusted and parts are on,
      // else the file (with holes) is fetched again from zero.
      if (partList === 'invalid' || !this.#request.parts) await this.restartFromZero();
      else await this.#continueParts(partList.etag, partList.total, partList.check, partList.partSize, partList.done);
    } else if (this.#request.resumeFrom) {
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
    if (this.parted) await removePartList(this.#request.tempPath);
    return {
      bytes: this.progress.written,
      md5: this.progress.md5.digest('hex'),
      ...(this.etag !== undefined ? { etag: this.etag } : {}),
      verifiedBy: this.check?.method ?? 'size',
      ...(this.check && isChecksumMethod(this.check.method) ? { checksum: this.check.expected } : {}),
      resumes: this.resumes,
      ...(this.parted ? { parts: this.parted.parts } : {}),
    };
  }

  /** One GET: from zero, or from what is on disk. Resolves when the file holds the whole object. */
  async #attempt(): Promise<void> {
    if (this.parted) {
      // Each part has its own stall watch.
      this.answered = true;
      await this.parted.run();
      this.onEnd();
      return;
    }
    const watch = new StallWatch(this.#request.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS);
    try {
      await this.#requestOnce(watch);
    } catch (err) {
      if (watch.stalled && !this.#signal?.aborted) {
        throw new RcbsError('RCBS_S3_TRANSFER', `${objectUrl(this.ref)} stalled: no byte for ${watch.ms} ms (s3StallTimeout) after ${this.progress.written} bytes`,
          { ...this.ref, written: this.progress.written, retryable: true }, { cause: err });
      }
      throw err;
    } finally {
      watch.stop();
    }
  }

  async #requestOnce(watch: StallWatch): Promise<void> {
    const signal = this.#signal ? AbortSignal.any([this.#signal, watch.signal]) : watch.signal;
    for (;;) {
      const from = await this.resume();
      const command = new GetObjectCommand({
        Bucket: this.ref.bucket,
        Key: this.ref.key,
        ...(from > 0 ? { Range: `bytes=${from}-`, IfMatch: this.etag } : {}),
      });
      this.attempts++;
      const wait = this.#request.parts?.distance && from === 0 ? answerWait() : undefined;
      const res = await this.#client.send(from > 0 ? command : withChecksumHeaders(command), { abortSignal: signal });
      const waited = wait?.();
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
      const parts = this.#request.parts;
      const etag = this.etag;
      const large = parts && from === 0 && parts.threshold > 0 && this.total >= parts.threshold && this.total > parts.size && etag !== undefined;
      const distance = parts?.distance;
      // `waited` is set only with a distance (s3PartThreshold unset).
      if (large && waited && storeIsFar(waited)) distance!.markFar();
      /** Judged near: whole, unless the run learns better while it comes (StoreDistance). */
      const revisable = Boolean(large && waited && !distance!.far);
      if (revisable) {
        this.#log.debug('S3 is near (its answer came quickly, or while rcbs was busy): the object comes whole, not in parts', { object: objectUrl(this.ref), bytes: this.total, answeredMs: Math.round(waited!.ms), idleMs: Math.round(waited!.idleMs) });
      } else if (large) {
        // Large: this body fills the first part, ranged GETs the rest (parts.ts).
        watch.stop();
        await this.#continueParts(etag, this.total, this.check ?? { method: 'size' }, parts.size, [], body);
        return;
      }
      const sink = fileSink(this.#file, this.progress, (chunks, length) => this.onChunk(chunks, length), watch);
      // The store showed far after all: this body stops where it is, and what it has not
      // brought yet comes in parts (at least two parts' worth left, else it is not worth it).
      let cut = false;
      const cancel = revisable
        ? distance!.onFar(() => {
            if (body.readableEnded || body.destroyed || this.total - this.progress.written < 2 * parts!.size) return;
            cut = true;
            body.destroy(new Error('cut: the rest comes in parts'));
          })
        : undefined;
      let whole = false;
      try {
        await pipeline(body, sink, { signal });
        whole = true;
      } catch (err) {
        if (!cut || this.#signal?.aborted) throw err;
      } finally {
        cancel?.();
        await sink.idle();
      }
      if (!whole) {
        watch.stop();
        // Parts wholly on disk are kept (read back for the whole-file check); the one the
        // body was in comes again.
        const done = Array.from({ length: Math.floor(this.progress.written / parts!.size) }, (_, i) => i);
        this.#log.debug('S3 showed far on another object: the rest of this one comes in parts', { object: objectUrl(this.ref), bytes: this.total, had: this.progress.written });
        await this.#continueParts(etag!, this.total, this.check ?? { method: 'size' }, parts!.size, done);
        this.answered = true;
        await this.parted!.run();
      }
      this.onEnd();
      return;
    }
  }

  /** Fetches the object's parts still missing (all but `done`), `firstBody` filling part 0. */
  async #continueParts(etag: string, total: number, check: ObjectCheck, partSize: number, done: readonly number[], firstBody?: Readable): Promise<void> {
    this.etag = etag;
    this.total = total;
    this.progress = freshProgress();
    await this.#adoptCheck(check);
    this.parted = new PartedDownload({
      ref: this.ref,
      file: this.#file,
      tempPath: this.#request.tempPath,
      client: () => this.#client,
      etag,
      total,
      check,
      partSize,
      progress: this.progress,
      spare: this.#request.parts!.spare,
      ...(this.#request.handOff ? { handOff: this.#request.handOff } : {}),
      done,
      ...(this.#signal ? { signal: this.#signal } : {}),
      stallTimeoutMs: this.#request.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      policy: this.#policy,
      delayMs: this.#delayMs,
      log: this.#log,
      ...(this.#request.onBytes ? { onBytes: this.#request.onBytes } : {}),
    });
    if (!firstBody) return;
    this.answered = true;
    await this.parted.run(firstBody);
    this.onEnd();
  }

  /** Where the next request starts: what is on disk, unless nothing can guard a resume. */
  async resume(): Promise<number> {
    // Without an ETag nothing guards a resume: such an object is fetched whole again.
    if (this.progress.written > 0 && this.etag === undefined && !this.inherited) await this.restartFromZero();
    return this.progress.written;
  }

  /** The response head: decides whether its body continues the file ('body') or a new request is needed ('again'). */
  async onHeaders(res: GetObjectCommandOutput, from: number): Promise<'body' | 'again'> {
    this.answered = true;
    const range = parseContentRange(res.ContentRange);
    if (this.inherited) {
      this.inherited = false;
      // A file spliced across runs is accepted only if the whole of it can be proved: a
      // ranged answer carries no whole-object checksum, so when its ETag is no MD5 a HEAD
      // asks for the object's checksum (same ETag, so the same object). Else start over.
      let check = offeredCheck(res);
      if (check.method === 'size' && range && range.start === from) {
        const head = await this.#head();
        if (head.ETag === res.ETag) check = offeredCheck(head);
      }
      if (check.method === 'size' || !range || range.start !== from || range.total === undefined) {
        this.#log.debug('partial file from an earlier run cannot be verified once resumed; downloading from zero', { object: objectUrl(this.ref) });
        await this.restartFromZero();
        return 'again';
      }
      await this.#adoptCheck(check);
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
      await this.#adoptCheck(offeredCheck(res));
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
    if (failure.kind === 'region') {
      // Followed once per transfer: a second redirect means the redirects go round.
      if (!this.#request.followRegion || this.regionFollowed) throw failure.error;
      this.regionFollowed = true;
      this.#client = this.#request.followRegion(failure.region);
      return 'again';
    }
    if (failure.kind === 'fatal') throw failure.error;
    if (failure.kind === 'stop') {
      // An expired session token may only need the credentials fetched again (a role, SSO): once.
      if (!failure.refreshCredentials || this.credentialsRefreshed) throw failure.error;
      this.credentialsRefreshed = true;
      this.#log.info('S3 says the session token expired; refreshing the credentials once', { object: objectUrl(this.ref) });
      await this.#client.config.credentials({ forceRefresh: true }).catch(() => undefined);
      return 'again';
    }
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
      if (!this.answered && isRetryableError({ ...this.#policy, errorCodes: this.#policy.unreachableCodes }, err)) {
        throw new RcbsError('RCBS_S3_UNREACHABLE', `S3 could not be reached for ${objectUrl(this.ref)} after ${this.attempts} attempts (${failure.error.message}): check s3Endpoint / the region, the network, and awsProxyHost/awsProxyPort if a proxy is needed; the run stops`,
          { ...failure.error.details, attempts: this.attempts, retryable: undefined }, { cause: err });
      }
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
    await delay(wait, undefined, { signal }).catch(() => {
      throw aborted(this.ref);
    });
    return 'again';
  }

  async restartFromZero(): Promise<void> {
    this.inherited = false;
    this.parted = undefined;
    await removePartList(this.#request.tempPath);
    await this.#file.truncate(0);
    this.progress = freshProgress();
    this.etag = undefined;
    this.check = undefined;
    this.#finalChecksum = undefined;
  }

  /** Takes the object's check; a checksum's digest is brought up to what is on disk already. */
  async #adoptCheck(check: ObjectCheck): Promise<void> {
    this.check = check;
    this.#finalChecksum = undefined;
    if (!isChecksumMethod(check.method)) return;
    const digest = await startDigest(check.method);
    const buffer = Buffer.alloc(Math.min(1 << 20, Math.max(1, this.progress.written)));
    for (let at = 0; at < this.progress.written; ) {
      const { bytesRead } = await this.#file.read(buffer, 0, Math.min(buffer.length, this.progress.written - at), at);
      if (bytesRead === 0) break;
      digest.update(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
    this.progress.checksum = digest;
  }

  #head() {
    return this.#client.send(withChecksumHeaders(new HeadObjectCommand({ Bucket: this.ref.bucket, Key: this.ref.key })), { abortSignal: this.#signal });
  }

  #checksumOnDisk(): string | undefined {
    this.#finalChecksum ??= this.progress.checksum?.digest();
    return this.#finalChecksum;
  }

  /**
   * S3 answers 416 to a Range that starts at or past the object's end. For a partial file
   * from an earlier run that usually means the run died between the last byte and the
   * rename: the file is whole. A HEAD tells: same length and the object's checksum or the
   * MD5 its ETag names, and it is kept without fetching a byte; otherwise it is downloaded
   * again from zero.
   */
  async #inheritedIsWhole(): Promise<boolean> {
    const head = await this.#head();
    const check = offeredCheck(head);
    if (check.method === 'size' || head.ContentLength !== this.progress.written) return false;
    await this.#adoptCheck(check);
    const actual = check.method === 'etag-md5' ? this.progress.md5.copy().digest('hex') : this.#checksumOnDisk();
    if (actual !== check.expected) return false;
    this.etag = head.ETag;
    this.total = head.ContentLength;
    return true;
  }

  /** Length, then the object's checksum or the ETag's MD5, against what is on disk. */
  verify(): void {
    const { ref, progress, total, etag, check } = this;
    const details = { ...ref, etag, bytes: progress.written, expectedBytes: total, verifiedBy: check?.method };
    if (progress.written !== total) {
      throw new RcbsError('RCBS_S3_INTEGRITY',
        `${objectUrl(ref)}: wrote ${progress.written} bytes but the object has ${total}`, details);
    }
    if (check?.method === 'etag-md5') {
      const md5 = progress.md5.copy().digest('hex');
      if (md5 !== check.expected) {
        throw new RcbsError('RCBS_S3_INTEGRITY', `${objectUrl(ref)}: the downloaded bytes have MD5 ${md5} but the ETag says ${check.expected}`, details);
      }
    } else if (check && isChecksumMethod(check.method)) {
      const actual = this.#checksumOnDisk();
      if (actual !== check.expected) {
        throw new RcbsError('RCBS_S3_INTEGRITY', `${objectUrl(ref)}: the downloaded bytes have ${check.method.toUpperCase()} ${actual} but S3 says ${check.expected}`, details);
      }
    }
  }
}

export async function downloadObject(request: TransferRequest): Promise<TransferResult> {
  // Read as well as written: parts that land ahead of the hashed frontier are read back (parts.ts).
  const file = await open(request.tempPath, request.resumeFrom ? 'r+' : 'w+');
  try {
    return await new ObjectTransfer(request, file).run();
  } finally {
    await file.close();
  }
}
