// Atomic file writes (SPEC §5): data goes to `.<final>.<random>.part` in the
// final file's own folder (same file system, so rename is atomic; the leading
// dot and `.part` keep it out of `*.bin`/`*.json` globs), is fsynced, renamed
// over the final name, and the folder is fsynced so the rename survives a power
// cut. A crash leaves at most a temp file, never a half file under a final name.

import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { AtomicWriteHandle } from './types.js';
import { storeIoError } from './fs-errors.js';

const TEMP_SUFFIX = '.part';

export function tempPrefix(finalPath: string): string {
  return '.' + path.basename(finalPath) + '.';
}

/** True when `name` is a temp file of the final file `finalName` (random part: hex). */
export function isTempOf(name: string, finalName: string): boolean {
  const prefix = '.' + finalName + '.';
  return name.startsWith(prefix) && name.endsWith(TEMP_SUFFIX) && /^[0-9a-f]+$/.test(name.slice(prefix.length, -TEMP_SUFFIX.length));
}

/** The list of finished parts beside a temp file written in parallel ranged parts (src/s3/parts.ts):
 * no `.part` ending, so it is never taken for a temp file; it goes with its temp file. */
export function partListOf(tempPath: string): string {
  return tempPath + '.ranges';
}

export function newTempPath(finalPath: string): string {
  return path.join(path.dirname(finalPath), tempPrefix(finalPath) + randomBytes(6).toString('hex') + TEMP_SUFFIX);
}

async function syncDirNow(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some file systems (network shares) refuse fsync on a folder; the rename itself is done.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle.close();
  }
}

/** Per folder: the fsync running now, and the one queued behind it. */
const dirSyncs = new Map<string, { running: Promise<void>; queued?: Promise<void> }>();

/**
 * fsync a folder so a rename in it is durable. Windows cannot open folders: skipped there.
 * Group commit: renames into one folder (an hour's recordings) share fsyncs. A caller
 * whose rename is done joins the queued fsync, which starts only after the running
 * one ends — so the fsync it waits for always began after its rename.
 */
export function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return Promise.resolve();
  const current = dirSyncs.get(dir);
  if (!current) {
    const running = syncDirNow(dir).finally(() => advance(dir));
    dirSyncs.set(dir, { running });
    return running;
  }
  current.queued ??= current.running.catch(() => {}).then(() => syncDirNow(dir));
  return current.queued;
}

function advance(dir: string): void {
  const current = dirSyncs.get(dir);
  if (!current) return;
  if (current.queued) {
    const running = current.queued.finally(() => advance(dir));
    dirSyncs.set(dir, { running });
  } else {
    dirSyncs.delete(dir);
  }
}

export async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The temp files of this store: those being written in this process (`active`,
 * never removed) and those left by a crashed run (`leftovers`, listed once per
 * folder, so writing many files into one folder does not list it again each time).
 */
export class TempFiles {
  readonly active = new Set<string>();
  readonly #leftovers = new Map<string, Set<string>>();
  /** Folders made or being made by this store: each is created once, not once per file
   * (a recursive mkdir is two syscalls even when the folder exists, and one per missing
   * level when it does not). The transfers a page starts at once share one mkdir. */
  readonly #dirs = new Map<string, Promise<void>>();
  /** Folders being listed for leftovers: concurrent callers share one readdir. */
  readonly #listing = new Map<string, Promise<Set<string>>>();

  ensureDir(dir: string, again = false): Promise<void> {
    const made = this.#dirs.get(dir);
    if (made && !again) return made;
    if (this.#dirs.size >= 10_000) this.#dirs.clear();
    const making = mkdir(dir, { recursive: true }).then(() => {});
    this.#dirs.set(dir, making);
    // A failed mkdir is tried again by the next caller.
    making.catch(() => {
      if (this.#dirs.get(dir) === making) this.#dirs.delete(dir);
    });
    return making;
  }

  #listed(dir: string): Promise<Set<string>> {
    const names = this.#leftovers.get(dir);
    if (names) return Promise.resolve(names);
    let listing = this.#listing.get(dir);
    if (!listing) {
      listing = this.#list(dir).finally(() => this.#listing.delete(dir));
      this.#listing.set(dir, listing);
    }
    return listing;
  }

  async #list(dir: string): Promise<Set<string>> {
    const names = new Set<string>();
    try {
      for (const name of await readdir(dir)) if (name.startsWith('.') && name.endsWith(TEMP_SUFFIX)) names.add(name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storeIoError('list', dir, err);
    }
    this.#leftovers.set(dir, names);
    return names;
  }

  /** Leftover temp files of `finalPath`, largest first. */
  async leftoversOf(finalPath: string): Promise<Array<{ tempPath: string; size: number }>> {
    const dir = path.dirname(finalPath);
    const finalName = path.basename(finalPath);
    const found: Array<{ tempPath: string; size: number }> = [];
    for (const name of await this.#listed(dir)) {
      if (!isTempOf(name, finalName)) continue;
      const tempPath = path.join(dir, name);
      if (this.active.has(tempPath)) continue;
      const size = await stat(tempPath).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
      if (size !== undefined) found.push({ tempPath, size });
      else this.forget(tempPath);
    }
    return found.sort((a, b) => b.size - a.size);
  }

  /** Takes a leftover over for this process (resume). */
  claim(tempPath: string): void {
    this.forget(tempPath);
    this.active.add(tempPath);
  }

  forget(tempPath: string): void {
    this.#leftovers.get(path.dirname(tempPath))?.delete(path.basename(tempPath));
  }

  /** Removes leftovers of `finalPath`: once it is written again they are of no more use. */
  async removeLeftovers(finalPath: string): Promise<void> {
    for (const { tempPath } of await this.leftoversOf(finalPath)) {
      await unlink(tempPath).catch(() => {});
      await unlink(partListOf(tempPath)).catch(() => {});
      this.forget(tempPath);
    }
  }
}

export interface AtomicWriterOptions {
  mode?: number;
  /** An existing temp file of the same final file to append to (resume). */
  resumeFrom?: string;
  temps: TempFiles;
}

/** Creates a new temp file (exclusive, with its mode) and returns it open for writing.
 * A folder removed since this store made it is made again. */
async function createTemp(tempPath: string, dir: string, options: AtomicWriterOptions): Promise<FileHandle> {
  await options.temps.ensureDir(dir);
  try {
    return await open(tempPath, 'wx', options.mode ?? 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await options.temps.ensureDir(dir, true);
    return await open(tempPath, 'wx', options.mode ?? 0o644);
  }
}

export async function createAtomicWriter(finalPath: string, options: AtomicWriterOptions): Promise<AtomicWriteHandle> {
  const writer = await prepareAtomicWriter(finalPath, options, false);
  return writer.handle;
}

/** The temp file and its handle; with `keepOpen`, the new temp file's descriptor stays open for the caller. */
async function prepareAtomicWriter(finalPath: string, options: AtomicWriterOptions, keepOpen: boolean): Promise<{ handle: AtomicWriteHandle; file?: FileHandle }> {
  const dir = path.dirname(finalPath);
  let tempPath: string | undefined;
  let resumedBytes = 0;
  let file: FileHandle | undefined;
  try {
    if (options.resumeFrom !== undefined) {
      tempPath = path.resolve(options.resumeFrom);
      if (path.dirname(tempPath) !== dir || !isTempOf(path.basename(tempPath), path.basename(finalPath))) {
        throw new Error(`${options.resumeFrom} is not a temp file of ${finalPath}`);
      }
      if (options.temps.active.has(tempPath)) throw new Error(`${tempPath} is already being written`);
      resumedBytes = (await stat(tempPath)).size;
      options.temps.claim(tempPath);
    } else {
      tempPath = newTempPath(finalPath);
      // Create it now (exclusive, with its mode) so the writer can open it for append.
      const created = await createTemp(tempPath, dir, options);
      options.temps.active.add(tempPath);
      if (keepOpen) file = created;
      else await created.close();
    }
    // Other temp files left by a crashed run for the same final file are of no more use.
    await options.temps.removeLeftovers(finalPath);
  } catch (err) {
    await file?.close().catch(() => {});
    // A temp file we created must not outlive the failure; a resumed one is kept for later.
    if (tempPath !== undefined && options.temps.active.delete(tempPath) && options.resumeFrom === undefined) {
      await unlink(tempPath).catch(() => {});
    }
    throw storeIoError('prepare a temp file for', finalPath, err);
  }

  let settled = false;
  const handle: AtomicWriteHandle = {
    tempPath,
    finalPath,
    resumedBytes,
    async commit(commitOptions = {}) {
      if (settled) throw storeIoError('commit', finalPath, new Error('the write was already committed or aborted'));
      try {
        if (!commitOptions.synced) await fsyncFile(tempPath);
        await rename(tempPath, finalPath);
        settled = true;
        options.temps.active.delete(tempPath);
        await fsyncDir(dir);
      } catch (err) {
        throw storeIoError('commit', finalPath, err);
      }
    },
    async abort() {
      if (settled) return;
      settled = true;
      options.temps.active.delete(tempPath);
      await unlink(tempPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw storeIoError('remove', tempPath, err);
      });
      await unlink(partListOf(tempPath)).catch(() => {});
    },
  };
  return { handle, file };
}

export async function writeAtomic(finalPath: string, data: string | Uint8Array, options: Omit<AtomicWriterOptions, 'resumeFrom'>): Promise<void> {
  // The temp file is written through the descriptor that created it: one open per file.
  const { handle: writer, file } = await prepareAtomicWriter(finalPath, options, true);
  try {
    const handle = file!;
    try {
      await handle.writeFile(data);
      // fsynced through this handle, so commit() need not open the file again.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await writer.commit({ synced: true });
  } catch (err) {
    await writer.abort().catch(() => {});
    throw storeIoError('write', finalPath, err);
  }
}
