// RSA key unwrapping. Node 20 refuses PKCS#1 v1.5 in privateDecrypt
// (CVE-2023-46809) and cannot use an MGF1 hash other than the OAEP hash, so the
// raw RSA operation is done with RSA_NO_PADDING and both paddings are removed
// here. The PKCS#1 v1.5 check does not branch on secret bytes (Bleichenbacher):
// every byte is looked at and only the final verdict decides.

import { constants, createHash, privateDecrypt, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { KeyTransport } from './algorithms.js';

/** The raw RSA result (k bytes), or undefined when the input cannot be an RSA ciphertext for this key. */
function rsaRaw(key: KeyObject, encryptedKey: Buffer): Buffer | undefined {
  try {
    return privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, encryptedKey);
  } catch {
    return undefined; // wrong size for this modulus, or a value above it: not for this key
  }
}

/** EME-PKCS1-v1_5 decoding: 00 02 PS(>= 8 non-zero) 00 M, with |M| = expected. */
export function unpadPkcs1(em: Buffer, expectedLength: number): Buffer | undefined {
  const k = em.length;
  let bad = em[0]! | (em[1]! ^ 0x02);
  let found = 0;
  let separator = 0;
  for (let i = 2; i < k; i++) {
    const isZero = ((em[i]! - 1) >>> 31) & 1; // 1 iff the byte is 0
    const first = isZero & (found ^ 1);
    separator |= -first & i;
    found |= isZero;
  }
  bad |= found ^ 1;
  bad |= ((separator - 10) >>> 31) & 1; // fewer than 8 padding bytes
  bad |= (k - separator - 1) ^ expectedLength;
  return bad === 0 ? em.subarray(separator + 1) : undefined;
}

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const blocks: Buffer[] = [];
  let total = 0;
  for (let counter = 0; total < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    blocks.push(block);
    total += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** EME-OAEP decoding (RFC 8017 §7.1.2), any hash / MGF1 hash / label. */
export function unpadOaep(em: Buffer, transport: Extract<KeyTransport, { kind: 'oaep' }>, expectedLength: number): Buffer | undefined {
  const lHash = createHash(transport.hash).update(transport.label).digest();
  const hLen = lHash.length;
  const k = em.length;
  if (k < 2 * hLen + 2) return undefined;
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seedMask = mgf1(maskedDb, hLen, transport.mgf1Hash);
  const seed = Buffer.alloc(hLen);
  for (let i = 0; i < hLen; i++) seed[i] = maskedSeed[i]! ^ seedMask[i]!;
  const dbMask = mgf1(seed, maskedDb.length, transport.mgf1Hash);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ dbMask[i]!;
  let bad = em[0]! | (timingSafeEqual(db.subarray(0, hLen), lHash) ? 0 : 1);
  let found = 0;
  let separator = 0;
  for (let i = hLen; i < db.length; i++) {
    const isOne = ((db[i]! ^ 1) - 1) >>> 31 & 1;
    const isZero = ((db[i]! - 1) >>> 31) & 1;
    const first = isOne & (found ^ 1);
    separator |= -first & i;
    bad |= (found ^ 1) & (isOne ^ 1) & (isZero ^ 1); // a non-zero byte before the 01
    found |= isOne;
  }
  bad |= found ^ 1;
  bad |= (db.length - separator - 1) ^ expectedLength;
  return bad === 0 ? db.subarray(separator + 1) : undefined;
}

/** The content-encryption key, or undefined when this key does not unwrap it. */
export function unwrapKey(key: KeyObject, transport: KeyTransport, encryptedKey: Buffer, expectedLength: number): Buffer | undefined {
  const em = rsaRaw(key, encryptedKey);
  if (!em) return undefined;
  return transport.kind === 'pkcs1' ? unpadPkcs1(em, expectedLength) : unpadOaep(em, transport, expectedLength);
}
