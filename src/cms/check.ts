// What `rcbs verify --key` needs: a function that proves a file decrypts with the
// configured keys, writing nothing. The passphrase comes from RCBS_KEY_PASSPHRASE.

import { checkDecrypts } from './file.js';
import { loadIdentities, readPassphrase } from './keys.js';

export async function createDecryptCheck(keys: readonly string[]): Promise<(file: string, signal?: AbortSignal) => Promise<void>> {
  const identities = await loadIdentities(keys, { passphrase: await readPassphrase(undefined) });
  return (file, signal) => checkDecrypts(file, identities, signal);
}
