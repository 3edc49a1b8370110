// Pins what a refused TLS certificate says (SPEC §3: "a certificate error names the
// host and says which of these to set"), kind by kind, for GWS and S3, through the
// paths rcbs really takes: direct, gwsProxyHost's ProxyAgent (undici wraps a name
// mismatch in SecureProxyConnectionError) and an HTTPS_PROXY tunnel to S3. An
// unknown CA points at caFile / AWS_CA_BUNDLE / NODE_EXTRA_CA_CERTS; an expired
// certificate or a wrong host name says those settings cannot fix it. Every kind
// is RCBS_TLS_UNTRUSTED (exit 4), tried once. A caFile or AWS_CA_BUNDLE that cannot
// be read or holds no certificate is a config error (exit 2) naming the setting.
// Real parts: certificates from the openssl CLI, node:tls fronts, s3rver.

import t, { type Test } from 'tap';
import _ from 'highland';
import { createServer } from 'node:http';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createGwsClient } from '../src/gws/client.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { newRecord } from '../src/pipeline/types.js';
import { configWith } from '../src/config/defaults.js';
import type { RcbsConfig } from '../src/config/types.js';
import { silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import { createS3Download } from '../src/sinks/s3-download.js';
import { RcbsError } from '../src/errors.js';
import { startConnectProxy } from './helpers/connect-proxy.js';
import { recordingWith, S3RVER_KEY, startS3rver } from './helpers/s3rver.js';
import { issueCertificate, makeCa, selfSignedCertificate, startTlsFront, type ServerCertificate } from './helpers/tls-front.js';
import { listenLocal } from './helpers/http-server.js';

const dir = t.testdir();
const ca = await makeCa(dir, 'rcbs-errors-ca');
const certificates = {
  good: await issueCertificate(ca, { name: 'good' }),
  otherName: await issueCertificate(ca, { name: 'other-name', altNames: ['DNS:other.test'] }),
  expired: await issueCertificate(ca, { name: 'expired', expired: true }),
  selfSigned: await selfSignedCertificate(dir),
};

async function gwsBehindTls(t: Test, certificate: ServerCertificate) {
  const server = createServer((_req, res) => res.writeHead(200).end('{"statusCode":0,"settings":{}}'));
  return startTlsFront(t, await listenLocal(t, server), certificate);
}

async function gwsError(t: Test, config: Partial<RcbsConfig>, prefix: string): Promise<RcbsError> {
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: prefix, ...config }), env: {} }), { retryDelayMs: () => 1 });
  t.teardown(() => client.close());
  const err = await client.json(client.url('/me/settings/rcbs')).then(() => undefined, (e: unknown) => e);
  t.type(err, RcbsError);
  return err as RcbsError;
}

t.test('GWS: each kind of refusal names the host and what to do, once, exit 4', async (t) => {
  const cases: Array<{ name: keyof typeof certificates; caFile?: string; code: string; says: RegExp }> = [
    { name: 'good', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', says: /not signed by a CA rcbs trusts \(now: Node's roots.*\)\. .*set caFile to a PEM file .* NODE_EXTRA_CA_CERTS/ },
    { name: 'selfSigned', code: 'DEPTH_ZERO_SELF_SIGNED_CERT', says: /set caFile to a PEM file/ },
    { name: 'expired', caFile: ca.certPath, code: 'CERT_HAS_EXPIRED', says: /has expired or is not valid yet: check this machine's clock.*cannot fix this/ },
    { name: 'otherName', caFile: ca.certPath, code: 'ERR_TLS_CERT_ALTNAME_INVALID', says: /for another host name \(.*other\.test.*\): check gwsUriPrefix uses a name the certificate lists/ },
  ];
  for (const c of cases) {
    const front = await gwsBehindTls(t, certificates[c.name]);
    const err = await gwsError(t, c.caFile ? { caFile: c.caFile } : {}, `${front.origin}/api/v2`);
    t.equal(err.code, 'RCBS_TLS_UNTRUSTED', c.name);
    t.equal(err.exitCode, 4);
    t.match(err.message, `GWS at localhost:${front.port}: the TLS certificate was refused (${c.code})`);
    t.match(err.message, c.says);
    t.equal(front.handshakes(), 1, `${c.name}: not retried`);
  }
});

t.test('GWS through gwsProxyHost: a name mismatch inside the tunnel is still RCBS_TLS_UNTRUSTED', async (t) => {
  const front = await gwsBehindTls(t, certificates.otherName);
  const proxy = await startConnectProxy(t);
  const err = await gwsError(t, { caFile: ca.certPath, gwsProxyHost: '127.0.0.1', gwsProxyPort: proxy.port }, `${front.origin}/api/v2`);
  t.equal(err.code, 'RCBS_TLS_UNTRUSTED');
  t.match(err.message, /ERR_TLS_CERT_ALTNAME_INVALID.*another host name/);
  t.same(proxy.tunnels, [`localhost:${front.port}`]);
});

async function s3Run(t: Test, certificate: ServerCertificate, config: Partial<RcbsConfig>, env: NodeJS.ProcessEnv) {
  const runDir = t.testdir({});
  const targetDir = path.join(runDir, 'backup');
  const s3 = await startS3rver(t, runDir);
  await s3.put('m-1', 'media one');
  await s3.put('m-2', 'media two');
  const front = await startTlsFront(t, s3.port, certificate);
  const full = configWith({ targetDir, s3Bucket: 'recordings', s3Endpoint: front.origin, s3ForcePathStyle: true, ...config });
  const context = createRunContext({ config: full, env, credentials: S3RVER_KEY, openStore: () => openStore({ targetDir, recordingFolderFormat: full.recordingFolderFormat, log: silentLogger }) });
  try {
    const sink = await createS3Download({ concurrency: 1 }, context, componentEvents('s3-download'), { delayMs: () => 1 });
    const records = [newRecord(recordingWith('rec-1', ['m-1'])), newRecord(recordingWith('rec-2', ['m-2']))];
    const out = await sink(_(records)).collect().toPromise(Promise);
    return { out, front, error: context.stopError };
  } catch (error) {
    return { out: undefined, front, error: error as RcbsError };
  } finally {
    await (await context.store()).close();
  }
}

t.test('S3: a refusal stops the run with one error naming the host, not one per file', async (t) => {
  const { error, front, out } = await s3Run(t, certificates.good, {}, {});
  t.equal(error?.code, 'RCBS_TLS_UNTRUSTED');
  t.match(error?.message, `S3 at localhost:${front.port}: the TLS certificate was refused (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
  t.match(error?.message, /set caFile \(or AWS_CA_BUNDLE\)/);
  t.equal(error?.exitCode, 4);
  t.equal(front.handshakes(), 1, 'the second file is never tried');
  t.same(out?.map((r) => r.media[0]!.status), ['interrupted', 'interrupted'], 'neither file failed: the run stopped before them');
});

t.test('S3 through an HTTPS_PROXY tunnel: a wrong host name is named as such', async (t) => {
  const proxy = await startConnectProxy(t);
  const { error, front } = await s3Run(t, certificates.otherName, { caFile: ca.certPath }, { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` });
  t.equal(error?.code, 'RCBS_TLS_UNTRUSTED');
  t.match(error?.message, `S3 at localhost:${front.port}: the TLS certificate was refused (ERR_TLS_CERT_ALTNAME_INVALID)`);
  t.match(error?.message, /check s3Endpoint/);
  t.ok(proxy.tunnels.length >= 1 && proxy.tunnels.every((x) => x === `localhost:${front.port}`));
});

t.test('S3: AWS_CA_BUNDLE or caFile trusts the CA', async (t) => {
  for (const [config, env] of [[{}, { AWS_CA_BUNDLE: ca.certPath }], [{ caFile: ca.certPath }, {}]] as const) {
    const { out, error } = await s3Run(t, certificates.good, config, env);
    t.equal(error, undefined);
    t.same(out?.map((r) => r.media[0]!.status), ['downloaded', 'downloaded']);
  }
});

t.test('a caFile or AWS_CA_BUNDLE that is missing or holds no certificate is a config error naming it', async (t) => {
  const notPem = path.join(dir, 'not-a-bundle.pem');
  await writeFile(notPem, 'this is not PEM\n');
  const missing = path.join(dir, 'missing.pem');
  t.throws(() => createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: 'https://gws.test/api', caFile: missing }), env: {} })),
    { code: 'RCBS_CONFIG_INVALID', message: new RegExp(`caFile ${missing} cannot be read \\(ENOENT\\)`) });
  t.throws(() => createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: 'https://gws.test/api', caFile: notPem }), env: {} })),
    { code: 'RCBS_CONFIG_INVALID', message: /caFile .*not-a-bundle\.pem holds no PEM certificate/ });
  const { error } = await s3Run(t, certificates.good, {}, { AWS_CA_BUNDLE: missing });
  t.match(error, { code: 'RCBS_CONFIG_INVALID', message: /AWS_CA_BUNDLE .*missing\.pem cannot be read/ });
});
