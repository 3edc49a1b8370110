// One instance per targetDir (SPEC §5; the guide: "the second instance will
// terminate immediately if they share the same path"). `.rcbs/lock` is created
// with O_EXCL and holds {pid, host, startedAt}. A second instance fails at once
// with RCBS_LOCK_HELD (exit 3) naming the holder. A lock is stale only when we
// can prove its holder is dead: same host and the pid is gone (ESRCH), or the pid
// is our own and this process does not hold it (a restarted container reusing
// the pid). A lock from another host cannot be judged by its pid, so the holder
// proves it is alive another way: it refreshes the lock file's mtime every
// LOCK_REFRESH_MS. A lock from another host whose mtime is older than
// LOCK_STALE_MS (about 20 missed refreshes: a pod killed on a persistent volume)
// is taken over with a warning naming the old holder; a fresher one is held.

import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import os from 'node:os';
import { RcbsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LockInfo } from './types.js';
import { storeIoError } from './fs-errors.js';

/** How often a holder touches its lock file's mtime to show it is alive. */
export const LOCK_REFRESH_MS = 30_000;
/** A lock from another host untouched for this long is stale (its holder missed ~20 refreshes). */
export const LOCK_STALE_MS = 10 * 60_000;

/** Locks held by this process, so a second openStore here is refused, not judged stale. */
const heldHere = new Set<string>();

export interface HeldLock {
  readonly file: string;
  readonly info: LockInfo;
  release(): Promise<void>;
}

function parseLock(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string') return { pid: v.pid, host: v.host, startedAt: typeof v.startedAt === 'number' ? v.startedAt : 0 };
  } catch {
    // fall through
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it belongs to someone else.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function heldError(file: string, targetDir: string, holder: LockInfo | undefined, why: string): RcbsError {
  const who = holder ? `rcbs pid ${holder.pid} on host ${holder.host}${holder.startedAt ? ` (since ${new Date(holder.startedAt).toISOString()})` : ''}` : 'an unknown holder (the lock file is unreadable)';
  return new RcbsError(
    'RCBS_LOCK_HELD',
    `the target folder ${targetDir} is locked by ${who}: ${why}. Only one instance may write to a targetDir; wait for it to finish, or if it is surely gone, delete ${file}`,
    { path: file, pid: holder?.pid, host: holder?.host },
  );
}

async function readLockText(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw storeIoError('read', file, err);
  });
}

/** Creates the lock file exclusively; false when it already exists. */
async function createExclusive(file: string, text: string): Promise<boolean> {
  try {
    const handle = await open(file, 'wx', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw storeIoError('create the lock', file, err);
  }
}

export async function acquireLock(file: string, targetDir: string, log: Logger, refreshMs = LOCK_REFRESH_MS): Promise<HeldLock> {
  const info: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: Date.now() };
  // The token tells our lock from a lock another instance wrote with the same pid.
  const text = JSON.stringify({ ...info, token: randomBytes(8).toString('hex') }) + '\n';
  if (heldHere.has(file)) throw heldError(file, targetDir, info, 'this very process already holds it');

  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createExclusive(file, text)) return held(file, info, text, refreshMs);
    let existing = await readLockText(file);
    if (existing === undefined) continue; // released meanwhile: try again
    if (existing === '') {
      // Created, not yet written by its holder: give it a moment before judging.
      await new Promise((r) => setTimeout(r, 200));
      existing = (await readLockText(file)) ?? '';
    }
    const holder = parseLock(existing);
    if (!holder) throw heldError(file, targetDir, undefined, 'it cannot be judged');
    let why = 'its holder is no longer running';
    if (holder.host !== os.hostname()) {
      // Another host: only the mtime the holder keeps refreshing can tell.
      const mtimeMs = await stat(file).then((s) => s.mtimeMs, (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw storeIoError('read', file, err);
      });
      if (mtimeMs === undefined) continue; // released meanwhile: try again
      const idleMs = Date.now() - mtimeMs;
      if (idleMs <= LOCK_STALE_MS) {
        throw heldError(file, targetDir, holder, `it was taken on another host and refreshed ${Math.max(0, Math.round(idleMs / 1000))} s ago (a lock from another host is stale only after ${LOCK_STALE_MS / 60_000} minutes without a refresh)`);
      }
      why = `it was taken on another host and not refreshed for ${Math.round(idleMs / 60_000)} minutes (stale after ${LOCK_STALE_MS / 60_000})`;
    } else {
      const stale = holder.pid === process.pid || !isAlive(holder.pid);
      if (!stale) throw heldError(file, targetDir, holder, 'that process is running');
    }
    // Move the stale lock aside, then check we moved the one we judged (another
    // instance may have taken it over in between); if not, put it back.
    const aside = `${file}.stale.${randomBytes(4).toString('hex')}`;
    try {
      await rename(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw storeIoError('take over the stale lock', file, err);
    }
    const moved = await readLockText(aside);
    if (moved !== existing) {
      await link(aside, file).catch(() => {});
      await unlink(aside).catch(() => {});
      const other = parseLock(moved ?? '');
      throw heldError(file, targetDir, other, 'another instance took it over just now');
    }
    await unlink(aside).catch(() => {});
    log.warn(`took over a stale lock: ${why}`, { lock: file, pid: holder.pid, host: holder.host, startedAt: holder.startedAt ? new Date(holder.startedAt).toISOString() : undefined });
  }
  throw heldError(file, targetDir, undefined, 'it kept changing while rcbs tried to take it');
}

function held(file: string, info: LockInfo, text: string, refreshMs: number): HeldLock {
  heldHere.add(file);
  // Best effort on a normal exit that skipped close(); SIGKILL leaves a stale lock,
  // which the next run on this host takes over.
  const onExit = () => {
    try {
      if (readFileSync(file, 'utf8') === text) unlinkSync(file);
    } catch {
      // nothing to do at exit
    }
  };
  process.on('exit', onExit);
  // Show holders on other hosts that we are alive; unref'd so it never keeps the process up.
  const refresh = setInterval(() => {
    void readLockText(file)
      .then((now) => (now === text ? utimes(file, new Date(), new Date()) : undefined))
      .catch(() => {});
  }, refreshMs);
  refresh.unref();
  let released = false;
  return {
    file,
    info,
    async release() {
      if (released) return;
      released = true;
      clearInterval(refresh);
      process.off('exit', onExit);
      heldHere.delete(file);
      // Only remove it if it is still ours.
      if ((await readLockText(file)) === text) await unlink(file).catch(() => {});
    },
  };
}
