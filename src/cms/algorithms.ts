// The algorithms rcbs reads and writes in CMS, by OID (RFC 5652, 3565, 3560, 8017).
// Anything else is named in an RCBS_DECRYPT_UNSUPPORTED error.

import { RcbsError } from '../errors.js';
import { CONTEXT, TAG, UNIVERSAL, is, octets, readOid, type Asn1Node } from './asn1.js';
import { malformed } from './ber.js';

export const OID = {
  data: '1.2.840.113549.1.7.1',
  envelopedData: '1.2.840.113549.1.7.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  pSpecified: '1.2.840.113549.1.1.9',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

export interface ContentCipher {
  oid: string;
  /** Name for node:crypto createDecipheriv / createCipheriv. */
  name: string;
  keyLength: number;
  blockSize: number;
}

export const CONTENT_CIPHERS: Record<string, ContentCipher> = {
  '2.16.840.1.101.3.4.1.2': { oid: '2.16.840.1.101.3.4.1.2', name: 'aes-128-cbc', keyLength: 16, blockSize: 16 },
  '2.16.840.1.101.3.4.1.22': { oid: '2.16.840.1.101.3.4.1.22', name: 'aes-192-cbc', keyLength: 24, blockSize: 16 },
  '2.16.840.1.101.3.4.1.42': { oid: '2.16.840.1.101.3.4.1.42', name: 'aes-256-cbc', keyLength: 32, blockSize: 16 },
  '1.2.840.113549.3.7': { oid: '1.2.840.113549.3.7', name: 'des-ede3-cbc', keyLength: 24, blockSize: 8 },
};

/** Names for OIDs an operator may meet in an UNSUPPORTED message. */
const KNOWN_NAMES: Record<string, string> = {
  '1.2.840.113549.3.2': 'rc2-cbc',
  '1.3.14.3.2.7': 'des-cbc',
  '2.16.840.1.101.3.4.1.6': 'aes-128-gcm',
  '2.16.840.1.101.3.4.1.46': 'aes-256-gcm',
  '1.2.840.113549.1.9.16.3.18': 'chacha20-poly1305',
  '1.2.840.10045.2.1': 'ecPublicKey (key agreement)',
};

export function describeOid(oid: string): string {
  const name = KNOWN_NAMES[oid] ?? Object.values(CONTENT_CIPHERS).find((c) => c.oid === oid)?.name;
  return name ? `${oid} (${name})` : oid;
}

export interface ContentAlgorithm {
  cipher: ContentCipher;
  iv: Buffer;
}

/** contentEncryptionAlgorithm: a supported CBC cipher and its IV. */
export function readContentAlgorithm(algorithm: Asn1Node): ContentAlgorithm {
  const oid = readOid(algorithm.children[0], 'contentEncryptionAlgorithm');
  const cipher = CONTENT_CIPHERS[oid];
  if (!cipher) {
    throw new RcbsError('RCBS_DECRYPT_UNSUPPORTED', `the content is encrypted with ${describeOid(oid)}, which rcbs does not support (AES-128/192/256-CBC and DES-EDE3-CBC are)`, { oid });
  }
  const params = algorithm.children[1];
  if (!is(params, UNIVERSAL, TAG.OCTET_STRING)) throw malformed(`the ${cipher.name} parameters are not an IV (OCTET STRING)`);
  const iv = octets(params);
  if (iv.length !== cipher.blockSize) throw malformed(`the ${cipher.name} IV is ${iv.length} bytes, expected ${cipher.blockSize}`);
  return { cipher, iv };
}

const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export type KeyTransport =
  | { kind: 'pkcs1' }
  | { kind: 'oaep'; hash: string; mgf1Hash: string; label: Buffer };

function readHash(algorithm: Asn1Node | undefined, what: string): string {
  const oid = readOid(algorithm?.children[0], what);
  const hash = HASHES[oid];
  if (!hash) throw new RcbsError('RCBS_DECRYPT_UNSUPPORTED', `RSA-OAEP uses the hash ${oid}, which rcbs does not support`, { oid });
  return hash;
}

/** keyEncryptionAlgorithm of a KeyTransRecipientInfo. */
export function readKeyTransport(algorithm: Asn1Node): KeyTransport {
  const oid = readOid(algorithm.children[0], 'keyEncryptionAlgorithm');
  if (oid === OID.rsaEncryption) return { kind: 'pkcs1' };
  if (oid !== OID.rsaesOaep) {
    throw new RcbsError('RCBS_DECRYPT_UNSUPPORTED', `a recipient's key is wrapped with ${describeOid(oid)}, which rcbs does not support (RSA PKCS#1 v1.5 and RSA-OAEP are)`, { oid });
  }
  // RSAES-OAEP-params: every field optional, defaults SHA-1 / MGF1-SHA-1 / empty label.
  let hash = 'sha1';
  let mgf1Hash = 'sha1';
  let label: Buffer = Buffer.alloc(0);
  const params = algorithm.children[1];
  for (const field of params && params.tag === TAG.SEQUENCE ? params.children : []) {
    const inner = field.children[0];
    if (field.cls !== CONTEXT || !inner) continue;
    if (field.tag === 0) hash = readHash(inner, 'OAEP hashAlgorithm');
    else if (field.tag === 1) {
      const mgf = readOid(inner.children[0], 'OAEP maskGenAlgorithm');
      if (mgf !== OID.mgf1) throw new RcbsError('RCBS_DECRYPT_UNSUPPORTED', `RSA-OAEP uses the mask generation ${mgf}, which rcbs does not support (MGF1 is)`, { oid: mgf });
      mgf1Hash = readHash(inner.children[1], 'OAEP MGF1 hash');
    } else if (field.tag === 2) {
      const source = readOid(inner.children[0], 'OAEP pSourceAlgorithm');
      if (source !== OID.pSpecified) throw new RcbsError('RCBS_DECRYPT_UNSUPPORTED', `RSA-OAEP uses the label source ${source}, which rcbs does not support`, { oid: source });
      const value = inner.children[1];
      label = value ? octets(value) : label;
    }
  }
  return { kind: 'oaep', hash, mgf1Hash, label };
}
