// The sandbox's only crypto: a recipient identity and CMS EnvelopedData (DER) for
// each media plaintext, exactly what Genesys puts in S3. Both come from rcbs's own
// CMS code (src/cms/), so the sandbox needs no openssl CLI; the interop tests
// (test/cms-openssl-interop-*.test.ts) prove openssl reads what it writes.

import { X509Certificate } from 'node:crypto';
import { encryptBuffer } from '../cms/encrypt.js';
import { generateIdentity as generateRsaIdentity } from '../cms/identity.js';
import type { EncryptionFormat } from '../config/types.js';

export interface Identity {
  keyPem: string;
  certPem: string;
}

export function generateIdentity(): Promise<Identity> {
  return generateRsaIdentity({ commonName: 'rcbs sandbox recording encryption' });
}

const parsedCertificates = new Map<string, X509Certificate>();

/** CMS EnvelopedData, definite-length DER, RSA PKCS#1 v1.5 key transport. */
export async function encryptMedia(plain: Buffer, certPem: string, cipher: EncryptionFormat = 'AES-128'): Promise<Buffer> {
  let certificate = parsedCertificates.get(certPem);
  if (!certificate) {
    certificate = new X509Certificate(certPem);
    parsedCertificates.set(certPem, certificate);
  }
  return encryptBuffer(plain, { certificates: [certificate], cipher });
}
