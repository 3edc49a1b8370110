// Private keys and the certificates that go with them, from the files an operator
// gives with --key: PEM (PKCS#1, PKCS#8, passphrase-encrypted, with or without
// its certificate), DER, and PKCS#12 (read with node-forge: Node cannot). Tenants
// keep old keys, so several files at once; a certificate found in any of them is
// paired with its key by public key, and used to pick the recipient.

import { X509Certificate, createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { RcbsError } from '../errors.js';
import { addSecret } from '../log.js';
import { TAG, UNIVERSAL, CONTEXT, encodeDer, is, nameToString, octets, parseBer, readOid } from './asn1.js';
import { OID } from './algorithms.js';

export interface CertificateId {
  /** DER of the issuer Name. */
  issuer: Buffer;
  /** Content octets of the serial INTEGER. */
  serial: Buffer;
  /** subjectKeyIdentifier extension, or SHA-1 of the public key when absent (RFC 5280 method 1). */
  subjectKeyId: Buffer;
  subject: string;
  issuerText: string;
}

export interface Identity {
  /** Where it came from, for messages. */
  source: string;
  key: KeyObject;
  /** Modulus size in bytes: an encryptedKey of another size is not for this key. */
  modulusBytes: number;
  certificates: CertificateId[];
}

export interface LoadOptions {
  passphrase?: string;
}

function keyInvalid(message: string, file: string, cause?: unknown): RcbsError {
  return new RcbsError('RCBS_KEY_INVALID', message, { file }, { cause });
}

/** Issuer, serial and key identifier of a DER certificate. */
export function certificateId(derCert: Buffer): CertificateId {
  const cert = parseBer(derCert);
  const tbs = cert.children[0];
  if (!tbs) throw new Error('not a certificate');
  const fields = is(tbs.children[0], CONTEXT, 0) ? tbs.children.slice(1) : tbs.children;
  const [serial, , issuer, , subject, spki] = fields;
  if (!is(serial, UNIVERSAL, TAG.INTEGER) || !issuer || !subject || !spki) throw new Error('not a certificate');
  let subjectKeyId: Buffer | undefined;
  const extensions = fields.find((f) => is(f, CONTEXT, 3));
  for (const ext of extensions?.children[0]?.children ?? []) {
    if (readOid(ext.children[0], 'extension') !== OID.subjectKeyIdentifier) continue;
    const value = ext.children.at(-1)!;
    subjectKeyId = octets(parseBer(octets(value)));
  }
  const publicKeyBits = spki.children[1];
  subjectKeyId ??= createHash('sha1').update(publicKeyBits ? publicKeyBits.value.subarray(1) : Buffer.alloc(0)).digest();
  return { issuer: encodeDer(issuer), serial: serial.value, subjectKeyId, subject: nameToString(subject), issuerText: nameToString(issuer) };
}

interface Found {
  keys: Array<{ key: KeyObject; source: string }>;
  certificates: Array<{ der: Buffer; publicKey: KeyObject }>;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function readPem(text: string, file: string, options: LoadOptions, found: Found): void {
  for (const match of text.matchAll(PEM_BLOCK)) {
    const [block, label] = match;
    if (label === 'CERTIFICATE' || label === 'TRUSTED CERTIFICATE') {
      try {
        const cert = new X509Certificate(block);
        found.certificates.push({ der: cert.raw, publicKey: cert.publicKey });
      } catch (err) {
        throw keyInvalid(`${file}: a CERTIFICATE block does not parse (${(err as Error).message})`, file, err);
      }
    } else if (/PRIVATE KEY$/.test(label!)) {
      const encrypted = label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(block);
      if (encrypted && options.passphrase === undefined) {
        throw keyInvalid(`${file}: the private key is encrypted; give its passphrase in RCBS_KEY_PASSPHRASE or with --passphrase-file`, file);
      }
      try {
        found.keys.push({ key: createPrivateKey({ key: block, format: 'pem', passphrase: encrypted ? options.passphrase : undefined }), source: file });
      } catch (err) {
        const why = encrypted ? 'the passphrase is wrong or the key is damaged' : (err as Error).message;
        throw keyInvalid(`${file}: the private key cannot be read (${why})`, file, err);
      }
    }
  }
}

function readDerKey(data: Buffer): KeyObject | undefined {
  for (const type of ['pkcs8', 'pkcs1'] as const) {
    try {
      return createPrivateKey({ key: data, format: 'der', type });
    } catch {
      // try the next form
    }
  }
  return undefined;
}

async function readPkcs12(data: Buffer, file: string, options: LoadOptions, found: Found): Promise<void> {
  // node-forge is large and only PKCS#12 needs it: load it then, not on every start.
  const { default: forge } = await import('node-forge');
  let p12: import('node-forge').pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(data.toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, options.passphrase ?? '');
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (/mac|password|invalid/i.test(message) && !/Too few bytes|not asn\.1/i.test(message)) {
      throw keyInvalid(`${file}: the PKCS#12 file cannot be opened (${options.passphrase === undefined ? 'it needs a passphrase: set RCBS_KEY_PASSPHRASE or use --passphrase-file' : 'wrong passphrase'})`, file, err);
    }
    throw keyInvalid(`${file}: not a PEM key, a DER key or a PKCS#12 file (${message})`, file, err);
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
  ];
  for (const bag of keyBags) {
    if (!bag.key) throw keyInvalid(`${file}: a PKCS#12 key is not an RSA key rcbs can read`, file);
    found.keys.push({ key: createPrivateKey(forge.pki.privateKeyToPem(bag.key)), source: file });
  }
  for (const bag of p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? []) {
    if (!bag.cert) continue;
    const cert = new X509Certificate(forge.pki.certificateToPem(bag.cert));
    found.certificates.push({ der: cert.raw, publicKey: cert.publicKey });
  }
}

async function readKeyFile(file: string, options: LoadOptions, found: Found): Promise<void> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw keyInvalid(`${file}: the key file cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file, err);
  }
  const before = found.keys.length + found.certificates.length;
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN ')) readPem(text, file, options, found);
  else {
    const key = readDerKey(data);
    if (key) found.keys.push({ key, source: file });
    else await readPkcs12(data, file, options, found);
  }
  if (found.keys.length + found.certificates.length === before) throw keyInvalid(`${file}: holds no private key or certificate`, file);
}

/** The passphrase for encrypted keys: --passphrase-file, else RCBS_KEY_PASSPHRASE; never argv. */
export async function readPassphrase(passphraseFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  let passphrase: string | undefined;
  if (passphraseFile) {
    try {
      // One trailing newline is the file's, not the passphrase's.
      passphrase = (await readFile(passphraseFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw keyInvalid(`${passphraseFile}: the passphrase file cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, passphraseFile, err);
    }
  } else passphrase = env.RCBS_KEY_PASSPHRASE;
  addSecret(passphrase);
  return passphrase;
}

const samePublicKey = (a: KeyObject, b: KeyObject) =>
  a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));

/** Reads every key file; fails (RCBS_KEY_INVALID) on the first that cannot be used. */
export async function loadIdentities(files: readonly string[], options: LoadOptions = {}): Promise<Identity[]> {
  if (files.length === 0) throw new RcbsError('RCBS_KEY_INVALID', 'no private key given: pass one or more key files (--key, or decryptKey in the config)');
  const found: Found = { keys: [], certificates: [] };
  for (const file of files) await readKeyFile(file, options, found);
  if (found.keys.length === 0) throw new RcbsError('RCBS_KEY_INVALID', `no private key in ${files.join(', ')}: certificates alone cannot decrypt`);
  return found.keys.map(({ key, source }) => {
    if (key.asymmetricKeyType !== 'rsa') throw keyInvalid(`${source}: a ${key.asymmetricKeyType} key; CMS key transport in rcbs needs an RSA key`, source);
    const publicKey = createPublicKey(key);
    const certificates = found.certificates.filter((c) => samePublicKey(c.publicKey, publicKey)).map((c) => certificateId(c.der));
    return { source, key, modulusBytes: Math.ceil(key.asymmetricKeyDetails!.modulusLength! / 8), certificates };
  });
}

