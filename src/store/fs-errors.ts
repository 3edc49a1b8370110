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

export function storeIoError(action: string, file: string, err: unknown): RcbsError {
  if (isRcbsError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  // Node's messages usually start with the code already ("ENOSPC: no space left…").
  const message = String(e?.message ?? err);
  const os = e?.code && !message.includes(e.code) ? `${e.code}: ${message}` : message;
  const hint = (e?.code && HINTS[e.code]) || 'check the target folder (targetDir)';
  return new RcbsError('RCBS_STORE_IO', `could not ${action} ${file} (${os}); ${hint}`, { path: file, errno: e?.code }, { cause: err });
}
