// CMS EnvelopedData that `openssl cms -decrypt` accepts: AES-128/256-CBC content,
// the key wrapped with RSA PKCS#1 v1.5 for each certificate (issuer+serial). With
// the plaintext size known up front the output is definite-length DER (like
// `openssl cms -encrypt -outform DER`); otherwise indefinite-length BER with the
// ciphertext in OCTET STRING chunks (like `-stream`), so nothing is buffered.

import { X509Certificate, constants, createCipheriv, publicEncrypt, randomBytes, type Cipher } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { RcbsError } from '../errors.js';
import type { EncryptionFormat } from '../config/types.js';
import { CONTEXT, TAG, UNIVERSAL, der, derHeader, parseBer } from './asn1.js';
import { OID } from './algorithms.js';
import { certificateId } from './keys.js';

const CIPHERS: Record<EncryptionFormat, { oid: string; name: string; keyLength: number }> = {
  'AES-128': { oid: '2.16.840.1.101.3.4.1.2', name: 'aes-128-cbc', keyLength: 16 },
  'AES-256': { oid: '2.16.840.1.101.3.4.1.42', name: 'aes-256-cbc', keyLength: 32 },
};

export interface EncryptOptions {
  /** Recipient certificates: PEM text, DER or X509Certificate. */
  certificates: ReadonlyArray<string | Buffer | X509Certificate>;
  cipher?: EncryptionFormat;
  /** Plaintext size in bytes, when known: definite-length DER output. */
  plaintextSize?: number;
}

function toCertificate(cert: string | Buffer | X509Certificate): X509Certificate {
  if (cert instanceof X509Certificate) return cert;
  try {
    return new X509Certificate(cert);
  } catch (err) {
    throw new RcbsError('RCBS_KEY_INVALID', `a recipient certificate does not parse (${(err as Error).message})`, {}, { cause: err });
  }
}

/** KeyTransRecipientInfo v0: issuer+serial, rsaEncryption, the wrapped key. */
function recipientInfo(cert: X509Certificate, contentKey: Buffer): Buffer {
  if (cert.publicKey.asymmetricKeyType !== 'rsa') {
    throw new RcbsError('RCBS_KEY_INVALID', `the certificate "${cert.subject}" holds a ${cert.publicKey.asymmetricKeyType} key; rcbs encrypts to RSA keys only`);
  }
  const id = certificateId(cert.raw);
  const serial = Buffer.concat([derHeader(UNIVERSAL, false, TAG.INTEGER, id.serial.length), id.serial]);
  const wrapped = publicEncrypt({ key: cert.publicKey, padding: constants.RSA_PKCS1_PADDING }, contentKey);
  return der.sequence(der.integer(0), der.sequence(id.issuer, serial), der.sequence(der.oid(OID.rsaEncryption), der.null()), der.octetString(wrapped));
}

interface Prepared {
  cipher: Cipher;
  /** version, recipientInfos, and the start of EncryptedContentInfo up to the content. */
  envelopeStart: Buffer;
  contentType: Buffer;
}

function prepare(options: EncryptOptions): Prepared & { algorithm: Buffer } {
  const certificates = options.certificates.map(toCertificate);
  if (certificates.length === 0) throw new RcbsError('RCBS_KEY_INVALID', 'encrypting needs at least one recipient certificate');
  const spec = CIPHERS[options.cipher ?? 'AES-128'];
  const contentKey = randomBytes(spec.keyLength);
  const iv = randomBytes(16);
  const recipients = der.setOf(...certificates.map((c) => recipientInfo(c, contentKey)));
  return {
    cipher: createCipheriv(spec.name, contentKey, iv),
    envelopeStart: Buffer.concat([der.integer(0), recipients]),
    contentType: der.oid(OID.data),
    algorithm: der.sequence(der.oid(spec.oid), der.octetString(iv)),
  };
}

const EOC = Buffer.from([0, 0]);
const indefinite = (identifier: number) => Buffer.from([identifier, 0x80]);

/** The whole file's header for a known ciphertext length: definite-length DER. */
function definiteHeader(p: ReturnType<typeof prepare>, ciphertextLength: number): Buffer {
  const contentHeader = derHeader(CONTEXT, false, 0, ciphertextLength);
  const eciLength = p.contentType.length + p.algorithm.length + contentHeader.length + ciphertextLength;
  const eciHeader = derHeader(UNIVERSAL, true, TAG.SEQUENCE, eciLength);
  const envLength = p.envelopeStart.length + eciHeader.length + eciLength;
  const envHeader = derHeader(UNIVERSAL, true, TAG.SEQUENCE, envLength);
  const typeOid = der.oid(OID.envelopedData);
  const explicitLength = envHeader.length + envLength;
  const explicitHeader = derHeader(CONTEXT, true, 0, explicitLength);
  const infoLength = typeOid.length + explicitHeader.length + explicitLength;
  return Buffer.concat([
    derHeader(UNIVERSAL, true, TAG.SEQUENCE, infoLength),
    typeOid,
    explicitHeader,
    envHeader,
    p.envelopeStart,
    eciHeader,
    p.contentType,
    p.algorithm,
    contentHeader,
  ]);
}

function indefiniteHeader(p: ReturnType<typeof prepare>): Buffer {
  return Buffer.concat([
    indefinite(0x30),
    der.oid(OID.envelopedData),
    indefinite(0xa0),
    indefinite(0x30),
    p.envelopeStart,
    indefinite(0x30),
    p.contentType,
    p.algorithm,
    indefinite(0xa0), // [0] IMPLICIT OCTET STRING, constructed: a series of chunks
  ]);
}

const octetChunk = (bytes: Buffer) => Buffer.concat([derHeader(UNIVERSAL, false, TAG.OCTET_STRING, bytes.length), bytes]);

/** A Transform from plaintext to CMS EnvelopedData. */
export function createEncryptStream(options: EncryptOptions): Transform {
  const p = prepare(options);
  const size = options.plaintextSize;
  const definite = size !== undefined;
  let seen = 0;
  let headerSent = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (definite && seen > size) return callback(new RcbsError('RCBS_INTERNAL', `the plaintext is longer than the ${size} bytes announced for it`));
      if (!headerSent) {
        this.push(definite ? definiteHeader(p, (Math.floor(size / 16) + 1) * 16) : indefiniteHeader(p));
        headerSent = true;
      }
      const out = p.cipher.update(chunk);
      if (out.length > 0) this.push(definite ? out : octetChunk(out));
      callback();
    },
    flush(callback: TransformCallback) {
      if (definite && seen !== size) return callback(new RcbsError('RCBS_INTERNAL', `the plaintext is ${seen} bytes, not the ${size} announced for it`));
      if (!headerSent) this.push(definite ? definiteHeader(p, 16) : indefiniteHeader(p));
      const last = p.cipher.final();
      if (definite) this.push(last);
      // Closes the content chunks, EncryptedContentInfo, EnvelopedData, [0] and ContentInfo.
      else this.push(Buffer.concat([octetChunk(last), EOC, EOC, EOC, EOC, EOC]));
      callback();
    },
  });
}

/** Encrypts a whole buffer to definite-length DER, for small cases. */
export function encryptBuffer(plain: Buffer, options: Omit<EncryptOptions, 'plaintextSize'>): Buffer {
  const p = prepare(options);
  const ciphertext = Buffer.concat([p.cipher.update(plain), p.cipher.final()]);
  const out = Buffer.concat([definiteHeader(p, ciphertext.length), ciphertext]);
  parseBer(out); // our own output must be well-formed; cheap for small buffers
  return out;
}
