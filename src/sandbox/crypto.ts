// The sandbox's only crypto: a recipient identity and CMS EnvelopedData (DER) for
// each media plaintext, exactly what Genesys puts in S3. Done with the openssl CLI
// for now: it is the reference rcbs must interoperate with anyway. When rcbs's own
// encryptor lands (src/cms/encrypt.ts encryptBuffer, src/cms/identity.ts
// generateIdentity) this file is the one to switch over.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RcbsError } from '../errors.js';

const execFileAsync = promisify(execFile);

export interface Identity {
  keyPem: string;
  certPem: string;
}

function opensslMissing(err: unknown): RcbsError {
  return new RcbsError(
    'RCBS_INTERNAL',
    'the sandbox needs the openssl command to make its key and encrypt its media, and it could not be run: install openssl and put it on PATH',
    {},
    { cause: err },
  );
}

/** A fresh RSA-2048 key and a self-signed certificate for it (valid 10 years). */
export async function generateIdentity(): Promise<Identity> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rcbs-identity-'));
  try {
    const keyPath = path.join(dir, 'key.pem');
    const certPath = path.join(dir, 'cert.pem');
    try {
      await execFileAsync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650',
        '-subj', '/CN=rcbs-sandbox/O=rcbs sandbox (test data only)',
        '-keyout', keyPath, '-out', certPath,
      ]);
    } catch (err) {
      throw opensslMissing(err);
    }
    const [keyPem, certPem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
    return { keyPem, certPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Node forks its whole process for every spawn, on the main thread, so one openssl
// per media costs ~10-20 ms there and thousands of media take minutes. Instead a few
// long-lived `sh` workers per certificate run openssl for each job they are handed
// (plaintext and ciphertext go through files in a private temp folder): same
// openssl, same output, at openssl's own ~4 ms per file. Workers are unref'd while
// idle so they never keep a finished process alive, and exit with it (stdin EOF).
// Windows has no sh: there each media gets its own openssl process.

const WORKER_SCRIPT = [
  'while IFS= read -r job; do',
  '  if openssl cms -encrypt -binary -aes-128-cbc -outform DER -in "$job.plain" -out "$job.der" "$1" 2>"$job.err"',
  '  then echo "ok $job"; else echo "fail $job"; fi',
  'done',
].join('\n');

interface Job {
  base: string;
  resolve: (value: Buffer) => void;
  reject: (err: unknown) => void;
}

class EncryptorPool {
  readonly certPath: string;
  readonly #dir: string;
  readonly #workers: Array<{ child: ChildProcess; busy: number; jobs: Map<string, Job> }> = [];
  #sequence = 0;

  constructor(certPath: string, dir: string) {
    this.certPath = certPath;
    this.#dir = dir;
  }

  async encrypt(plain: Buffer): Promise<Buffer> {
    const base = path.join(this.#dir, `job-${++this.#sequence}`);
    await writeFile(`${base}.plain`, plain);
    try {
      return await new Promise<Buffer>((resolve, reject) => this.#dispatch({ base, resolve, reject }));
    } finally {
      await Promise.all(['.plain', '.der', '.err'].map((ext) => rm(base + ext, { force: true })));
    }
  }

  #dispatch(job: Job): void {
    let worker = this.#workers.find((w) => w.busy === 0);
    if (!worker && this.#workers.length < Math.max(2, os.availableParallelism())) worker = this.#spawn();
    worker ??= this.#workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    if (worker.busy++ === 0) setRef(worker.child, true);
    worker.jobs.set(job.base, job);
    worker.child.stdin!.write(job.base + '\n');
  }

  #spawn() {
    const child = spawn('sh', ['-c', WORKER_SCRIPT, 'rcbs-sandbox-encrypt', this.certPath], { stdio: ['pipe', 'pipe', 'ignore'] });
    const worker = { child, busy: 0, jobs: new Map<string, Job>() };
    this.#workers.push(worker);
    const failAll = (err: unknown) => {
      const index = this.#workers.indexOf(worker);
      if (index >= 0) this.#workers.splice(index, 1);
      for (const job of worker.jobs.values()) job.reject(err);
      worker.jobs.clear();
    };
    child.on('error', (err) => failAll(opensslMissing(err)));
    child.on('exit', (code) => failAll(new RcbsError('RCBS_INTERNAL', `the sandbox's openssl worker exited early (code ${code})`)));
    child.stdin!.on('error', () => {}); // reported by 'exit'
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const [status, ...rest] = line.split(' ');
        const base = rest.join(' ');
        const job = worker.jobs.get(base);
        if (!job) continue;
        worker.jobs.delete(base);
        if (--worker.busy === 0) setRef(child, false);
        finishJob(job, status === 'ok');
      }
    });
    return worker;
  }
}

function finishJob(job: Job, ok: boolean): void {
  if (ok) {
    readFile(`${job.base}.der`).then(job.resolve, job.reject);
    return;
  }
  readFile(`${job.base}.err`, 'utf8').then(
    (stderr) => job.reject(new RcbsError('RCBS_INTERNAL', `openssl cms -encrypt failed: ${stderr.trim().slice(0, 500)}`)),
    job.reject,
  );
}

/** A worker holds the event loop only while it has jobs. */
function setRef(child: ChildProcess, ref: boolean): void {
  const handles = [child, child.stdin, child.stdout] as Array<{ ref?: () => void; unref?: () => void } | null>;
  for (const handle of handles) (ref ? handle?.ref : handle?.unref)?.call(handle);
}

const pools = new Map<string, Promise<EncryptorPool>>();

function poolFor(certPem: string): Promise<EncryptorPool> {
  let pool = pools.get(certPem);
  if (!pool) {
    pool = (async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'rcbs-encrypt-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      const certPath = path.join(dir, 'recipient.pem');
      await writeFile(certPath, certPem);
      return new EncryptorPool(certPath, dir);
    })();
    pools.set(certPem, pool);
  }
  return pool;
}

/** CMS EnvelopedData, DER, AES-128-CBC content, RSA PKCS#1 v1.5 key transport to certPem. */
export async function encryptMedia(plain: Buffer, certPem: string): Promise<Buffer> {
  const pool = await poolFor(certPem);
  if (process.platform !== 'win32') return pool.encrypt(plain);
  return encryptWithOwnProcess(plain, pool);
}

function encryptWithOwnProcess(plain: Buffer, pool: EncryptorPool): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const child = spawn('openssl', ['cms', '-encrypt', '-binary', '-aes-128-cbc', '-outform', 'DER', pool.certPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (err) => reject(opensslMissing(err)));
    child.stdin.on('error', () => {}); // an openssl that died early is reported by 'close'
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new RcbsError('RCBS_INTERNAL', `openssl cms -encrypt failed (exit ${code}): ${stderr.trim().slice(0, 500)}`));
    });
    child.stdin.end(plain);
  });
}
