// Pins SPEC §3's TLS trust through the real CLI: GWS and S3 behind TLS fronts whose
// certificates come from CAs made with the openssl CLI (as a TLS-inspecting
// corporate proxy re-signs every site with its own CA). Without a setting that
// trusts the CA, the run stops with RCBS_TLS_UNTRUSTED, exit 4, one message naming
// the host and the setting to use, after a handful of handshakes rather than one per
// file; with caFile (GWS and S3), AWS_CA_BUNDLE (S3 only) or NODE_EXTRA_CA_CERTS the
// backup is complete and byte-exact over TLS; caFile adds to NODE_EXTRA_CA_CERTS
// instead of replacing Node's store (passing `ca` to an agent would drop it); and
// HTTPS_PROXY with credentials carries both over TLS inside its tunnels without the
// password ever being printed. Before this, rcbs knew none of these settings and
// failed every file with RCBS_S3_TRANSFER (exit 1) after a GWS that could not even
// be reached. Real parts: sandbox GWS, s3rver, node:tls fronts, a CONNECT proxy.

import t from 'tap';
import fg from 'fast-glob';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startSandbox } from '../src/sandbox/index.js';
import { mismatchedMedia, wantedMedia } from './helpers/backup-run.js';
import { cleanEnv, runCli, type CliResult } from './helpers/cli.js';
import { startConnectProxy } from './helpers/connect-proxy.js';
import { issueCertificate, makeCa, startTlsFront, type TlsFront } from './helpers/tls-front.js';

const dir = t.testdir();
const sandbox = await startSandbox({ recordings: 8, seed: 12 });
t.teardown(() => sandbox.close());
const wanted = wantedMedia(sandbox);
const gwsPath = new URL(sandbox.gwsUrl).pathname;
const s3Port = Number(new URL(sandbox.s3Endpoint).port);

const caA = await makeCa(dir, 'rcbs-test-ca-a');
const caB = await makeCa(dir, 'rcbs-test-ca-b');
const certA = await issueCertificate(caA);
const certB = await issueCertificate(caB);

type Side = 'plain' | TlsFront;

interface BackupRun extends CliResult {
  targetDir: string;
}

let runs = 0;
/** `rcbs -config` with GWS and S3 reached plainly or through a TLS front, in a fresh folder. */
async function backup(gws: Side, s3: Side, extra: { config?: Record<string, string>; env?: NodeJS.ProcessEnv; args?: string[] } = {}): Promise<BackupRun> {
  const runDir = path.join(dir, `run-${++runs}`);
  await mkdir(runDir, { recursive: true });
  const targetDir = path.join(runDir, 'backup');
  const configPath = path.join(runDir, 'config.properties');
  const text = sandbox
    .configProperties(targetDir, extra.config ?? {})
    .replace(/^gwsUriPrefix = .*$/m, `gwsUriPrefix = ${gws === 'plain' ? sandbox.gwsUrl : `${gws.origin}${gwsPath}`}`)
    .replace(/^s3Endpoint = .*$/m, `s3Endpoint = ${s3 === 'plain' ? sandbox.s3Endpoint : s3.origin}`);
  await writeFile(configPath, text);
  const result = await runCli(['-config', configPath, ...(extra.args ?? [])], { cwd: runDir, env: cleanEnv({ ...sandbox.env(), ...extra.env }) });
  return { ...result, targetDir };
}

async function filesIn(targetDir: string): Promise<string[]> {
  return fg('**/*', { cwd: targetDir, dot: true, onlyFiles: true, ignore: ['.rcbs/**'] });
}

t.test('an unknown CA on GWS stops the run at once: exit 4, the host and the settings named', async (t) => {
  const gws = await startTlsFront(t, sandbox.gws.port, certA);
  const s3 = await startTlsFront(t, s3Port, certA);
  const run = await backup(gws, s3);
  t.equal(run.code, 4, run.stderr);
  t.match(run.stderr, 'RCBS_TLS_UNTRUSTED');
  t.match(run.stderr, `GWS at localhost:${gws.port}: the TLS certificate was refused (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
  t.match(run.stderr, /set caFile to a PEM file with that CA's certificate, or start rcbs with NODE_EXTRA_CA_CERTS/);
  t.notMatch(run.stderr, /retrying/, 'not retried: the same certificate would be refused again');
  t.equal(gws.handshakes(), 1, 'one handshake');
  t.same(await filesIn(run.targetDir), [], 'nothing written');
});

t.test('an unknown CA on S3 stops the run after a handful of handshakes, not one per file', async (t) => {
  const s3 = await startTlsFront(t, s3Port, certA);
  const run = await backup('plain', s3);
  t.equal(run.code, 4, run.stderr);
  t.match(run.stderr, `S3 at localhost:${s3.port}: the TLS certificate was refused (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
  t.match(run.stderr, /set caFile \(or AWS_CA_BUNDLE\) to a PEM file with that CA's certificate, or start rcbs with NODE_EXTRA_CA_CERTS/);
  t.ok(wanted.length > 6, `${wanted.length} media files wanted`);
  t.ok(s3.handshakes() <= 5, `${s3.handshakes()} handshakes (numThreads 4), not ${wanted.length}`);
  t.equal((run.stderr.match(/stopping the run: S3 at/g) ?? []).length, 1, 'one message, no cascade of per-file errors');
  t.notMatch(run.stderr, /media file not downloaded/);
  t.match(run.stderr, /stopped \(RCBS_TLS_UNTRUSTED: S3 at/, 'the summary says why');
  const files = await filesIn(run.targetDir);
  t.same(files.filter((f) => f.endsWith('.bin') || f.includes('.part') || f === 'last_recording_endtime.txt'), [], 'no media, no temp file, no checkpoint');
});

t.test('with caFile, GWS and S3 over TLS: complete and byte-exact', async (t) => {
  const gws = await startTlsFront(t, sandbox.gws.port, certA);
  const s3 = await startTlsFront(t, s3Port, certA);
  const run = await backup(gws, s3, { config: { caFile: caA.certPath } });
  t.equal(run.code, 0, run.stderr);
  t.same(await mismatchedMedia(run.targetDir, wanted), []);
  t.ok(gws.secured() >= 1 && s3.secured() >= 1, 'both went through their TLS front');
});

t.test('AWS_CA_BUNDLE is trusted for S3, and only for S3', async (t) => {
  const s3 = await startTlsFront(t, s3Port, certA);
  const run = await backup('plain', s3, { env: { AWS_CA_BUNDLE: caA.certPath } });
  t.equal(run.code, 0, run.stderr);
  t.same(await mismatchedMedia(run.targetDir, wanted), []);

  const gws = await startTlsFront(t, sandbox.gws.port, certA);
  const gwsRun = await backup(gws, s3, { env: { AWS_CA_BUNDLE: caA.certPath } });
  t.equal(gwsRun.code, 4, gwsRun.stderr);
  t.match(gwsRun.stderr, `GWS at localhost:${gws.port}`);
});

t.test('NODE_EXTRA_CA_CERTS works, and caFile adds to it instead of replacing it', async (t) => {
  const gws = await startTlsFront(t, sandbox.gws.port, certA);
  const s3A = await startTlsFront(t, s3Port, certA);
  const extraOnly = await backup(gws, s3A, { env: { NODE_EXTRA_CA_CERTS: caA.certPath } });
  t.equal(extraOnly.code, 0, extraOnly.stderr);
  t.same(await mismatchedMedia(extraOnly.targetDir, wanted), []);

  // GWS is trusted through NODE_EXTRA_CA_CERTS only; caFile (CA B) makes rcbs build
  // its own trust for both sides, which must still hold CA A.
  const s3B = await startTlsFront(t, s3Port, certB);
  const both = await backup(gws, s3B, { env: { NODE_EXTRA_CA_CERTS: caA.certPath }, config: { caFile: caB.certPath } });
  t.equal(both.code, 0, both.stderr);
  t.same(await mismatchedMedia(both.targetDir, wanted), []);
  t.ok(s3B.secured() >= 1);
});

t.test('HTTPS_PROXY with credentials carries TLS to GWS and S3; NO_PROXY bypasses it; the password is never printed', async (t) => {
  const user = 'corp-user';
  const password = 'Tunnel-Pa55-9931';
  const proxy = await startConnectProxy(t, { credentials: { user, password } });
  const gws = await startTlsFront(t, sandbox.gws.port, certA);
  const s3 = await startTlsFront(t, s3Port, certA);
  const env = { HTTPS_PROXY: `http://${user}:${password}@127.0.0.1:${proxy.port}` };
  const run = await backup(gws, s3, { env, config: { caFile: caA.certPath }, args: ['--log-level', 'debug'] });
  t.equal(run.code, 0, run.stderr);
  t.same(await mismatchedMedia(run.targetDir, wanted), []);
  t.ok(proxy.tunnels.includes(`localhost:${gws.port}`), 'GWS through the proxy');
  t.ok(proxy.tunnels.includes(`localhost:${s3.port}`), 'S3 through the proxy');
  t.match(run.stderr, `GWS at localhost:${gws.port} is reached through the proxy 127.0.0.1:${proxy.port} from HTTPS_PROXY`);

  const tunnels = proxy.tunnels.length;
  const direct = await backup(gws, s3, { env: { ...env, NO_PROXY: 'localhost' }, config: { caFile: caA.certPath } });
  t.equal(direct.code, 0, direct.stderr);
  t.equal(proxy.tunnels.length, tunnels, 'NO_PROXY=localhost: no tunnel');

  const basic = Buffer.from(`${user}:${password}`).toString('base64');
  const written = await Promise.all((await fg('**/*', { cwd: run.targetDir, dot: true, onlyFiles: true, absolute: true })).map((f) => readFile(f, 'latin1')));
  for (const [what, text] of [['stdout', run.stdout], ['stderr', run.stderr], ['files', written.join('\n')]] as const) {
    t.notMatch(text, password, `no password in ${what}`);
    t.notMatch(text, basic, `no Basic credentials in ${what}`);
  }
});
