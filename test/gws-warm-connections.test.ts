// Connections to GWS opened while the settings call is out (src/gws/warm-connections.ts,
// issue 15): when the client expects n requests at once, the connections for them open as
// soon as one to GWS is up, so each of the first pages leaves without a handshake of its
// own. Nothing is sent on them before a request needs one; a run that fails closes them
// unused; a refused certificate or an unreachable host opens no more than before; a spare
// the server closed, or one idle too long, is never handed over.
// Real parts: a node:http server that notes each connection and the requests on it, a
// node:tls front with an openssl-made CA, undici's own connector.

import t, { type Test } from 'tap';
import net, { type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { GwsClient } from '../src/gws/client.js';
import { DEFAULT_RETRY } from '../src/retry.js';
import { buildConnector } from '../src/gws/undici.js';
import { WarmConnections } from '../src/gws/warm-connections.js';
import { issueCertificate, makeCa, startTlsFront } from './helpers/tls-front.js';
import { startCountingServer as startServer } from './helpers/http-server.js';

const client = (t: Test, uriPrefix: string, extra: Partial<ConstructorParameters<typeof GwsClient>[0]> = {}) => {
  const created = new GwsClient({ uriPrefix, username: 'u', password: 'p', connections: 4, env: {}, retry: { ...DEFAULT_RETRY, maxRetries: 0 }, ...extra });
  t.teardown(() => created.destroy());
  return created;
};

t.test('the connections for the first pages open while the settings call is out, and carry them', async (t) => {
  const server = await startServer(t);
  const gws = client(t, `${server.origin}/api/v2`);
  gws.expectRequests(4);
  const settings = gws.json(gws.url('/settings/slow'));
  await delay(100);
  t.same(server.requests, [1, 0, 0, 0], 'three more connections are open before the settings answer, with no request on them');
  await settings;
  await Promise.all([1, 2, 3, 4].map((page) => gws.json(gws.url('/recordings', { page }))));
  t.equal(server.requests.length, 4, 'no connection opened after them');
  t.same(server.requests, [2, 1, 1, 1], 'the pages go one on each');
  await gws.close();
});

t.test('spares nobody asked for are closed with the client, unused', async (t) => {
  const server = await startServer(t);
  const gws = client(t, `${server.origin}/api/v2`);
  gws.expectRequests(3);
  await gws.json(gws.url('/settings/slow'));
  t.equal(server.open(), 3);
  await gws.close();
  await delay(50);
  t.equal(server.open(), 0, 'all closed');
  t.same(server.requests, [1, 0, 0], 'the spares carried nothing');
});

t.test('no spare before a connection is up: a refused certificate is one handshake, not one per expected request', async (t) => {
  const dir = t.testdir();
  const server = await startServer(t);
  const ca = await makeCa(dir, 'rcbs-warm-ca');
  const front = await startTlsFront(t, server.port, await issueCertificate(ca));
  const untrusting = client(t, `${front.origin}/api/v2`);
  untrusting.expectRequests(4);
  await t.rejects(untrusting.json(untrusting.url('/settings')), { code: 'RCBS_TLS_UNTRUSTED' });
  await delay(100);
  t.equal(front.handshakes(), 1, 'one handshake');
  t.equal(server.requests.length, 0);

  // Trusted: the spares are TLS connections too, and the pages go on them.
  const trusting = client(t, `${front.origin}/api/v2`, { caFile: ca.certPath });
  trusting.expectRequests(3);
  await trusting.json(trusting.url('/settings/slow'));
  t.equal(front.secured(), 3, 'three handshakes completed by the settings answer');
  await Promise.all([1, 2, 3].map((page) => trusting.json(trusting.url('/recordings', { page }))));
  t.equal(front.handshakes(), 4, 'no handshake after them');
  t.same(server.requests, [2, 1, 1]);
  await trusting.close();
});

t.test('an unreachable GWS: connection attempts as without spares', async (t) => {
  // A port that was just free: connections are refused.
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  const connector = buildConnector({ timeout: 1000 });
  let attempts = 0;
  const warm = new WarmConnections((params, callback) => {
    attempts++;
    connector(params, callback);
  });
  warm.expect(4);
  const err = await new Promise<Error | null>((resolve) => warm.connect({ hostname: '127.0.0.1', protocol: 'http:', port: String(port) }, (...args) => resolve(args[0])));
  t.match(err, { code: 'ECONNREFUSED' });
  await delay(50);
  t.equal(attempts, 1, 'one attempt');
  t.equal(warm.spares, 0);
});

t.test('a spare is not handed over once the server closed it or it idled too long', async (t) => {
  const server = await startServer(t);
  const params = { hostname: '127.0.0.1', protocol: 'http:', port: String(server.port) };
  const connect = (warm: WarmConnections) =>
    new Promise<Socket>((resolve, reject) => warm.connect(params, (err, socket) => (err ? reject(err) : resolve(socket!))));

  // Closed by the server: dropped when it happens.
  const closing = new WarmConnections(buildConnector({}));
  t.teardown(() => closing.close());
  const first = await connect(closing);
  closing.expect(2);
  await delay(50);
  t.equal(closing.spares, 1, 'a spare opened');
  t.equal(server.open(), 2);
  server.endUnused();
  await delay(50);
  t.equal(closing.spares, 0, 'dropped when the server closed it');
  const second = await connect(closing);
  t.not(second, first);
  t.notOk(second.destroyed, 'a fresh connection instead');
  first.destroy();
  second.destroy();

  // Idle longer than its age limit: dropped.
  const aging = new WarmConnections(buildConnector({}), 100);
  t.teardown(() => aging.close());
  const one = await connect(aging);
  aging.expect(2);
  await delay(50);
  t.equal(aging.spares, 1);
  await delay(150);
  t.equal(aging.spares, 0, 'dropped after its age limit');
  one.destroy();
});

t.test('a connector that throws for a spare costs nothing but the spare', async (t) => {
  const server = await startServer(t);
  const params = { hostname: '127.0.0.1', protocol: 'http:', port: String(server.port) };
  const connector = buildConnector({});
  let calls = 0;
  const warm = new WarmConnections((p, callback) => {
    if (++calls === 2) throw new Error('no more sockets');
    connector(p, callback);
  });
  t.teardown(() => warm.close());
  warm.expect(2);
  const first = await new Promise<Socket>((resolve, reject) => warm.connect(params, (err, socket) => (err ? reject(err) : resolve(socket!))));
  await delay(20);
  t.equal(calls, 2, 'the spare was tried');
  t.equal(warm.spares, 0, 'and is not kept');
  const second = await new Promise<Socket>((resolve, reject) => warm.connect(params, (err, socket) => (err ? reject(err) : resolve(socket!))));
  t.not(second, first, 'the next request gets a connection of its own');
  first.destroy();
  second.destroy();
});
