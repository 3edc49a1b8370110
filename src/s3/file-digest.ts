// Digests of a file being written (MD5 for the ETag, and the object's own
// checksum when it carries one), computed on a worker thread that reads the
// bytes back from the file (page cache) by position. The main thread only posts
// "the file is good up to byte N": it no longer spends ~1 s of every 600 MiB on
// MD5 (24% of a backup's main-thread samples, bench/BACKUP-RESULTS.md), and no
// chunk is copied between threads.
//
// Order is the guarantee: messages to the worker are handled in the order they
// were sent, so a digest asked for after upTo(N) covers exactly bytes [0, N).
// One worker serves every transfer of the process; it is created on first use
// and does not keep the process alive (it is referenced only while a reply is
// awaited). The worker reads through the transfer's own file descriptor:
// release() is awaited before that descriptor is closed.

import { Worker } from 'node:worker_threads';
import { RcbsError } from '../errors.js';

export type DigestKind = 'md5' | 'sha256' | 'sha1' | 'crc32';

// Plain CommonJS run with `eval: true`: no file to resolve, the same under tsc's
// dist/ and the TypeScript loader of the tests.
const WORKER_SOURCE = String.raw`
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { readSync } = require('node:fs');
const zlib = require('node:zlib');
const buffer = Buffer.allocUnsafe(1 << 20);
const jobs = new Map();
function digestOf(kind) {
  if (kind === 'crc32') {
    let value = 0;
    return { update: (b) => { value = zlib.crc32(b, value); }, value: () => { const o = Buffer.alloc(4); o.writeUInt32BE(value >>> 0); return o.toString('base64'); } };
  }
  const hash = createHash(kind);
  return { update: (b) => hash.update(b), value: () => hash.copy().digest(kind === 'md5' ? 'hex' : 'base64') };
}
parentPort.on('message', (m) => {
  const job = jobs.get(m.id);
  switch (m.op) {
    case 'reset':
      jobs.set(m.id, { fd: m.fd, at: 0, digests: m.kinds.map(digestOf), error: undefined });
      return;
    case 'upTo':
      if (!job || job.error) return;
      try {
        while (job.at < m.upTo) {
          const n = readSync(job.fd, buffer, 0, Math.min(buffer.length, m.upTo - job.at), job.at);
          if (n === 0) throw new Error('the file ends at byte ' + job.at + ', before byte ' + m.upTo);
          const bytes = buffer.subarray(0, n);
          for (const d of job.digests) d.update(bytes);
          job.at += n;
        }
      } catch (err) {
        job.error = String(err && err.message || err);
      }
      return;
    case 'digest':
      parentPort.postMessage(job
        ? { seq: m.seq, at: job.at, error: job.error, values: job.error ? [] : job.digests.map((d) => d.value()) }
        : { seq: m.seq, error: 'no such digest' });
      return;
    case 'release':
      jobs.delete(m.id);
      parentPort.postMessage({ seq: m.seq });
      return;
  }
});
`;

interface Reply {
  seq: number;
  at?: number;
  error?: string;
  values?: string[];
}

class DigestWorker {
  #worker: Worker | undefined;
  #seq = 0;
  #waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (err: Error) => void }>();

  post(message: Record<string, unknown>): void {
    this.#get().postMessage(message);
  }

  request(message: Record<string, unknown>): Promise<Reply> {
    const seq = ++this.#seq;
    const worker = this.#get();
    return new Promise((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...message, seq });
    });
  }

  #get(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'rcbs-digest' });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiter = this.#waiting.get(reply.seq);
      this.#waiting.delete(reply.seq);
      if (this.#waiting.size === 0) worker.unref();
      waiter?.resolve(reply);
    });
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      const error = new RcbsError('RCBS_INTERNAL', `the digest worker stopped: ${err.message}`);
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    this.#worker = worker;
    return worker;
  }
}

const shared = new DigestWorker();
let nextId = 0;

/** Digests of one file, fed by upTo() as bytes reach it. */
export class FileDigest {
  readonly #id = ++nextId;
  readonly #fd: number;
  readonly #kinds: DigestKind[];
  #sent = 0;

  constructor(fd: number, kinds: DigestKind[]) {
    this.#fd = fd;
    this.#kinds = kinds;
    this.reset(kinds);
  }

  /** Starts over from byte 0 (the file was truncated), with these digests. */
  reset(kinds: DigestKind[] = this.#kinds): void {
    this.#sent = 0;
    shared.post({ op: 'reset', id: this.#id, fd: this.#fd, kinds });
  }

  /** Bytes [0, end) are on disk: hash them (in the background). */
  upTo(end: number): void {
    if (end <= this.#sent) return;
    this.#sent = end;
    shared.post({ op: 'upTo', id: this.#id, upTo: end });
  }

  /** The digests of bytes [0, end of the last upTo), in the order of the kinds given to reset(). */
  async values(): Promise<string[]> {
    const reply = await shared.request({ op: 'digest', id: this.#id });
    if (reply.error !== undefined || reply.at !== this.#sent) {
      throw new RcbsError('RCBS_S3_INTEGRITY', `the downloaded file could not be read back for its digest: ${reply.error ?? `hashed ${reply.at} of ${this.#sent} bytes`}`);
    }
    return reply.values!;
  }

  /** Forgets this file; resolves once the worker will not read its descriptor again. */
  async release(): Promise<void> {
    await shared.request({ op: 'release', id: this.#id });
  }
}
