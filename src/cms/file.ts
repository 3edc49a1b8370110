// Decrypting one file to another with nothing half-written: the plaintext goes to
// a temp file (owner-only) in the output folder and is renamed to its name only
// after the whole input decrypted and the padding checked. On any error the temp
// file is removed, so a wrong key never leaves a full-size garbage file as
// openssl does.

import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RcbsError, isRcbsError } from '../errors.js';
import { createDecryptStream } from './decrypt.js';
import type { Identity } from './keys.js';

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

/** Decrypts `input` to `output`; returns the plaintext size. Throws RcbsError. */
export async function decryptFile(input: string, output: string, identities: readonly Identity[], signal?: AbortSignal): Promise<number> {
  const dir = path.dirname(output);
  await mkdir(dir, { recursive: true }).catch((err: unknown) => {
    throw ioError(err, `cannot create the output folder ${dir}`);
  });
  const temp = path.join(dir, `.${path.basename(output)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await pipeline(
      createReadStream(input, { highWaterMark: READ_CHUNK }),
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

/** Decrypts to nowhere: the check `rcbs verify --key` makes. */
export async function checkDecrypts(input: string, identities: readonly Identity[]): Promise<void> {
  await pipeline(
    createReadStream(input, { highWaterMark: READ_CHUNK }),
    createDecryptStream({ identities }),
    new Writable({ write: (_chunk, _enc, done) => done() }),
  ).catch((err: unknown) => {
    throw ioError(err, `cannot read ${input}`);
  });
}
