// Pins what an operator sees when GWS misbehaves during a real backup (issue 5):
// an HTTP fault proxy sits between `rcbs -config` and the sandbox GWS and breaks
// chosen /recordings answers. Transient faults (429 with Retry-After, 500, 503,
// a reset socket, a body cut short, statusCode 4) are retried and the run ends
// with the complete byte-exact set (exit 0). Lasting faults (503 for one slice on
// every attempt, a non-JSON body, statusCode 10) end in exit 1 with a coded
// message and no stack trace, whatever was fetched is byte-exact, and
// last_recording_endtime.txt is not written past the missing slice. A response
// slower than the client's timeout is retried (GwsClient with a short timeout).

import t from 'tap';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import { DEFAULT_RETRY } from '../src/retry.js';
import { runCli } from './helpers/cli.js';
import { backupState, cliEnv } from './helpers/backup-state.js';
import { listenLocal } from './helpers/http-server.js';

type Fault = 'pass' | '429' | '500' | '503' | 'reset' | 'truncate' | 'not-json' | 'status-4' | 'status-10' | 'slow';

interface FaultProxy {
  url: string;
  /** Faults applied to /recordings requests: decide(n, query) for the n-th one (0-based). */
  decide: (n: number, query: URLSearchParams) => Fault;
  recordingRequests: number;
  close(): void;
}

async function startGwsFaultProxy(t: { teardown(fn: () => unknown): void }, sandbox: Sandbox): Promise<FaultProxy> {
  const upstream = new URL(sandbox.gwsUrl);
  const proxy: FaultProxy = { url: '', decide: () => 'pass', recordingRequests: 0, close: () => server.close() };
  const forward = (req: IncomingMessage, res: ServerResponse, onBody?: (status: number, headers: IncomingMessage['headers'], body: Buffer) => void) => {
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (!onBody) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => onBody(answer.statusCode ?? 502, answer.headers, Buffer.concat(chunks)));
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.endsWith('/recordings')) return forward(req, res);
    const fault = proxy.decide(proxy.recordingRequests++, url.searchParams);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    switch (fault) {
      case 'pass': return forward(req, res);
      case '429': return json(429, { statusCode: 4, statusMessage: 'Too many requests' }, { 'retry-after': '1' });
      case '500': return json(500, { statusCode: 4, statusMessage: 'Internal error' });
      case '503': return res.writeHead(503, { 'content-type': 'text/html' }).end('<html>Service Unavailable</html>');
      case 'reset': return req.socket.resetAndDestroy();
      case 'not-json': return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Login required</body></html>');
      case 'status-4': return json(200, { statusCode: 4, statusMessage: 'Internal server error' });
      case 'status-10': return json(200, { statusCode: 10, statusMessage: 'Validation error: startTime' });
      case 'slow': return void setTimeout(() => forward(req, res), 4_000);
      case 'truncate':
        return forward(req, res, (status, headers, body) => {
          res.writeHead(status, { ...headers, 'content-length': String(body.length) });
          res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
        });
    }
  });
  proxy.url = `http://127.0.0.1:${await listenLocal(t, server)}${upstream.pathname}`;
  return proxy;
}

t.test('GWS faults during a real backup', async (t) => {
  const sandbox = await startSandbox({ recordings: 12, oddities: false, seed: 3, maxSegments: 2 });
  t.teardown(() => sandbox.close());
  const proxy = await startGwsFaultProxy(t, sandbox);
  const env = cliEnv(sandbox.env());
  let caseNo = 0;
  const backup = async (decide: FaultProxy['decide']) => {
    const dir = t.testdir();
    const targetDir = path.join(dir, `target-${caseNo++}`);
    const config = path.join(dir, `config-${caseNo}.properties`);
    writeFileSync(config, sandbox.configProperties(targetDir).replace(/^gwsUriPrefix = .*$/m, `gwsUriPrefix = ${proxy.url}`));
    proxy.recordingRequests = 0;
    proxy.decide = decide;
    const result = await runCli(['-config', config], { env });
    return { result, state: backupState(targetDir, sandbox), requests: proxy.recordingRequests };
  };

  // Every transient fault in one run, in request order: slice 1 meets 429 then 500,
  // slice 2 a 503 and a reset, slice 3 a cut body and statusCode 4 (counted over the requests
  // of all slices, which gwsConcurrency runs at once: which slice meets which fault may vary).
  const transient: Record<number, [Fault, RegExp]> = {
    0: ['429', /reason="HTTP 429"/],
    1: ['500', /reason="HTTP 500"/],
    3: ['503', /reason="HTTP 503"/],
    4: ['reset', /reason="read ECONNRESET"/],
    6: ['truncate', /reason="UND_ERR_SOCKET|reason=".*(closed|terminated|premature)/i],
    7: ['status-4', /reason="RCBS_GWS_STATUS.*statusCode 4/],
  };
  const started = Date.now();
  const { result, state, requests } = await backup((n) => transient[n]?.[0] ?? 'pass');
  t.equal(result.code, 0, `transient faults are retried: exit 0\n${result.stderr.slice(-1500)}`);
  for (const [fault, seen] of Object.values(transient)) t.match(result.stderr, seen, `${fault}: logged as a retry`);
  t.same(state.problems, [], 'state consistent');
  t.ok(state.complete, 'complete byte-exact set');
  t.ok(state.checkpoint, 'checkpoint written');
  t.equal(requests, 9, 'three slices, two failed attempts each, then success');
  t.ok(Date.now() - started >= 1_000, 'Retry-After: 1 was honoured');

  const lasting: [FaultProxy['decide'], string, RegExp][] = [
    // shardBy=1 over maxAge days: the middle slice never answers.
    [(_n, q) => (Number(q.get('startTime')) > sandbox.now - 2 * 86_400_000 && Number(q.get('startTime')) < sandbox.now - 86_400_000 + 3_600_000 && Number(q.get('endTime')) <= sandbox.now - 3_600_000 ? '503' : 'pass'), 'one slice answering 503 on every attempt', /RCBS_GWS_HTTP/],
    [() => 'not-json', 'a non-JSON (HTML login page) body', /RCBS_GWS_BAD_BODY/],
    [() => 'status-10', 'statusCode 10 (validation error)', /RCBS_GWS_STATUS.*|statusCode 10/],
  ];
  for (const [decide, what, code] of lasting) {
    const { result, state } = await backup(decide);
    t.equal(result.code, 1, `${what}: exit 1\n${result.stderr.slice(-1500)}`);
    t.match(result.stderr, code, `${what}: the coded reason is printed`);
    t.notMatch(result.stderr, /\n\s+at /, `${what}: no stack trace`);
    t.same(state.problems, [], `${what}: what was fetched is byte-exact, index honest, no checkpoint past a gap`);
    t.equal(state.checkpoint, undefined, `${what}: last_recording_endtime.txt not written`);
    t.same(state.temps, [], `${what}: no temp file left`);
  }
});

t.test('a response slower than the timeout is abandoned and retried', async (t) => {
  const sandbox = await startSandbox({ recordings: 3, oddities: false, seed: 4 });
  t.teardown(() => sandbox.close());
  const proxy = await startGwsFaultProxy(t, sandbox);
  proxy.decide = (n) => (n === 0 ? 'slow' : 'pass');
  const context = createRunContext({ config: configWith({ gwsUriPrefix: proxy.url }), credentials: { gwsUsername: sandbox.credentials.gwsUsername, gwsPassword: sandbox.credentials.gwsPassword } });
  const client = createGwsClient(context, { headersTimeoutMs: 300, retry: { ...DEFAULT_RETRY, minTimeout: 1, maxTimeout: 5 } });
  t.teardown(() => client.close());
  const ids: string[] = [];
  const started = Date.now();
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 100, slices: [{ start: 0, end: sandbox.now }] })) ids.push(String(r.id));
  t.same(ids.sort(), sandbox.recordings.map((r) => r.id).sort(), 'every recording, once');
  t.equal(proxy.recordingRequests, 2, 'the slow request was given up and sent again');
  t.ok(Date.now() - started < 3_500, 'the client did not wait for the slow answer (4 s)');
});
