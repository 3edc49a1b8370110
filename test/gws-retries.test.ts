// Pins SPEC §4's retry rules: HTTP 429 (honouring Retry-After), 503 and connection
// resets are retried with backoff and then succeed; a page whose body breaks off
// midway is read again and its recordings still come out once each; retries are
// bounded, ending in RCBS_GWS_HTTP / RCBS_GWS_UNREACHABLE. The delays here are the
// real policy with tiny bounds, so the test runs in milliseconds.
import t from 'tap';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import { DEFAULT_RETRY } from '../src/retry.js';
import { listenLocal } from './helpers/http-server.js';

const fastRetry = { ...DEFAULT_RETRY, maxRetries: 3, minTimeout: 1, maxTimeout: 5 };

async function gws(t: { teardown(fn: () => unknown): void }, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  return `http://127.0.0.1:${await listenLocal(t, server)}`;
}

async function ids(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<string[]> {
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: prefix }) }), { retry: fastRetry });
  t.teardown(() => client.close());
  const out: string[] = [];
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 10, slices: [{ start: 0, end: 10 }] })) out.push(r.id as string);
  return out;
}

const okBody = JSON.stringify({ statusCode: 0, recordings: [{ id: 'one' }, { id: 'two' }] });

t.test('429 with Retry-After waits as asked, then succeeds', async (t) => {
  const times: number[] = [];
  const prefix = await gws(t, (_req, res) => {
    times.push(performance.now());
    if (times.length === 1) res.writeHead(429, { 'retry-after': '0.15' }).end();
    else res.writeHead(200).end(okBody);
  });
  t.same(await ids(t, prefix), ['one', 'two']);
  t.equal(times.length, 2);
  t.ok(times[1]! - times[0]! >= 140, `waited ${Math.round(times[1]! - times[0]!)} ms for Retry-After 0.15 s (policy max is 5 ms)`);
});

t.test('503 twice then success', async (t) => {
  let requests = 0;
  const prefix = await gws(t, (_req, res) => {
    requests++;
    if (requests <= 2) res.writeHead(503).end('busy');
    else res.writeHead(200).end(okBody);
  });
  t.same(await ids(t, prefix), ['one', 'two']);
  t.equal(requests, 3);
});

t.test('503 on every attempt ends in RCBS_GWS_HTTP after the bounded attempts', async (t) => {
  let requests = 0;
  const prefix = await gws(t, (_req, res) => {
    requests++;
    res.writeHead(503).end();
  });
  await t.rejects(ids(t, prefix), { code: 'RCBS_GWS_HTTP', message: /HTTP 503 .* all 4 attempts/ });
  t.equal(requests, 4);
});

t.test('a connection reset before the answer, then success', async (t) => {
  let requests = 0;
  const prefix = await gws(t, (req, res) => {
    requests++;
    if (requests === 1) req.socket.destroy();
    else res.writeHead(200).end(okBody);
  });
  t.same(await ids(t, prefix), ['one', 'two']);
  t.equal(requests, 2);
});

t.test('a body cut off midway is read again; each recording comes out once', async (t) => {
  let requests = 0;
  const prefix = await gws(t, (req, res) => {
    requests++;
    if (requests === 1) {
      // The first recording is complete, then the connection dies.
      res.writeHead(200, { 'content-length': String(okBody.length) });
      res.write(okBody.slice(0, okBody.indexOf('{"id":"two"')), () => setImmediate(() => req.socket.destroy()));
    } else res.writeHead(200).end(okBody);
  });
  t.same(await ids(t, prefix), ['one', 'two']);
  t.equal(requests, 2);
});

t.test('a server that is not there ends in RCBS_GWS_UNREACHABLE', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  await t.rejects(ids(t, `http://127.0.0.1:${port}`), { code: 'RCBS_GWS_UNREACHABLE', message: /ECONNREFUSED.*after 4 attempt/ });
});
