// Pins Ctrl-C behaviour for the GWS client: the run's AbortSignal ends a retry wait
// and a request in flight at once with RCBS_ABORTED (exit 130), instead of sleeping
// out a long Retry-After or waiting for a server that never answers.
import t from 'tap';
import { createServer, type RequestListener } from 'node:http';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import { listenLocal } from './helpers/http-server.js';

async function run(t: { teardown(fn: () => unknown): void }, handler: RequestListener, abortWhen: (abort: () => void) => void) {
  const server = createServer(handler);
  const port = await listenLocal(t, server);
  const controller = new AbortController();
  abortWhen(() => controller.abort());
  const context = createRunContext({ config: configWith({ gwsUriPrefix: `http://127.0.0.1:${port}` }), signal: controller.signal });
  const client = createGwsClient(context);
  t.teardown(() => client.close());
  const started = performance.now();
  let error: unknown;
  try {
    for await (const _ of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 10, slices: [{ start: 0, end: 1 }] })) void _;
  } catch (err) {
    error = err;
  }
  return { error, ms: performance.now() - started };
}

t.test('abort during a Retry-After wait', async (t) => {
  let abort = () => {};
  const { error, ms } = await run(
    t,
    (_req, res) => {
      res.writeHead(503, { 'retry-after': '60' }).end();
      // The client is now about to wait a minute.
      setImmediate(abort);
    },
    (a) => (abort = a),
  );
  t.match(error, { code: 'RCBS_ABORTED', exitCode: 130 });
  t.ok(ms < 5000, `stopped in ${Math.round(ms)} ms, not 60 s`);
});

t.test('abort while the server has not answered', async (t) => {
  let abort = () => {};
  const { error, ms } = await run(t, () => abort(), (a) => (abort = a));
  t.match(error, { code: 'RCBS_ABORTED' });
  t.ok(ms < 5000, `stopped in ${Math.round(ms)} ms`);
});
