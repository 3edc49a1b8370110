// Pins src/gws/undici.ts: rcbs loads undici's Agent, ProxyAgent, request API and connector by
// their file paths, without undici's index (~8 MB less peak RSS). If an undici upgrade
// moves those files, or the index stops being what adds the API to Dispatcher, this
// fails before anything in GWS does. gws-proxy.test.ts covers ProxyAgent's CONNECT.

import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

const loaded = () => Object.keys(createRequire(import.meta.url).cache);
const undiciIndex = (file: string) => /[/\\]node_modules[/\\]undici[/\\]index\.js$/.test(file);

t.test('the parts load without the index and serve a request', async (t) => {
  const parts = await import('../src/gws/undici.js');
  t.notOk(loaded().some(undiciIndex), "undici's index.js is not loaded");
  t.ok(loaded().some((f) => /undici[/\\]lib[/\\]dispatcher[/\\]agent\.js$/.test(f)), 'the Agent comes from undici itself');

  const server = http.createServer((req, res) => res.end(`you asked for ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const agent = new parts.Agent({ connections: 1 });
  t.teardown(() => agent.close());
  const { port } = server.address() as AddressInfo;
  const res = await agent.request({ origin: `http://127.0.0.1:${port}`, path: '/api/v2/ping?x=1', method: 'GET' });
  t.equal(res.statusCode, 200);
  t.equal(await res.body.text(), 'you asked for /api/v2/ping?x=1');
});

t.test('they are the classes undici exports', async (t) => {
  const parts = await import('../src/gws/undici.js');
  const undici = await import('undici');
  t.equal(parts.Agent, undici.Agent);
  t.equal(parts.ProxyAgent, undici.ProxyAgent);
  t.equal(parts.buildConnector, undici.buildConnector);
  t.equal(new parts.Agent().request, undici.Dispatcher.prototype.request, 'the same request API');
});
