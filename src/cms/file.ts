// Decrypting one file to another with nothing half-written: the plaintext goes to
// a temp file (owner-only) in the output folder and is renamed to its name only
// after the whole input decrypted and the padding checked. On any error, and on
// an abort (Ctrl-C, SIGTERM), the temp file is removed, so a wrong key never
// leaves a full-size garbage file as openssl does and plaintext is never left in a
// temp file (SPEC §7). Only a process killed outright (SIGKILL, power cut) can
// leave one: the temp name carries the writer's pid, and the next decrypt into
// that folder removes temp files whose writer is gone.

import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RcbsError, isRcbsError } from '../errors.js';
import { createDecryptStream } from './decrypt.js';
import type { Identity } from './keys.js';
import type { Logger } from '../log.js';

/** 1 MiB reads: fewer, larger chunks through the parser and the cipher. */
const READ_CHUNK = 1 << 20;

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function ioError(err: unknown, what: string): RcbsError {
  if (isRcbsError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new RcbsError('RCBS_STORE_IO', `${what} (${code ?? (err as Error).message})`, code ? { errno: code } : {}, { cause: err });
}

/** `.<final name>.<pid>-<12 hex>.tmp`; before the pid was added: `.<final name>.<12 hex>.tmp`. */
const TEMP_NAME = /^\..+\.(?:(\d+)-)?[0-9a-f]{12}\.tmp$/;
/** A temp file nobody has written to for this long is stale whoever wrote it (a pid reused after a reboot). */
const STALE_AFTER_MS = 24 * 3600_000;
const OLD_TEMP_STALE_AFTER_MS = 10 * 60_000;

function tempPath(output: string): string {
  return path.join(path.dirname(output), `.${path.basename(output)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Folders already swept by this process: each is listed once, not once per file. */
const swept = new Set<string>();

/**
 * Removes the decrypt temp files a killed run left in `dir` (they hold plaintext):
 * those whose writer process is gone, or untouched for a day. A live rcbs decrypting
 * into the same folder keeps its own.
 */
export async function removeStaleTemps(dir: string, log?: Logger): Promise<number> {
  if (swept.has(dir)) return 0;
  swept.add(dir);
  let removed = 0;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match) continue;
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) continue;
    const pid = match[1] === undefined ? undefined : Number(match[1]);
    const age = Date.now() - info.mtimeMs;
    // Without a pid (an older rcbs wrote it), only the age tells whether it is still being written.
    const writerGone = pid === undefined ? age >= OLD_TEMP_STALE_AFTER_MS : pid !== process.pid && !processAlive(pid);
    if (!writerGone && age < STALE_AFTER_MS) continue;
    await rm(file, { force: true });
    removed++;
    log?.warn('removed a temp file an interrupted decrypt left behind', { file });
  }
  return removed;
}

/** Decrypts `input` to `output`; returns the plaintext size. Throws RcbsError. */
export async function decryptFile(input: string, output: string, identities: readonly Identity[], signal?: AbortSignal, log?: Logger, onRead?: (bytes: number) => void): Promise<number> {
  const dir = path.dirname(output);
  await mkdir(dir, { recursive: true }).catch((err: unknown) => {
    throw ioError(err, `cannot create the output folder ${dir}`);
  });
  await removeStaleTemps(dir, log);
  if (signal?.aborted) throw new RcbsError('RCBS_ABORTED', `decrypting ${input} was interrupted before it started`);
  const temp = tempPath(output);
  try {
    const source = createReadStream(input, { highWaterMark: READ_CHUNK });
    if (onRead) source.on('data', (chunk) => onRead(chunk.length));
    await pipeline(
      source,
      createDecryptStream({ identities }),
      createWriteStream(temp, { flags: 'wx', mode: 0o600 }),
      { signal },
    );
    await fsyncFile(temp);
    await rename(temp, output);
  } catch (err) {
    await rm(temp, { force: true });
    if (isRcbsError(err)) throw err;
    if ((err as Error).name === 'AbortError') throw new RcbsError('RCBS_ABORTED', `decrypting ${input} was interrupted`);
    throw ioError(err, `decrypting ${input} to ${output} failed`);
  }
  return (await stat(output)).size;
}

/** Decrypts to nowhere: the check `rcbs verify --key` makes. Stops mid-file on an abort. */
export async function checkDecrypts(input: string, identities: readonly Identity[], signal?: AbortSignal): Promise<void> {
  await pipeline(
    createReadStream(input, { highWaterMark: READ_CHUNK }),
    createDecryptStream({ identities }),
    new Writable({ write: (_chunk, _enc, done) => done() }),
    { signal },
  ).catch((err: unknown) => {
    if ((err as Error).name === 'AbortError') throw new RcbsError('RCBS_ABORTED', `checking ${input} was interrupted`);
    throw ioError(err, `cannot read ${input}`);
  });
}
