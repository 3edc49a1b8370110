// Where decrypted files go, and where they must never go: plaintext inside the
// encrypted backup's folder would be copied, indexed or synced as if it were the
// backup (SPEC §5: never inside targetDir). The one folder-containment check: the
// config (decryptDir vs targetDir), the decrypt sink and `rcbs decrypt` all use it.

import path from 'node:path';

/**
 * Whether `child` is `parent` or below it, by path segments: /data2 is not inside
 * /data, /data/..notes is. Letter case is ignored where the usual file system ignores
 * it (Windows, macOS), so the check errs on the side of refusing.
 */
export function isInside(child: string, parent: string, platform: NodeJS.Platform = process.platform): boolean {
  const paths = platform === 'win32' ? path.win32 : path.posix;
  const fold = (p: string) => (platform === 'win32' || platform === 'darwin' ? p.toLowerCase() : p);
  const rel = paths.relative(fold(paths.resolve(parent)), fold(paths.resolve(child)));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${paths.sep}`) && !paths.isAbsolute(rel));
}

/** `a/b/<mediaId>.bin` → `a/b/<mediaId>`: a decrypted file keeps its folder and loses `.bin`. */
export function decryptedName(relPath: string): string {
  return relPath.replace(/\.bin$/i, '');
}
