// TLS trust as operators set it (SPEC §3), for GWS and S3. Node trusts its bundled
// roots plus NODE_EXTRA_CA_CERTS (read once at start). `caFile` (both sides) and
// AWS_CA_BUNDLE (S3 only, as the AWS CLI reads it; here in addition to the roots,
// not instead of them) add PEM bundles: a TLS-inspecting corporate proxy re-signs
// every site with its own CA. Passing `ca` to an agent REPLACES Node's store, so the
// context built here is the whole list again: Node's roots, the extra certs, then
// the files. Without caFile/AWS_CA_BUNDLE nothing is built and Node's store applies
// as it is.
//
// A certificate Node refuses becomes RCBS_TLS_UNTRUSTED (exit 4): it names the host
// and the setting that fixes it. It is the same for every request to that host, so
// it stops the run rather than failing item after item.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { RcbsError } from '../errors.js';

export type TlsSide = 'gws' | 's3';

interface TrustFile {
  /** The config key or variable that named it, for messages. */
  setting: string;
  path: string;
}

/** Node's trusted roots as this process has them: bundled + NODE_EXTRA_CA_CERTS (+ system CAs on Node >= 22.15 with --use-system-ca). */
function nodeRoots(): string[] {
  const getCACertificates = (tls as { getCACertificates?: (type: 'default') => string[] }).getCACertificates;
  if (getCACertificates) return getCACertificates('default');
  // Node 20: rootCertificates is the bundled store only; the extra file is read as Node did at start.
  const extraFile = process.env.NODE_EXTRA_CA_CERTS;
  let extra: string[] = [];
  if (extraFile) {
    try {
      extra = pemCertificates(readFileSync(extraFile, 'utf8'));
    } catch {
      // Node already warned at start that it ignores an unreadable file; so does rcbs.
    }
  }
  return [...tls.rootCertificates, ...extra];
}

function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Each bundle's certificates, read and checked once per process (a run checks them at
 * start, then builds its connections' SecureContexts from them). */
const readBundles = new Map<string, string[]>();

function readTrustFile(file: TrustFile): string[] {
  const known = readBundles.get(file.path);
  if (known) return known;
  const certificates = readAndCheck(file);
  readBundles.set(file.path, certificates);
  return certificates;
}

function readAndCheck(file: TrustFile): string[] {
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new RcbsError('RCBS_CONFIG_INVALID', `${file.setting} ${file.path} cannot be read (${code}): give a PEM file of CA certificates.`,
      { key: file.setting, path: file.path, code }, { cause: err });
  }
  const certificates = pemCertificates(text);
  if (certificates.length === 0) {
    throw new RcbsError('RCBS_CONFIG_INVALID', `${file.setting} ${file.path} holds no PEM certificate (-----BEGIN CERTIFICATE-----): give a PEM file of CA certificates.`,
      { key: file.setting, path: file.path });
  }
  certificates.forEach((pem, index) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new RcbsError('RCBS_CONFIG_INVALID', `${file.setting} ${file.path}: certificate ${index + 1} of ${certificates.length} is not a valid certificate (${(err as Error).message}).`,
        { key: file.setting, path: file.path }, { cause: err });
    }
  });
  return certificates;
}

/** The bundles rcbs adds for one side: caFile, and AWS_CA_BUNDLE for S3. */
export function trustFiles(caFile: string | undefined, env: NodeJS.ProcessEnv, side: TlsSide): TrustFile[] {
  const files: TrustFile[] = [];
  if (caFile) files.push({ setting: 'caFile', path: caFile });
  const bundle = env.AWS_CA_BUNDLE?.trim();
  if (side === 's3' && bundle) files.push({ setting: 'AWS_CA_BUNDLE', path: bundle });
  return files;
}

/**
 * Reads and checks the bundles a pipeline's connections will trust (caFile; AWS_CA_BUNDLE
 * too when it talks to S3), so `rcbs validate` and the start of a run name a missing or
 * broken file (RCBS_CONFIG_INVALID, exit 2) instead of the first connection that needs it.
 */
export function checkTrustFiles(caFile: string | undefined, env: NodeJS.ProcessEnv, sides: readonly TlsSide[]): void {
  // A bundle on both sides is read once: readTrustFile keeps what it read.
  for (const side of sides) for (const file of trustFiles(caFile, env, side)) readTrustFile(file);
}

const contexts = new Map<string, tls.SecureContext>();

/**
 * The SecureContext for one side's connections, or undefined when no bundle is
 * added (Node's own store then applies, NODE_EXTRA_CA_CERTS included). Built once
 * per set of files: parsing a few hundred roots per connection would cost.
 */
export function trustedContext(caFile: string | undefined, env: NodeJS.ProcessEnv, side: TlsSide): tls.SecureContext | undefined {
  const files = trustFiles(caFile, env, side);
  if (files.length === 0) return undefined;
  const key = files.map((f) => f.path).join('\n');
  let context = contexts.get(key);
  if (!context) {
    const added = files.flatMap(readTrustFile);
    // Each certificate costs ~0.5 ms to load, and bundles overlap (a system bundle in
    // NODE_EXTRA_CA_CERTS repeats most of Node's roots): load each one once.
    const unique = new Map<string, string>();
    for (const pem of [...nodeRoots(), ...added]) unique.set(pem.replace(/\s+/g, ''), pem);
    context = tls.createSecureContext({ ca: [...unique.values()] });
    contexts.set(key, context);
  }
  return context;
}

// Node's names for the certificate checks that failed (OpenSSL verify results).
const UNKNOWN_CA = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'INVALID_CA',
  'CERT_SIGNATURE_FAILURE', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_CHAIN_TOO_LONG', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE',
]);
const BAD_DATES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD']);
const WRONG_NAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
const REVOKED = new Set(['CERT_REVOKED']);

export interface CertificateProblem {
  code: string;
  kind: 'unknown-ca' | 'dates' | 'name' | 'revoked';
  /** Node's own words for a name mismatch ("Host: x. is not in the cert's altnames: DNS:y"). */
  reason?: string;
  /** host:port the failed connection went to, when labelCertificateErrors marked it. */
  host?: string;
}

/** The certificate problem behind an error (looked for down its `cause` chain), if it is one. */
export function certificateProblem(err: unknown): CertificateProblem | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current !== null && typeof current === 'object'; depth++) {
    const e = current as { code?: unknown; reason?: unknown; rcbsTlsHost?: unknown; cause?: unknown };
    const code = typeof e.code === 'string' ? e.code : undefined;
    const kind = code === undefined ? undefined
      : UNKNOWN_CA.has(code) ? 'unknown-ca'
      : BAD_DATES.has(code) ? 'dates'
      : WRONG_NAME.has(code) ? 'name'
      : REVOKED.has(code) ? 'revoked'
      : undefined;
    if (code && kind) {
      const host = typeof e.rcbsTlsHost === 'string' ? e.rcbsTlsHost : undefined;
      return { code, kind, ...(typeof e.reason === 'string' ? { reason: e.reason } : {}), ...(host ? { host } : {}) };
    }
    current = e.cause;
  }
  return undefined;
}

/** Marks a TLS socket's certificate error with the host:port it was for (Node's verify errors do not say). */
export function labelCertificateErrors(socket: NodeJS.EventEmitter, host: string): void {
  socket.prependListener('error', (err: unknown) => {
    if (err && typeof err === 'object' && certificateProblem(err)) (err as { rcbsTlsHost?: string }).rcbsTlsHost ??= host;
  });
}

const SERVICE: Record<TlsSide, { name: string; address: string; bundles: string }> = {
  gws: { name: 'GWS', address: 'gwsUriPrefix', bundles: 'set caFile' },
  s3: { name: 'S3', address: 's3Endpoint (or the region GWS gives)', bundles: 'set caFile (or AWS_CA_BUNDLE)' },
};

/** What one side trusts now, for the message: "Node's roots, NODE_EXTRA_CA_CERTS (/etc/x.pem), caFile (/y.pem)". */
export function trustSummary(caFile: string | undefined, env: NodeJS.ProcessEnv, side: TlsSide): string {
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  return ["Node's roots", ...(extra ? [`NODE_EXTRA_CA_CERTS (${extra})`] : []), ...trustFiles(caFile, env, side).map((f) => `${f.setting} (${f.path})`)].join(', ');
}

/** RCBS_TLS_UNTRUSTED for a certificate problem, or undefined when `err` is not one. `trusted`: trustSummary(). */
export function untrustedCertificateError(err: unknown, side: TlsSide, fallbackHost: string, trusted: string): RcbsError | undefined {
  const problem = certificateProblem(err);
  if (!problem) return undefined;
  const host = problem.host ?? fallbackHost;
  const service = SERVICE[side];
  const lead = `${service.name} at ${host}: the TLS certificate was refused (${problem.code})`;
  let advice: string;
  switch (problem.kind) {
    case 'unknown-ca':
      advice = `it is not signed by a CA rcbs trusts (now: ${trusted}). If a TLS-inspecting proxy or a private CA signs it, ${service.bundles} to a PEM file with that CA's certificate, or start rcbs with NODE_EXTRA_CA_CERTS=<that file>. caFile and AWS_CA_BUNDLE add to the trusted roots; they never turn checking off.`;
      break;
    case 'dates':
      advice = `the certificate has expired or is not valid yet: check this machine's clock, and ask whoever runs ${host} to renew it. caFile, AWS_CA_BUNDLE and NODE_EXTRA_CA_CERTS only add trusted CAs and cannot fix this.`;
      break;
    case 'name':
      advice = `the certificate is for another host name${problem.reason ? ` (${problem.reason})` : ''}: check ${service.address} uses a name the certificate lists. caFile, AWS_CA_BUNDLE and NODE_EXTRA_CA_CERTS cannot fix this.`;
      break;
    case 'revoked':
      advice = `the certificate has been revoked: ask whoever runs ${host} for a new one.`;
      break;
  }
  return new RcbsError('RCBS_TLS_UNTRUSTED', `${lead}: ${advice}`, { service: service.name, host, tlsCode: problem.code, kind: problem.kind }, { cause: err });
}
