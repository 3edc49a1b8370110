// One shape for every file-system failure of the store: RCBS_STORE_IO naming the
// path, the OS error code and what the operator can do about it.

import { RcbsError, isRcbsError } from '../errors.js';

const HINTS: Record<string, string> = {
  EACCES: 'check that the account running rcbs may write there',
  EPERM: 'check that the account running rcbs may write there',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full: free space, then run again (nothing half-written is kept)',
  EDQUOT: 'the disk quota is exhausted: free space, then run again',
  ENOTDIR: 'a file stands where a folder is expected',
  EEXIST: 'a file stands where a folder is expected',
  ENOENT: 'the folder does not exist or was removed during the run',
};

/** The OS error code behind an error: its details, its own code, or its causes'
 * (a transfer wraps the write error it met). */
function errnoOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const errno = isRcbsError(e) ? e.details.errno : (e as NodeJS.ErrnoException).code;
    if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) return errno;
  }
  return undefined;
}

/** File-system errors that are the whole folder's, not one file's: the run cannot go on. */
const FOLDER_WIDE = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

/** The run-stopping form of a store error (RCBS_TARGET_UNAVAILABLE, exit 4) when its
 * cause is the whole folder's (full, read-only); undefined for one file's problem. */
export function folderWideError(err: unknown): RcbsError | undefined {
  const errno = errnoOf(err);
  if (errno === undefined || !FOLDER_WIDE.has(errno)) return undefined;
  const message = isRcbsError(err) ? err.message : storeIoError('write to', 'the target folder', err).message;
  return new RcbsError('RCBS_TARGET_UNAVAILABLE', message, { errno }, { cause: err });
}

/** A target folder that cannot be opened for writing (created, locked) stops the run before
 * it starts, whatever the cause: RCBS_TARGET_UNAVAILABLE (exit 4). */
export function targetUnavailableError(action: string, file: string, err: unknown): RcbsError {
  if (isRcbsError(err) && err.code !== 'RCBS_STORE_IO') return err;
  const io = storeIoError(action, file, err);
  return new RcbsError('RCBS_TARGET_UNAVAILABLE', io.message, io.details, { cause: err });
}

export function storeIoError(action: string, file: string, err: unknown): RcbsError {
  if (isRcbsError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  // Node's messages usually start with the code already ("ENOSPC: no space left…").
  const message = String(e?.message ?? err);
  const os = e?.code && !message.includes(e.code) ? `${e.code}: ${message}` : message;
  const hint = (e?.code && HINTS[e.code]) || 'check the target folder (targetDir)';
  return new RcbsError('RCBS_STORE_IO', `could not ${action} ${file} (${os}); ${hint}`, { path: file, errno: e?.code }, { cause: err });
}
