// The run's first GWS connection, dialled in a component's prepare before the GWS client has
// loaded (src/gws/run-connections.ts, issue 15): it carries the client's first request; a
// refused certificate on it is the request's error after one handshake, as without it; through
// a proxy nothing is dialled; one no client took closes with the run; and it gives up after
// undici's connect timeout, with undici's error code.
// Real parts: a node:http server that notes each connection and the requests on it, a
// node:tls front with an openssl-made CA, undici under the GWS client.

import t, { type Test } from 'tap';
import net, { type AddressInfo, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '../src/config/load.js';
import { runGwsClient } from '../src/gws/client.js';
import { dial, openFirstGwsConnection } from '../src/gws/run-connections.js';
import { createRunContext, settleRunEnd } from '../src/pipeline/context.js';
import type { RunContext } from '../src/pipeline/types.js';
import { issueCertificate, makeCa, startTlsFront } from './helpers/tls-front.js';
import { startCountingServer as startServer } from './helpers/http-server.js';

/** A run's context for GWS at `uriPrefix`; the run's end hooks (its client's close) run at teardown. */
async function runContext(t: Test, uriPrefix: string, sets: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunContext> {
  const { config, credentials } = await loadConfig({ env: {}, sets: [`gwsUriPrefix=${uriPrefix}`, ...sets] });
  const context = createRunContext({ config, credentials: { ...credentials, gwsUsername: 'u', gwsPassword: 'p' }, env });
  t.teardown(() => settleRunEnd(context, false));
  return context;
}

t.test('dialled at prepare, before any client, the first connection carries the first request', async (t) => {
  const server = await startServer(t);
  const context = await runContext(t, `${server.origin}/api/v2`);
  openFirstGwsConnection(context);
  openFirstGwsConnection(context);
  await delay(50);
  t.same(server.requests, [0], 'one connection open before the client exists, with nothing sent on it');
  const client = runGwsClient(context);
  await client.json(client.url('/settings'));
  t.same(server.requests, [1], 'the first request went on it: no other connection');
  await client.json(client.url('/recordings'));
  t.same(server.requests, [2]);
});

t.test('a refused certificate on it is the first request\'s error, after one handshake; a trusted one carries the request', async (t) => {
  const dir = t.testdir();
  const server = await startServer(t);
  const ca = await makeCa(dir, 'rcbs-first-ca');
  const front = await startTlsFront(t, server.port, await issueCertificate(ca));

  const untrusting = await runContext(t, `${front.origin}/api/v2`);
  openFirstGwsConnection(untrusting);
  await delay(100);
  t.equal(front.handshakes(), 1, 'dialled at prepare');
  const refused = runGwsClient(untrusting);
  await t.rejects(refused.json(refused.url('/settings')), { code: 'RCBS_TLS_UNTRUSTED' });
  await delay(50);
  t.equal(front.handshakes(), 1, 'no second handshake');
  t.same(server.requests, []);

  const trusting = await runContext(t, `${front.origin}/api/v2`, [`caFile=${ca.certPath}`]);
  openFirstGwsConnection(trusting);
  await delay(100);
  t.equal(front.secured(), 1, 'trusted, with caFile, at prepare');
  const client = runGwsClient(trusting);
  await client.json(client.url('/settings'));
  t.equal(front.handshakes(), 2, 'the request went on it');
  t.same(server.requests, [1]);
});

t.test('nothing is dialled early through a proxy', async (t) => {
  const server = await startServer(t);
  const proxied = await runContext(t, `${server.origin}/api/v2`, ['gwsProxyHost=127.0.0.1', 'gwsProxyPort=9']);
  openFirstGwsConnection(proxied);
  const fromEnv = await runContext(t, `${server.origin}/api/v2`, [], { HTTP_PROXY: 'http://127.0.0.1:9' });
  openFirstGwsConnection(fromEnv);
  await delay(50);
  t.equal(server.requests.length, 0, 'no connection to GWS');

  // NO_PROXY naming the host: direct, so dialled.
  const bypassing = await runContext(t, `${server.origin}/api/v2`, [], { HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1' });
  openFirstGwsConnection(bypassing);
  await delay(50);
  t.equal(server.requests.length, 1);
});

t.test('one no client took closes with the run', async (t) => {
  const server = await startServer(t);
  const context = await runContext(t, `${server.origin}/api/v2`);
  openFirstGwsConnection(context);
  await delay(50);
  t.equal(server.open(), 1);
  await settleRunEnd(context, false);
  await delay(50);
  t.equal(server.open(), 0, 'closed at the run\'s end');
  t.same(server.requests, [0], 'having carried nothing');
});

t.test('a connection that does not come up fails after the connect timeout, with undici\'s code', async (t) => {
  // TCP accepted, TLS never answered: the handshake never completes.
  const silent = new Set<Socket>();
  const server = net.createServer((socket) => silent.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of silent) socket.destroy();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const first = dial(new URL(`https://127.0.0.1:${port}/api/v2`), undefined, 100);
  const started = Date.now();
  const [err, socket] = await new Promise<[Error | null, Socket | null]>((resolve) => first.connector(first.params, (e, s) => resolve([e, s as Socket | null])));
  t.match(err, { code: 'UND_ERR_CONNECT_TIMEOUT', name: 'ConnectTimeoutError' });
  t.equal(socket, null);
  t.ok(Date.now() - started >= 90, 'after the timeout');
  t.throws(() => first.connector(first.params, () => {}), /taken already/, 'handed out once');
});
