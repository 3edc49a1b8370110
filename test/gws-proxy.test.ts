// Pins SPEC §3's gwsProxyHost/gwsProxyPort: when set, every GWS request goes through
// that proxy as a CONNECT tunnel ("HTTP CONNECT proxies"), for an http:// GWS too,
// and the host is accepted with or without its scheme, since the guide's example is
// `http://10.0.1.31` while the AWS one is a bare address. The proxy here is real and
// CONNECT-only (test/helpers/connect-proxy.ts): it tunnels to the real GWS test server
// and logs what it tunnelled.
import t from 'tap';
import { createServer } from 'node:http';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import { startConnectProxy } from './helpers/connect-proxy.js';
import { listenLocal } from './helpers/http-server.js';

for (const withScheme of [true, false]) {
  t.test(`requests go through the proxy (gwsProxyHost ${withScheme ? 'with' : 'without'} http://)`, async (t) => {
    const gwsSeen: string[] = [];
    const gwsPort = await listenLocal(
      t,
      createServer((req, res) => {
        gwsSeen.push(`${req.headers.via ?? 'direct'} ${req.url}`);
        res.writeHead(200).end('{"statusCode":0,"recordings":[{"id":"via-proxy"}]}');
      }),
    );
    const proxy = await startConnectProxy(t);
    const config = configWith({
      gwsUriPrefix: `http://127.0.0.1:${gwsPort}/api/v2`,
      gwsProxyHost: withScheme ? 'http://127.0.0.1' : '127.0.0.1',
      gwsProxyPort: proxy.port,
    });
    const client = createGwsClient(createRunContext({ config, credentials: { gwsUsername: 'u', gwsPassword: 'p' } }));
    t.teardown(() => client.close());
    const ids: unknown[] = [];
    for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 10, slices: [{ start: 1, end: 2 }] })) ids.push(r.id);
    t.same(ids, ['via-proxy']);
    t.same(proxy.tunnels, [`127.0.0.1:${gwsPort}`]);
    t.same(proxy.plain, [], 'nothing but CONNECT');
    t.same(gwsSeen, ['direct /api/v2/recordings?startTime=1&endTime=2&limit=10&offset=0'], 'GWS saw the request through the tunnel');
  });
}

t.test('gwsProxyPort without gwsProxyHost is a config error', async (t) => {
  const config = configWith({ gwsUriPrefix: 'http://127.0.0.1:1', gwsProxyPort: 8080 });
  t.throws(() => createGwsClient(createRunContext({ config })), { code: 'RCBS_CONFIG_INVALID', message: /gwsProxyHost/ });
});
