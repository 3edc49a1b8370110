// Real TLS for the trust tests (SPEC §3): a CA made with the openssl CLI in the
// test's folder, server certificates it signs (for localhost and 127.0.0.1 by
// default, or for another name, or already expired), and a TLS front: a node:tls
// server on 127.0.0.1 port 0 that terminates TLS with such a certificate and relays
// the plain bytes to a local port (the sandbox's GWS, s3rver). The front counts the
// TLS handshakes it was asked for, refused ones included, so a test can tell "one
// refusal that stopped the run" from "one refusal per file".

import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestCa {
  name: string;
  dir: string;
  /** The CA certificate (PEM): what caFile, AWS_CA_BUNDLE or NODE_EXTRA_CA_CERTS would name. */
  certPath: string;
  keyPath: string;
}

export interface ServerCertificate {
  certPath: string;
  keyPath: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A fresh CA (EC P-256, self-signed, valid 2 days) in `<dir>/<name>/`. */
export async function makeCa(dir: string, name: string): Promise<TestCa> {
  const caDir = path.join(dir, name);
  await mkdir(path.join(caDir, 'db'), { recursive: true });
  const certPath = path.join(caDir, 'ca.pem');
  const keyPath = path.join(caDir, 'ca.key');
  await run('openssl', ['req', '-x509', ...EC_KEY, '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await writeFile(path.join(caDir, 'db', 'index.txt'), '');
  await writeFile(path.join(caDir, 'db', 'serial'), '01\n');
  return { name, dir: caDir, certPath, keyPath };
}

export interface CertificateOptions {
  /** subjectAltName entries; default DNS:localhost, IP:127.0.0.1. */
  altNames?: string[];
  /** Valid from 2020-01-01 to 2020-01-02 only. */
  expired?: boolean;
  /** File name stem inside the CA's folder. */
  name?: string;
}

/** A server certificate signed by `ca` with `openssl ca` (which, unlike `x509 -req`, can set past dates). */
export async function issueCertificate(ca: TestCa, options: CertificateOptions = {}): Promise<ServerCertificate> {
  const stem = path.join(ca.dir, options.name ?? 'server');
  const altNames = options.altNames ?? ['DNS:localhost', 'IP:127.0.0.1'];
  await run('openssl', ['req', '-new', ...EC_KEY, '-keyout', `${stem}.key`, '-out', `${stem}.csr`, '-subj', '/CN=rcbs test server']);
  const config = [
    '[ca]', 'default_ca = test',
    '[test]', `database = ${path.join(ca.dir, 'db', 'index.txt')}`, `new_certs_dir = ${path.join(ca.dir, 'db')}`,
    `serial = ${path.join(ca.dir, 'db', 'serial')}`, 'default_md = sha256', 'policy = any', 'unique_subject = no', 'x509_extensions = leaf',
    '[any]', 'commonName = supplied',
    '[leaf]', `subjectAltName = ${altNames.join(',')}`, 'basicConstraints = CA:FALSE', 'extendedKeyUsage = serverAuth',
  ].join('\n');
  await writeFile(`${stem}.cnf`, config + '\n');
  const dates = options.expired ? ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'] : ['-days', '2'];
  await run('openssl', ['ca', '-batch', '-notext', '-config', `${stem}.cnf`, '-cert', ca.certPath, '-keyfile', ca.keyPath, '-in', `${stem}.csr`, '-out', `${stem}.pem`, ...dates]);
  return { certPath: `${stem}.pem`, keyPath: `${stem}.key` };
}

/** A self-signed server certificate (no CA): the DEPTH_ZERO_SELF_SIGNED_CERT case. */
export async function selfSignedCertificate(dir: string): Promise<ServerCertificate> {
  const stem = path.join(dir, 'self-signed');
  await run('openssl', ['req', '-x509', ...EC_KEY, '-keyout', `${stem}.key`, '-out', `${stem}.pem`, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  return { certPath: `${stem}.pem`, keyPath: `${stem}.key` };
}

export interface TlsFront {
  port: number;
  /** https://localhost:<port> */
  origin: string;
  /** TLS handshakes started by clients (refused ones included). */
  handshakes(): number;
  /** Handshakes that completed (the client trusted the certificate). */
  secured(): number;
}

/** Terminates TLS on 127.0.0.1 port 0 with `certificate` and relays the plain bytes to 127.0.0.1:`targetPort`. */
export async function startTlsFront(t: Teardown, targetPort: number, certificate: ServerCertificate): Promise<TlsFront> {
  const [cert, key] = await Promise.all([readFile(certificate.certPath), readFile(certificate.keyPath)]);
  let handshakes = 0;
  let secured = 0;
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert, key }, (client) => {
    secured++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  server.on('connection', (socket: net.Socket) => {
    handshakes++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client refusing the certificate aborts the handshake: expected here.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as net.AddressInfo).port;
  return { port, origin: `https://localhost:${port}`, handshakes: () => handshakes, secured: () => secured };
}
