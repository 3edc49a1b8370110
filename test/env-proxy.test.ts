// Pins SPEC §3's proxies from the environment: when awsProxyHost/gwsProxyHost are
// unset, HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) route S3 and GWS as curl
// and the AWS CLI would: NO_PROXY entries match a host and its subdomains, `*`,
// ports, IP addresses and CIDR blocks; the keys win over the environment; proxy
// credentials (http://user:password@host:port) are sent as Basic
// Proxy-Authorization and never printed. Before this, rcbs ignored these variables
// (the AWS SDK and undici do not read them), so a site that only reaches the
// internet through its proxy could not back up at all. Real CONNECT proxy, real GWS
// test server (node:http), real s3rver.

import t, { type Test } from 'tap';
import _ from 'highland';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bypassesProxy, envProxyFor } from '../src/net/env-proxy.js';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { newRecord } from '../src/pipeline/types.js';
import { configWith } from '../src/config/defaults.js';
import type { RcbsConfig } from '../src/config/types.js';
import { createLogger, silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import { createS3Download } from '../src/sinks/s3-download.js';
import { startConnectProxy } from './helpers/connect-proxy.js';
import { recordingWith, S3RVER_KEY, startS3rver } from './helpers/s3rver.js';
import { listenLocal } from './helpers/http-server.js';

t.test('NO_PROXY matches as curl and the AWS CLI do', async (t) => {
  const cases: Array<[host: string, port: number, noProxy: string, bypass: boolean]> = [
    ['s3.amazonaws.com', 443, '', false],
    ['s3.amazonaws.com', 443, '*', true],
    ['s3.amazonaws.com', 443, 'localhost, *', true],
    ['example.com', 443, 'example.com', true],
    ['s3.example.com', 443, 'example.com', true],
    ['badexample.com', 443, 'example.com', false],
    ['example.com', 443, '.example.com', true],
    ['a.b.example.com', 443, '.example.com', true],
    ['a.example.com', 443, '*.example.com', true],
    ['Example.COM', 443, 'EXAMPLE.com', true],
    ['example.com.', 443, 'example.com', true],
    ['gws.corp', 8443, 'gws.corp:8443', true],
    ['gws.corp', 443, 'gws.corp:8443', false],
    ['other.test', 443, ' a.test , b.test  other.test ', true],
    ['10.1.2.3', 443, '10.1.2.3', true],
    ['10.1.2.30', 443, '10.1.2.3', false],
    ['10.200.1.1', 443, '10.0.0.0/8', true],
    ['11.0.0.1', 443, '10.0.0.0/8', false],
    ['10.0.0.1', 443, '10.0.0.0/8:443', true],
    ['10.0.0.1', 80, '10.0.0.0/8:443', false],
    ['ten.example', 443, '10.0.0.0/8', false],
    ['[::1]', 443, '::1', true],
    ['::1', 443, '[::1]', true],
    ['[::1]', 8080, '[::1]:8080', true],
    ['[::1]', 443, '[::1]:8080', false],
    ['fd12::1', 443, 'fd00::/8', true],
    ['127.0.0.1', 443, 'localhost', false],
    ['127.0.0.1', 443, '10.0.0.0/not-bits', false],
  ];
  for (const [host, port, noProxy, bypass] of cases) {
    t.equal(bypassesProxy(host, port, noProxy), bypass, `${host}:${port} with NO_PROXY="${noProxy}" → ${bypass ? 'direct' : 'proxy'}`);
  }
});

t.test('which variable applies, and how a proxy URL is read', async (t) => {
  const https = { protocol: 'https:', hostname: 'gws.example.com' };
  const http = { protocol: 'http:', hostname: 'gws.example.com' };
  t.equal(envProxyFor(https, { HTTPS_PROXY: 'http://upper:3128' })?.shown, 'upper:3128');
  t.equal(envProxyFor(https, { HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128' })?.shown, 'lower:3128', 'lower case first, as curl');
  t.equal(envProxyFor(https, { HTTP_PROXY: 'http://plain:3128' }), undefined, 'an https target does not fall back to HTTP_PROXY');
  t.equal(envProxyFor(http, { HTTP_PROXY: 'http://plain:3128' })?.variable, 'HTTP_PROXY');
  t.equal(envProxyFor(https, { HTTPS_PROXY: 'proxy.corp:8080' })?.url.href, 'http://proxy.corp:8080/', 'no scheme = http://');
  t.equal(envProxyFor(https, { HTTPS_PROXY: '' }), undefined, 'empty = unset');
  t.equal(envProxyFor(https, { HTTPS_PROXY: 'http://p:1', no_proxy: '.example.com', NO_PROXY: 'other.test' }), undefined, 'no_proxy first');
  const socks = { HTTPS_PROXY: 'socks5://user:socks-secret-77@p:1080' };
  t.throws(() => envProxyFor(https, socks), { code: 'RCBS_CONFIG_INVALID', message: /HTTPS_PROXY uses socks5:\/\/.*CONNECT proxies only/ });
  try {
    envProxyFor(https, socks);
  } catch (err) {
    t.notMatch((err as Error).message, /socks-secret-77/, 'the message names the variable, not its value');
  }
});

async function gwsServer(t: Test): Promise<number> {
  return listenLocal(t, createServer((_req, res) => res.writeHead(200).end('{"statusCode":0,"recordings":[{"id":"r-1"}]}')));
}

async function gwsIds(t: Test, config: Readonly<RcbsConfig>, env: NodeJS.ProcessEnv, lines: string[] = []): Promise<unknown[]> {
  const log = createLogger({ level: 'debug', write: (line) => lines.push(line) });
  const client = createGwsClient(createRunContext({ config, env, log, credentials: { gwsUsername: 'u', gwsPassword: 'p' } }), { retryDelayMs: () => 1 });
  t.teardown(() => client.close());
  const ids: unknown[] = [];
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 10, slices: [{ start: 1, end: 2 }] })) ids.push(r.id);
  return ids;
}

t.test('GWS: HTTP_PROXY carries the requests when gwsProxyHost is unset; NO_PROXY bypasses it', async (t) => {
  const gwsPort = await gwsServer(t);
  const proxy = await startConnectProxy(t);
  const config = configWith({ gwsUriPrefix: `http://127.0.0.1:${gwsPort}/api/v2` });
  const lines: string[] = [];
  t.same(await gwsIds(t, config, { HTTP_PROXY: `http://127.0.0.1:${proxy.port}` }, lines), ['r-1']);
  t.same(proxy.tunnels, [`127.0.0.1:${gwsPort}`]);
  t.match(lines.join('\n'), `GWS at 127.0.0.1:${gwsPort} is reached through the proxy 127.0.0.1:${proxy.port} from HTTP_PROXY`);

  for (const noProxy of ['127.0.0.1', `127.0.0.1:${gwsPort}`, '127.0.0.0/8', '*']) {
    const direct: string[] = [];
    t.same(await gwsIds(t, config, { http_proxy: `http://127.0.0.1:${proxy.port}`, NO_PROXY: noProxy }, direct), ['r-1'], `NO_PROXY=${noProxy}`);
    t.match(direct.join('\n'), 'is reached directly: NO_PROXY names it');
  }
  t.equal(proxy.tunnels.length, 1, 'no tunnel for a host NO_PROXY names');
});

t.test('GWS: gwsProxyHost/gwsProxyPort win over HTTP_PROXY', async (t) => {
  const gwsPort = await gwsServer(t);
  const keyProxy = await startConnectProxy(t);
  const envProxy = await startConnectProxy(t);
  const config = configWith({ gwsUriPrefix: `http://127.0.0.1:${gwsPort}/api/v2`, gwsProxyHost: '127.0.0.1', gwsProxyPort: keyProxy.port });
  t.same(await gwsIds(t, config, { HTTP_PROXY: `http://127.0.0.1:${envProxy.port}` }), ['r-1']);
  t.same(keyProxy.tunnels, [`127.0.0.1:${gwsPort}`]);
  t.same(envProxy.tunnels, []);
});

const PROXY_USER = 'corp-user';
const PROXY_PASSWORD = 'pr0xy-Pa55w0rd';

t.test('GWS: proxy credentials go as Basic Proxy-Authorization and are never printed', async (t) => {
  const gwsPort = await gwsServer(t);
  const proxy = await startConnectProxy(t, { credentials: { user: PROXY_USER, password: PROXY_PASSWORD } });
  const config = configWith({ gwsUriPrefix: `http://127.0.0.1:${gwsPort}/api/v2` });
  const lines: string[] = [];
  t.same(await gwsIds(t, config, { HTTP_PROXY: `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}` }, lines), ['r-1']);
  t.same(proxy.authorizations, [`Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')}`]);

  const refused: string[] = [];
  const error = await gwsIds(t, config, { HTTP_PROXY: `http://${PROXY_USER}:wrong-${PROXY_PASSWORD}@127.0.0.1:${proxy.port}` }, refused).catch((err: Error) => err);
  t.type(error, Error, 'a wrong proxy password fails');
  const printed = [...lines, ...refused, (error as Error).message].join('\n');
  t.match(printed, `127.0.0.1:${proxy.port}`, 'the proxy is named');
  t.notMatch(printed, PROXY_PASSWORD);
  t.notMatch(printed, Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64'));
});

async function s3Download(t: Test, config: Partial<RcbsConfig>, env: NodeJS.ProcessEnv) {
  const dir = t.testdir({});
  const targetDir = path.join(dir, 'backup');
  const s3 = await startS3rver(t, dir);
  const object = randomBytes(150_000);
  await s3.put('m-1', object);
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', write: (line) => lines.push(line) });
  const full = configWith({ targetDir, s3Bucket: 'recordings', s3Endpoint: s3.endpoint, s3ForcePathStyle: true, ...config });
  const context = createRunContext({ config: full, env, log, credentials: S3RVER_KEY, openStore: () => openStore({ targetDir, recordingFolderFormat: full.recordingFolderFormat, log: silentLogger }) });
  const sink = await createS3Download({}, context, componentEvents('s3-download'), { delayMs: () => 1 });
  const [record] = await sink(_([newRecord(recordingWith('rec-1', ['m-1']))])).collect().toPromise(Promise);
  await (await context.store()).close();
  return { record: record!, stopError: context.stopError, object, s3, lines, file: path.join(targetDir, 'Environment/2024/03/05/10/m-1.bin') };
}

t.test('S3: HTTP_PROXY carries the requests when awsProxyHost is unset; NO_PROXY bypasses it', async (t) => {
  const proxy = await startConnectProxy(t);
  const via = await s3Download(t, {}, { HTTP_PROXY: `http://127.0.0.1:${proxy.port}` });
  t.equal(via.record.media[0]!.status, 'downloaded');
  t.ok((await readFile(via.file)).equals(via.object), 'byte-exact through the proxy');
  t.ok(proxy.tunnels.length >= 1 && proxy.tunnels.every((target) => target === `127.0.0.1:${via.s3.port}`), 'tunnels to s3rver');
  t.match(via.lines.join('\n'), `S3 at 127.0.0.1:${via.s3.port} is reached through the proxy 127.0.0.1:${proxy.port} from HTTP_PROXY`);

  const before = proxy.tunnels.length;
  const direct = await s3Download(t, {}, { HTTP_PROXY: `http://127.0.0.1:${proxy.port}`, no_proxy: 'example.com,127.0.0.1' });
  t.equal(direct.record.media[0]!.status, 'downloaded');
  t.ok((await readFile(direct.file)).equals(direct.object));
  t.equal(proxy.tunnels.length, before, 'NO_PROXY: no tunnel');
});

t.test('S3: awsProxyHost/awsProxyPort win over HTTP_PROXY', async (t) => {
  const keyProxy = await startConnectProxy(t);
  const envProxy = await startConnectProxy(t);
  const { record } = await s3Download(t, { awsProxyHost: '127.0.0.1', awsProxyPort: keyProxy.port }, { HTTP_PROXY: `http://127.0.0.1:${envProxy.port}` });
  t.equal(record.media[0]!.status, 'downloaded');
  t.ok(keyProxy.tunnels.length >= 1);
  t.same(envProxy.tunnels, []);
});

t.test('S3: proxy credentials go as Basic Proxy-Authorization and are never printed', async (t) => {
  const proxy = await startConnectProxy(t, { credentials: { user: PROXY_USER, password: PROXY_PASSWORD } });
  const ok = await s3Download(t, {}, { HTTP_PROXY: `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}` });
  t.equal(ok.record.media[0]!.status, 'downloaded');
  t.ok(proxy.authorizations.every((a) => a === `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')}`));

  const refused = await s3Download(t, {}, { HTTP_PROXY: `http://${PROXY_USER}:wrong-${PROXY_PASSWORD}@127.0.0.1:${proxy.port}` });
  // A proxy refusing is no one file's failure: the run stops (RCBS_S3_UNREACHABLE, exit 4), the file is not done.
  t.equal(refused.record.media[0]!.status, 'interrupted');
  t.match(refused.stopError, { code: 'RCBS_S3_UNREACHABLE', exitCode: 4, message: new RegExp(`127\\.0\\.0\\.1:${proxy.port} refused a tunnel .*407.*check HTTP_PROXY`) });
  const printed = [...ok.lines, ...refused.lines, JSON.stringify(refused.record), refused.stopError?.message].join('\n');
  t.notMatch(printed, PROXY_PASSWORD);
  t.notMatch(printed, Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64'));
});
