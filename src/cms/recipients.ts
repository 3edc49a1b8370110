// Which recipient a given key opens, the way openssl chooses: a recipient whose
// issuer+serial or subjectKeyIdentifier matches a given certificate is tried with
// that certificate's key first; otherwise every key is tried on every recipient
// of its modulus size. A wrong key almost never survives the padding check here;
// when one does (about 1 in 2^24), the CBC padding check at the end catches it.

import { RcbsError } from '../errors.js';
import { CONTEXT, TAG, UNIVERSAL, encodeDer, is, nameToString, octets, type Asn1Node } from './asn1.js';
import { readKeyTransport, type KeyTransport } from './algorithms.js';
import { malformed } from './ber.js';
import type { Identity } from './keys.js';
import { unwrapKey } from './key-transport.js';

export type RecipientId = { kind: 'issuerSerial'; issuer: Buffer; issuerText: string; serial: Buffer } | { kind: 'ski'; ski: Buffer };

export interface KeyTransRecipient {
  rid: RecipientId;
  /** Read lazily: an unsupported algorithm matters only if this recipient is ours. */
  algorithm: Asn1Node;
  encryptedKey: Buffer;
}

export interface Recipients {
  keyTrans: KeyTransRecipient[];
  /** Recipient kinds rcbs does not handle (key agreement, KEK, password…), for messages. */
  others: string[];
}

const OTHER_KINDS: Record<number, string> = { 1: 'key agreement (kari)', 2: 'symmetric key (kekri)', 3: 'password (pwri)', 4: 'other (ori)' };

export function readRecipients(set: Asn1Node): Recipients {
  const keyTrans: KeyTransRecipient[] = [];
  const others: string[] = [];
  for (const info of set.children) {
    if (info.cls === CONTEXT) {
      others.push(OTHER_KINDS[info.tag] ?? `[${info.tag}]`);
      continue;
    }
    const [, rid, algorithm, encryptedKey] = info.children;
    if (!is(info, UNIVERSAL, TAG.SEQUENCE) || !rid || !algorithm || !is(encryptedKey, UNIVERSAL, TAG.OCTET_STRING)) {
      throw malformed('a RecipientInfo is not a KeyTransRecipientInfo, KeyAgree, KEK or password recipient');
    }
    if (rid.cls === CONTEXT && rid.tag === 0) keyTrans.push({ rid: { kind: 'ski', ski: octets(rid) }, algorithm, encryptedKey: octets(encryptedKey) });
    else if (rid.cls === UNIVERSAL && rid.tag === TAG.SEQUENCE && rid.children.length === 2) {
      const [issuer, serial] = rid.children as [Asn1Node, Asn1Node];
      keyTrans.push({ rid: { kind: 'issuerSerial', issuer: encodeDer(issuer), issuerText: nameToString(issuer), serial: serial.value }, algorithm, encryptedKey: octets(encryptedKey) });
    } else throw malformed('a KeyTransRecipientInfo has neither issuer+serial nor a subjectKeyIdentifier');
  }
  return { keyTrans, others };
}

export function describeRecipient(rid: RecipientId): string {
  return rid.kind === 'ski' ? `subjectKeyIdentifier ${rid.ski.toString('hex')}` : `issuer "${rid.issuerText}" serial ${rid.serial.toString('hex')}`;
}

export function describeRecipients(recipients: Recipients): string {
  const all = [...recipients.keyTrans.map((r) => describeRecipient(r.rid)), ...recipients.others];
  return all.length ? all.join('; ') : 'none';
}

function matches(identity: Identity, rid: RecipientId): boolean {
  return identity.certificates.some((c) =>
    rid.kind === 'ski' ? c.subjectKeyId.equals(rid.ski) : c.issuer.equals(rid.issuer) && c.serial.equals(rid.serial),
  );
}

/** Unwraps the content-encryption key with the first given key that opens a recipient. */
export function openRecipients(recipients: Recipients, identities: readonly Identity[], keyLength: number): Buffer {
  if (recipients.keyTrans.length === 0) {
    throw new RcbsError('RCBS_DECRYPT_UNSUPPORTED', `the file has no RSA key-transport recipient, only: ${describeRecipients(recipients)}`);
  }
  const transports = new Map<KeyTransRecipient, KeyTransport>();
  const transportOf = (r: KeyTransRecipient) => {
    let t = transports.get(r);
    if (!t) transports.set(r, (t = readKeyTransport(r.algorithm)));
    return t;
  };

  const matched: Array<[Identity, KeyTransRecipient]> = [];
  for (const r of recipients.keyTrans) for (const id of identities) if (matches(id, r.rid)) matched.push([id, r]);
  for (const [id, r] of matched) {
    const key = unwrapKey(id.key, transportOf(r), r.encryptedKey, keyLength);
    if (key) return key;
  }
  if (matched.length > 0) {
    const [id, r] = matched[0]!;
    throw new RcbsError(
      'RCBS_DECRYPT_WRONG_KEY',
      `the key in ${id.source} matches recipient ${describeRecipient(r.rid)} by its certificate but does not unwrap its key: the key and certificate do not belong together, or the file is corrupt`,
      { recipients: describeRecipients(recipients) },
    );
  }

  let unsupported: RcbsError | undefined;
  for (const id of identities) {
    for (const r of recipients.keyTrans) {
      if (r.encryptedKey.length !== id.modulusBytes) continue;
      let transport: KeyTransport;
      try {
        transport = transportOf(r);
      } catch (err) {
        unsupported ??= err as RcbsError;
        continue;
      }
      const key = unwrapKey(id.key, transport, r.encryptedKey, keyLength);
      if (key) return key;
    }
  }
  if (unsupported && recipients.keyTrans.every((r) => !transports.has(r))) throw unsupported;
  const given = identities.map((id) => id.source + (id.certificates.length ? ` (certificate ${id.certificates.map((c) => `"${c.subject}" serial ${c.serial.toString('hex')}`).join(', ')})` : '')).join(', ');
  throw new RcbsError(
    'RCBS_DECRYPT_NO_RECIPIENT',
    `none of the given keys opens this file. Recipients present: ${describeRecipients(recipients)}. Keys given: ${given}. Use the private key of one of those recipients.`,
    { recipients: describeRecipients(recipients) },
  );
}

