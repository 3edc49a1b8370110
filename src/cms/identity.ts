// An RSA key and a self-signed certificate made without the openssl CLI (the
// sandbox and tests can do without it): node:crypto makes the key, node-forge
// the X.509 certificate around it.

import { createHash, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateRsa = promisify(generateKeyPair);

export interface GeneratedIdentity {
  /** PKCS#8 PEM, unencrypted. */
  keyPem: string;
  certPem: string;
}

export async function generateIdentity(options: { bits?: number; commonName?: string } = {}): Promise<GeneratedIdentity> {
  const { publicKey, privateKey } = await generateRsa('rsa', {
    modulusLength: options.bits ?? 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // A positive serial of 16 random bytes (high bit cleared, as DER INTEGERs are signed).
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + 10 * 365 * 86_400_000);
  const name = [{ name: 'commonName', value: options.commonName ?? 'rcbs' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  const spkiDer = Buffer.from(forge.asn1.toDer(forge.pki.publicKeyToAsn1(cert.publicKey)).getBytes(), 'binary');
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', keyEncipherment: true, dataEncipherment: true },
    { name: 'subjectKeyIdentifier', subjectKeyIdentifier: createHash('sha1').update(spkiDer).digest('hex') },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { keyPem: privateKey, certPem: forge.pki.certificateToPem(cert) };
}
