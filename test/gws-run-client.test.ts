// One GWS client per run (runGwsClient): the settings call (s3-download) and the
// recordings pages (gws-recordings) share it. The pages then carry the session cookie
// the settings answer set (SPEC §4: cookies kept between calls; the sandbox counts a
// login per request without one) and the first page goes out on the settings call's
// open connection: a round trip less before the first page over a WAN (issue 15).
// Pinned with an HTTP relay in front of the sandbox's GWS that notes, per request, the
// route, the Cookie header and which client connection it came on.

import t, { type Test } from 'tap';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { ResolvedStep } from '../src/pipeline/loader.js';
import { loadComponent } from '../src/pipeline/registry.js';
import { runPipeline } from '../src/pipeline/runner.js';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { sandboxRunContext } from './helpers/run-context.js';
import { listenLocal } from './helpers/http-server.js';

let sandbox: Sandbox;
t.before(async () => {
  sandbox = await startSandbox({ recordings: 3, oddities: false });
});
t.teardown(() => sandbox.close());

interface Seen {
  path: string;
  cookie?: string;
  setCookie?: string;
  connection: number;
}

async function startRelay(t: Test, target: URL): Promise<{ prefix: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const connections = new WeakMap<Socket, number>();
  let next = 0;
  const server = http.createServer((req, res) => {
    const socket = req.socket;
    if (!connections.has(socket)) connections.set(socket, ++next);
    const entry: Seen = { path: req.url ?? '', connection: connections.get(socket)!, ...(req.headers.cookie ? { cookie: req.headers.cookie } : {}) };
    seen.push(entry);
    const upstream = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      const setCookie = answer.headers['set-cookie'];
      if (setCookie) entry.setCookie = setCookie.join('; ');
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const port = await listenLocal(t, server);
  return { prefix: `http://127.0.0.1:${port}${target.pathname}`, seen };
}

t.test('the pages go out with the settings call\'s session cookie, the first on its connection', async (t) => {
  const relay = await startRelay(t, new URL(sandbox.gws.url));
  const { context, storeOpened, closeStore } = await sandboxRunContext(sandbox, t.testdir(), {
    // One slice, one page at a time: the first page is the only request after the settings.
    config: { gwsConcurrency: '1', maxAge: '1' },
    edit: (properties) => properties.replace(/^gwsUriPrefix = .*$/m, `gwsUriPrefix = ${relay.prefix}`),
  });
  const steps: ResolvedStep[] = [
    { kind: 'source', at: '/source', component: (await loadComponent('source', 'gws-recordings'))!, options: Object.freeze({}) },
    { kind: 'sink', at: '/sinks/0', component: (await loadComponent('sink', 's3-download'))!, options: Object.freeze({}) },
  ];
  let outcome;
  try {
    outcome = await runPipeline(steps, context, { storeOpened });
  } finally {
    await closeStore();
  }
  t.equal(outcome.exitCode, 0, 'the run ends well');
  const settings = relay.seen.filter((s) => s.path.includes('/me/settings/'));
  const pages = relay.seen.filter((s) => s.path.includes('/recordings?'));
  t.equal(settings.length, 1, 'one settings call');
  t.ok(pages.length >= 1, `${pages.length} page request(s)`);
  const session = /JSESSIONID=[^;]+/.exec(settings[0]!.setCookie ?? '')?.[0];
  t.ok(session, 'the settings answer opened a session');
  t.ok(pages.every((p) => p.cookie?.includes(session!)), 'every page carries that session cookie');
  t.notOk(pages.some((p) => p.setCookie), 'no page opened a session of its own');
  t.equal(pages[0]!.connection, settings[0]!.connection, 'the first page went on the settings call\'s connection');
});

// undici takes a kept-alive socket back only a full turn of the event loop after its
// answer ended (setImmediate in its client-h1, so a server that closes anyway is seen
// first). The settings call returns after that turn: a request asked at once after it
// (the first page, when nothing else yields in between) goes on the same connection
// instead of opening one more: a round trip less over a WAN.
t.test('a request asked at once after the settings call goes on its connection', async (t) => {
  const relay = await startRelay(t, new URL(sandbox.gws.url));
  const { context, closeStore } = await sandboxRunContext(sandbox, t.testdir(), {
    edit: (properties) => properties.replace(/^gwsUriPrefix = .*$/m, `gwsUriPrefix = ${relay.prefix}`),
  });
  t.teardown(closeStore);
  const { runGwsClient } = await import('../src/gws/client.js');
  const client = runGwsClient(context);
  t.teardown(() => client.close());
  const url = client.url(context.config.gwsSettingsUri);
  await client.json(url);
  await client.json(url);
  t.same(relay.seen.map((s) => s.connection), [1, 1], 'both on the first connection');
});
