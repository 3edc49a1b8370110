// Where decrypted files go, and where they must never go: plaintext inside the
// encrypted backup's folder would be copied, indexed or synced as if it were the
// backup (SPEC §5: never inside targetDir).

import path from 'node:path';

export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** `a/b/<mediaId>.bin` → `a/b/<mediaId>`: a decrypted file keeps its folder and loses `.bin`. */
export function decryptedName(relPath: string): string {
  return relPath.replace(/\.bin$/i, '');
}
