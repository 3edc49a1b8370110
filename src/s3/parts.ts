// A large object as parallel ranged GETs into its one temp file (SPEC §8, issue 15).
//
// The first GET is the ordinary whole-object one (transfer.ts): its headers give the
// size, the ETag and the whole-object checksum (a ranged GET carries none: FACTS.md),
// so the small-object path keeps its one request and a large object needs no HEAD.
// When the object is at least s3PartThreshold (unset: 64 MiB, and only when that GET's
// answer showed a far store: storeIsFar), that body is read for its first part only
// and closed; the other parts are `Range: bytes=a-b` GETs (never suffix ranges: s3rver
// gets `bytes=-N` wrong), each written at its offset and guarded by the ETag (a
// part with another ETag means the object changed: RCBS_S3_CHANGED, the transfer
// starts again from zero). The transfer's own connection takes parts one after
// another; more parts run on spare connections (`spare`: the run's budget beyond its
// numThreads transfers), so a big object uses what small ones leave idle. When another
// transfer waits for a slot, the own connection hands its slot over after its part
// (`handOff`) and the spare connections finish the object: the numThreads transfer
// slots keep moving through the small objects, whose round trips would otherwise leave
// the link idle once the big ones are done (largest first), and the parts fill it.
//
// The whole-file check of SPEC §5 still holds: MD5 and the object's checksum are
// computed over the bytes in order. A chunk that lands at the hashed frontier is
// hashed from memory as it arrives; a part that finished ahead of the frontier is
// read back from the file (the page cache) when the frontier reaches it. Memory stays
// that of the sockets in flight; nothing is buffered to wait for its turn.
//
// Each finished part is fsynced and listed in a small file beside the temp file
// (partListOf), itself fsynced, so a run killed mid-way continues with the parts that
// are missing; the finished ones are read again for the whole-file check. A cut or
// stalled part is retried alone, from the byte it reached.

import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand } from './sdk.js';
import { RcbsError } from '../errors.js';
import type { Logger } from '../log.js';
import { partListOf } from '../store/atomic.js';
import { classifyS3Failure, objectUrl, type ObjectRef, type TransferRetryPolicy } from './failure.js';
import { CHECKSUM_METHODS, type ObjectCheck } from './object-check.js';
import { chunksWritten } from './socket-garbage.js';
import type { HandOff, TransferSlots } from './transfer-slots.js';
import { fileSink, parseContentRange, StallWatch, type Progress } from './transfer.js';

export interface PartOptions {
  /** Bytes per ranged GET (s3PartSize). */
  size: number;
  /** Objects at least this large are split (s3PartThreshold); 0 = never. */
  threshold: number;
  /** s3PartThreshold unset: split only an object whose first GET shows a far store (storeIsFar),
   * or once the run has learnt that its store is far; shared by the run's transfers. */
  distance?: StoreDistance;
  /** Connections beyond the transfers' own (the run's budget): a parted object's extra parts run on these. */
  spare: TransferSlots;
}

const MiB = 1 << 20;

/**
 * With s3PartThreshold unset, parts only from a far store (SPEC §8: "over a real network,
 * tens of ms of round trip, a per-connection rate below the link's"). A store on this
 * machine or the LAN gives one connection all it can, and there the parts only cost CPU:
 * on the loopback, with s3rver sharing the two cores, the bench backup took ~10% longer
 * with them (BENCHMARKS.md).
 *
 * Far: the answer to the object's first GET took at least FAR_STORE_MS, and rcbs sat idle
 * for at least FAR_STORE_IDLE_MS of that wait. Time alone misleads on a busy machine: on the
 * loopback at numThreads 16 the first GETs of a run answered after 6-105 ms, nearly all of
 * it rcbs's own work (its event loop idle 1.5 ms at most). Through the WAN model (RTT 40 ms)
 * they took 44-66 ms, 9-40 of them idle. A real network puts its round trip (SPEC §8: tens
 * of ms) into every answer, and the wait for it is idle unless rcbs is saturated.
 */
export const FAR_STORE_MS = 25;
export const FAR_STORE_IDLE_MS = 5;

export interface AnswerWait {
  ms: number;
  /** Of which the event loop was idle: waiting for the network, not working. */
  idleMs: number;
}

/** Starts timing a request's wait for its answer; call the result when the answer came. */
export function answerWait(): () => AnswerWait {
  const asked = performance.now();
  const loop = performance.eventLoopUtilization();
  return () => ({ ms: performance.now() - asked, idleMs: performance.eventLoopUtilization(loop).idle });
}

export function storeIsFar(wait: AnswerWait): boolean {
  return wait.ms >= FAR_STORE_MS && wait.idleMs >= FAR_STORE_IDLE_MS;
}

/**
 * What a run has learnt of its store's distance, shared by its transfers (s3PartThreshold
 * unset). Far once any large object's first GET showed it (storeIsFar). A near judgement is
 * only a guess: rcbs may have been busy through a far store's round trip (through the WAN
 * model a run at numThreads 16 once judged one of its four 100 MiB objects near, and that
 * object then came whole over one connection at the per-connection rate, 3.5 s after all the
 * rest: 13.35 s against 9.81). So near is never remembered: once the store shows far, later
 * large objects come in parts whatever their own first answer looked like, and one already
 * coming whole is cut into parts from where it is (transfer.ts).
 */
export class StoreDistance {
  #far = false;
  readonly #listeners = new Set<() => void>();

  get far(): boolean {
    return this.#far;
  }

  markFar(): void {
    if (this.#far) return;
    this.#far = true;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener();
  }

  /** Calls `listener` once the store shows far (not if it already has); returns a cancel. */
  onFar(listener: () => void): () => void {
    if (this.#far) return () => {};
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** s3PartThreshold unset (from a store that is not near). */
export const DEFAULT_PART_THRESHOLD = 64 * MiB;

/** Across the parts in flight at once, at the end of an object: PART_BYTES_IN_FLIGHT / numThreads. */
const PART_BYTES_IN_FLIGHT = 64 * MiB;
const MIN_DEFAULT_PART = 2 * MiB;
const MAX_DEFAULT_PART = 8 * MiB;

/**
 * The part size when s3PartSize is not set: 64 MiB / numThreads in whole MiB, from 2 to 8 MiB.
 *
 * What is left to hash after an object's last byte is what landed ahead of the hashed
 * frontier: about the object's other parts in flight at its end, each a part size. The
 * run's 2 x numThreads connections put more parts of an object in flight at once at a
 * higher numThreads, and there another part's round trip is hidden by the other
 * connections; at a low numThreads each connection must stay busy to fill a link, and a
 * part's round trip weighs more. Through the WAN model (BENCHMARKS.md, 600 MiB set):
 * numThreads 16 with 8 MiB parts left 58-85 ms of hashing after the last byte, 4 MiB
 * 16-20 ms, 2 MiB 8-15 ms; numThreads 4 with 4 MiB parts took 10.47 s against 9.95 s
 * with 8 MiB (more requests, each a round trip on one of 8 connections).
 */
export function partSizeFor(numThreads: number): number {
  return Math.min(MAX_DEFAULT_PART, Math.max(MIN_DEFAULT_PART, Math.floor(PART_BYTES_IN_FLIGHT / Math.max(1, numThreads) / MiB) * MiB));
}

/** What the part list beside a temp file says: enough to go on without asking S3 first. */
export interface PartList {
  etag: string;
  total: number;
  partSize: number;
  check: ObjectCheck;
  /** Indexes of the parts on disk (fsynced). */
  done: number[];
}

/** The part list of a temp file: undefined when there is none, 'invalid' when it cannot be trusted. */
export async function readPartList(tempPath: string): Promise<PartList | 'invalid' | undefined> {
  let text: string;
  try {
    text = await readFile(partListOf(tempPath), 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'invalid';
  }
  try {
    const list = JSON.parse(text) as PartList;
    const methods: readonly string[] = [...CHECKSUM_METHODS, 'etag-md5', 'size'];
    const valid = typeof list.etag === 'string' && Number.isSafeInteger(list.total) && Number.isSafeInteger(list.partSize) && list.partSize > 0
      && methods.includes(list.check?.method) && Array.isArray(list.done) && list.done.every((i) => Number.isSafeInteger(i) && i >= 0 && i * list.partSize < list.total);
    return valid ? list : 'invalid';
  } catch {
    return 'invalid';
  }
}

export function removePartList(tempPath: string): Promise<void> {
  return unlink(partListOf(tempPath)).catch(() => {});
}

/** Bytes read back from the temp file at a time to hash a part that finished ahead of the frontier. */
const READ_BACK_BYTES = 1 << 20;
/** Bytes a part's file writer holds before the socket waits: a parted object has up to
 * 2 x numThreads of them at once, so a quarter of the whole-object writer's 1 MiB (still
 * several socket chunks per writev). Measured on the loopback backup: peak RSS 130-132 MB
 * against 135-144 MB with 1 MiB, the same CPU (BENCHMARKS.md, "Close-out"). */
const PART_SINK_BYTES = 256 << 10;

interface Part {
  index: number;
  start: number;
  /** Exclusive. */
  end: number;
  /** Bytes from `start` on disk. */
  received: number;
  claimed: boolean;
}

export interface PartedRequest {
  ref: ObjectRef;
  file: FileHandle;
  tempPath: string;
  client: () => S3Client;
  etag: string;
  total: number;
  check: ObjectCheck;
  partSize: number;
  /** Digests advanced over the bytes in order; `written` is the hashed frontier. */
  progress: Progress;
  spare: TransferSlots;
  /** Gives the transfer's own slot to the next transfer waiting (TransferSlots.run). */
  handOff?: HandOff;
  /** Parts already on disk (from the part list of an earlier run). */
  done?: readonly number[];
  signal?: AbortSignal;
  stallTimeoutMs: number;
  policy: TransferRetryPolicy;
  delayMs: (attempt: number, retryAfter: string | undefined) => number;
  log: Logger;
  onBytes?: (bytes: number) => void;
}

/**
 * Yields the first `length` bytes of `source`. Then, with `toEnd` (a ranged answer of
 * exactly those bytes), reads on to the body's end: an HTTP response left before its end
 * takes its keep-alive socket down with it, and every part then paid a new connection
 * (54 connections for 204 objects at numThreads 4, one round trip more each over a WAN;
 * 11 with this: `strace -f -e connect`, BENCHMARKS.md). A byte past `length` there fails the part. Without `toEnd` (part 0 read
 * from the whole-object GET) reading stops at `length` and the caller closes the body.
 */
async function* firstBytes(source: AsyncIterable<Buffer>, length: number, toEnd: boolean): AsyncGenerator<Buffer> {
  let left = length;
  if (left === 0 && !toEnd) return;
  for await (const chunk of source) {
    if (toEnd && chunk.length > left) throw new Error(`the ranged answer went on past the ${length} bytes asked for`);
    if (left === 0) continue;
    const taken = chunk.length >= left ? chunk.subarray(0, left) : chunk;
    left -= taken.length;
    yield taken;
    if (left === 0 && !toEnd) return;
  }
}

export class PartedDownload {
  readonly #r: PartedRequest;
  readonly #parts: Part[] = [];
  /** Ranged GETs sent, in all runs of this object. */
  rangedGets = 0;
  /** Ranged answers that hold exactly the rest of their part: read to their end (firstBytes). */
  readonly #exactRanges = new WeakSet<Readable>();
  #hashing: Promise<void> | undefined;
  #hashError: unknown;
  #listWrite: Promise<void> = Promise.resolve();
  #closed = false;
  #stop = new AbortController();
  /** Runs so far: a spare connection granted after its run ended does nothing in a later one. */
  #generation = 0;
  /** The two read-back buffers, allocated at the first read and kept: a pass starts on almost
   * every chunk that lands ahead of the frontier, and most find nothing to read (a fresh 1 MiB
   * per pass was ~40 MB of garbage ArrayBuffers at the peak of a loopback backup). */
  #readBack: [Buffer, Buffer] | undefined;
  /** Settles this run's wait: every part on disk, or a connection failed. */
  #ended: { resolve: () => void; reject: (reason: unknown) => void } | undefined;

  constructor(request: PartedRequest) {
    this.#r = request;
    const done = new Set(request.done ?? []);
    for (let start = 0, index = 0; start < request.total; start += request.partSize, index++) {
      const end = Math.min(request.total, start + request.partSize);
      this.#parts.push({ index, start, end, received: done.has(index) ? end - start : 0, claimed: false });
    }
  }

  get parts(): number {
    return this.#parts.length;
  }

  /** Fetches every part not on disk yet; `firstBody` (the whole-object GET, at byte 0) fills part 0. */
  async run(firstBody?: Readable): Promise<void> {
    const { spare, progress, total } = this.#r;
    this.#closed = false;
    this.#stop = new AbortController();
    const generation = ++this.#generation;
    for (const part of this.#parts) part.claimed = false;
    // Listed before any byte lands beyond the frontier: a killed run's file is never taken for a prefix.
    await this.#saveList();
    // Finished parts from an earlier run are hashed now, as far as the frontier can go.
    void this.#catchUp();

    // Part 0 is the whole-object body's, taken before a spare connection could claim it.
    const first = firstBody && this.#parts[0]!.received === 0 ? this.#parts[0]! : undefined;
    if (first) first.claimed = true;
    else firstBody?.destroy();
    // Every part on disk, or the first failure of any connection.
    const ended = new Promise<void>((resolve, reject) => {
      this.#ended = { resolve, reject };
    });
    ended.catch(() => {});
    if (this.#bytesLeft() === 0) this.#ended!.resolve();
    const started: Array<Promise<void>> = [];
    // The own connection may hand its slot on after a part (handOff): then spare
    // connections take every part left, so one is asked for each, up to the budget.
    const waiting = Math.min(spare.size, this.#unclaimed() - (this.#r.handOff ? 0 : 1));
    const left = this.#bytesLeft();
    for (let i = 0; i < waiting; i++) {
      void spare.run(async () => {
        if (generation !== this.#generation || this.#closed || this.#unclaimed() === 0) return;
        const worker = this.#work();
        started.push(worker);
        await worker.catch(() => {});
      }, left);
    }
    const own = this.#work(first && firstBody ? { part: first, body: firstBody } : undefined, true);
    let failure: { reason: unknown } | undefined;
    await ended.catch((reason: unknown) => {
      failure = { reason };
    });
    // Spare connections granted from now on find nothing to do; those at work finish their part.
    this.#closed = true;
    await Promise.allSettled([own, ...started]);
    if (failure) throw failure.reason;
    await this.#catchUp();
    this.#readBack = undefined;
    if (this.#hashError) throw this.#hashError;
    await this.#listWrite;
    if (progress.written !== total) {
      throw new RcbsError('RCBS_S3_TRANSFER', `${objectUrl(this.#r.ref)}: parts ended with ${progress.written} of ${total} bytes checked`,
        { ...this.#r.ref, written: progress.written, total, retryable: true });
    }
  }

  #unclaimed(): number {
    return this.#parts.filter((p) => !p.claimed && p.received < p.end - p.start).length;
  }

  #bytesLeft(): number {
    let left = 0;
    for (const p of this.#parts) left += p.end - p.start - p.received;
    return left;
  }

  #claim(): Part | undefined {
    const part = this.#parts.find((p) => !p.claimed && p.received < p.end - p.start);
    if (part) part.claimed = true;
    return part;
  }

  /** One connection's work: parts one after another until none is left or one fails. The
   * transfer's own connection (`own`) stops after a part when its slot can go to a transfer
   * waiting for one: over a WAN that transfer's round trips overlap these parts (issue 15). */
  async #work(first?: { part: Part; body: Readable }, own = false): Promise<void> {
    try {
      if (first) await this.#part(first.part, first.body);
      for (;;) {
        if (own && this.#unclaimed() > 0 && this.#r.handOff?.()) return;
        const part = this.#claim();
        if (!part) return;
        if (this.#stop.signal.aborted) return;
        await this.#part(part);
      }
    } catch (err) {
      // The others stop at their next byte: this object is retried or failed as a whole.
      this.#stop.abort();
      this.#ended?.reject(err);
      throw err;
    }
  }

  /** One part, retried alone from the byte it reached (cut, stalled, 5xx). */
  async #part(part: Part, firstBody?: Readable): Promise<void> {
    const { ref, policy, delayMs, signal } = this.#r;
    let failures = 0;
    let body = firstBody;
    while (part.received < part.end - part.start) {
      if (signal?.aborted) throw new RcbsError('RCBS_ABORTED', `interrupted while downloading ${objectUrl(ref)}`, { ...ref });
      if (this.#stop.signal.aborted) return;
      const before = part.received;
      const watch = new StallWatch(this.#r.stallTimeoutMs);
      const abort = AbortSignal.any([watch.signal, this.#stop.signal, ...(signal ? [signal] : [])]);
      try {
        body ??= await this.#get(part, abort);
        await this.#stream(part, body, watch, abort);
        body = undefined;
        if (part.received < part.end - part.start) {
          throw new RcbsError('RCBS_S3_TRANSFER', `${objectUrl(ref)}: part ${part.index} ended after ${part.received} of ${part.end - part.start} bytes`,
            { ...ref, part: part.index, retryable: true });
        }
      } catch (err) {
        body?.destroy();
        body = undefined;
        if (signal?.aborted) throw new RcbsError('RCBS_ABORTED', `interrupted while downloading ${objectUrl(ref)}`, { ...ref });
        if (this.#stop.signal.aborted) return;
        const error = watch.stalled
          ? new RcbsError('RCBS_S3_TRANSFER', `${objectUrl(ref)}: part ${part.index} stalled: no byte for ${watch.ms} ms (s3StallTimeout)`, { ...ref, part: part.index, retryable: true }, { cause: err })
          : err;
        const failure = classifyS3Failure(error, ref, policy);
        failures = part.received > before ? 1 : failures + 1;
        // Anything but a passing fault, or one that keeps coming: the transfer decides (restart, fail, stop).
        if (failure.kind !== 'retry' || failures > policy.maxRetries) throw error;
        const wait = delayMs(failures, failure.retryAfter);
        this.#r.log.debug('S3 part failed; retrying it', { object: objectUrl(ref), part: part.index, reason: failure.error.message, received: part.received, waitMs: Math.round(wait) });
        await delay(wait, undefined, signal ? { signal } : {}).catch(() => {
          throw new RcbsError('RCBS_ABORTED', `interrupted while downloading ${objectUrl(ref)}`, { ...ref });
        });
      } finally {
        watch.stop();
      }
    }
    await this.#finished();
  }

  /** A ranged GET for the rest of a part; its ETag and Content-Range must be the object's. */
  async #get(part: Part, abort: AbortSignal): Promise<Readable> {
    const { ref, etag, total } = this.#r;
    const from = part.start + part.received;
    this.rangedGets++;
    const res = await this.#r.client().send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: `bytes=${from}-${part.end - 1}`, IfMatch: etag }), { abortSignal: abort });
    const body = res.Body as Readable | undefined;
    if (!body) throw new RcbsError('RCBS_S3_TRANSFER', `${objectUrl(ref)} answered without a body`, { ...ref, retryable: true });
    if (res.ETag !== etag) {
      body.destroy();
      throw new RcbsError('RCBS_S3_CHANGED', `${objectUrl(ref)} changed while its parts were downloaded (ETag ${etag} became ${res.ETag})`, { ...ref, etag, newEtag: res.ETag });
    }
    const range = parseContentRange(res.ContentRange);
    if (!range || range.start !== from || (range.total !== undefined && range.total !== total)) {
      body.destroy();
      throw new RcbsError('RCBS_S3_TRANSFER', `${objectUrl(ref)} did not answer the ranged GET for bytes ${from}-${part.end - 1} with that range (Content-Range ${res.ContentRange ?? 'missing'}): set s3PartThreshold = 0 for this endpoint`,
        { ...ref, contentRange: res.ContentRange });
    }
    if (range.end === part.end - 1) this.#exactRanges.add(body);
    return body;
  }

  /** The part's bytes from `body` to the file at their offset, each chunk hashed if it is at the frontier. */
  async #stream(part: Part, body: Readable, watch: StallWatch, abort: AbortSignal): Promise<void> {
    const at = { written: part.start + part.received };
    const sink = fileSink(this.#r.file, at, (chunks, length) => {
      const offset = at.written;
      at.written += length;
      part.received += length;
      this.#landed(chunks, offset, length);
    }, watch, PART_SINK_BYTES);
    // The generator waits on the body: a stall or a stop must end the body itself, or the
    // pipeline would wait for the socket's own timeout.
    const onAbort = () => body.destroy(abort.reason instanceof Error ? abort.reason : undefined);
    abort.addEventListener('abort', onAbort, { once: true });
    try {
      // The body is read by the generator, not piped: leaving a whole-object body once its
      // first part is in is no premature close, and every byte taken still reaches the file.
      await pipeline(firstBytes(body, part.end - part.start - part.received, this.#exactRanges.has(body)), sink, { signal: abort });
    } finally {
      abort.removeEventListener('abort', onAbort);
      body.destroy();
      await sink.idle();
    }
  }

  #landed(chunks: Buffer[], offset: number, length: number): void {
    const { progress } = this.#r;
    chunksWritten(length);
    this.#r.onBytes?.(length);
    if (!this.#hashing && offset === progress.written) {
      for (const chunk of chunks) {
        progress.md5.update(chunk);
        progress.checksum?.update(chunk);
      }
      progress.written += length;
      // The frontier's part is done and the next ones landed before it: hash them now. No
      // chunk ahead may land again to start that pass; without it they waited for the last
      // part's list write and the final catch-up (BENCHMARKS.md, "… 20:29").
      if (this.#availableAt(progress.written) > 0) void this.#catchUp();
    } else {
      void this.#catchUp();
    }
  }

  /** Bytes on disk from `at` on, to the end of the part `at` is in (0 at the end). */
  #availableAt(at: number): number {
    const { partSize, total } = this.#r;
    if (at >= total) return 0;
    const part = this.#parts[Math.floor(at / partSize)]!;
    return part.start + part.received - at;
  }

  /** Hashes what is on disk from the frontier on, reading it back; one pass at a time. The
   * next read is on its way while a chunk is hashed (two buffers): at the end of a run the
   * parts that finished ahead of the frontier are hashed after the last byte, at 2.0-2.3
   * ms per MiB when reading one after the other, 1.7 (MD5's own speed here) this way
   * (BENCHMARKS.md, "… 20:29"). The flag is cleared in the same
   * tick as the pass's last look, so a chunk landing after it is hashed from memory or
   * starts a new pass, never missed. */
  #catchUp(): Promise<void> {
    if (this.#hashing) return this.#hashing;
    let finish!: () => void;
    const hashing = new Promise<void>((resolve) => (finish = resolve));
    this.#hashing = hashing;
    void (async () => {
      const { progress, file, partSize } = this.#r;
      const size = Math.min(READ_BACK_BYTES, partSize);
      /** Reads what is on disk at `at` into read-back buffer `which` (up to its size), or undefined when nothing is there yet. */
      const readAt = (at: number, which: 0 | 1) => {
        const available = this.#availableAt(at);
        if (available <= 0) return undefined;
        const buffer = (this.#readBack ??= [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)])[which];
        return file.read(buffer, 0, Math.min(buffer.length, available), at).then(({ bytesRead }) => {
          if (bytesRead === 0) throw new RcbsError('RCBS_S3_TRANSFER', `${objectUrl(this.#r.ref)}: the temp file ends before byte ${at}`, { ...this.#r.ref, retryable: true });
          return buffer.subarray(0, bytesRead);
        });
      };
      let which: 0 | 1 = 0;
      let reading = readAt(progress.written, which);
      try {
        while (reading) {
          const bytes = await reading;
          which = which === 0 ? 1 : 0;
          reading = readAt(progress.written + bytes.length, which);
          reading?.catch(() => {}); // awaited at the next turn, unless this chunk's hashing throws
          progress.md5.update(bytes);
          progress.checksum?.update(bytes);
          progress.written += bytes.length;
        }
      } catch (err) {
        this.#hashError ??= err;
      } finally {
        this.#hashing = undefined;
        finish();
      }
    })();
    return hashing;
  }

  /** A whole part is on disk: fsynced, then listed. */
  async #finished(): Promise<void> {
    await this.#r.file.datasync();
    await this.#saveList();
    if (this.#bytesLeft() === 0) this.#ended?.resolve();
  }

  /** Rewrites the part list (fsynced); writes one after another. */
  #saveList(): Promise<void> {
    const { etag, total, partSize, check, tempPath } = this.#r;
    this.#listWrite = this.#listWrite.then(async () => {
      const done = this.#parts.filter((p) => p.received === p.end - p.start).map((p) => p.index);
      const list: PartList = { etag, total, partSize, check, done };
      const handle = await open(partListOf(tempPath), 'w');
      try {
        await handle.writeFile(JSON.stringify(list));
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    return this.#listWrite;
  }
}
