// Pins SPEC §4's error mapping, which decides whether an operator sees "fix your
// credentials" or a retry storm: HTTP 401/403 and body statusCode 20 are
// RCBS_GWS_AUTH at once (one request, no retry) naming GWS_USERNAME and never the
// password; statusCode 3/5 is RCBS_GWS_FORBIDDEN; statusCode 4 (internal) is
// retried; any other non-zero statusCode is RCBS_GWS_STATUS with its statusMessage
// (the table GWS_STATUS_CODES in src/gws/client.ts).
import t from 'tap';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import { DEFAULT_RETRY } from '../src/retry.js';
import { RcbsError } from '../src/errors.js';

const PASSWORD = 'Very$ecretPassw0rd';

async function gws(t: { teardown(fn: () => unknown): void }, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function failure(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<RcbsError> {
  const context = createRunContext({ config: configWith({ gwsUriPrefix: prefix }), credentials: { gwsUsername: 'admin@tenant.com', gwsPassword: PASSWORD } });
  const client = createGwsClient(context, { retry: { ...DEFAULT_RETRY, minTimeout: 1, maxTimeout: 2 } });
  t.teardown(() => client.close());
  try {
    for await (const _ of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 10, slices: [{ start: 0, end: 10 }] })) void _;
  } catch (err) {
    return err as RcbsError;
  }
  throw new Error('expected the query to fail');
}

/** Everything of an error a user or log could see. */
function exposed(err: RcbsError): string {
  return JSON.stringify({ message: err.message, details: err.details, stack: err.stack });
}
const escape = (text: string) => text.replace(/[$+/.*?()[\]{}|^\\]/g, '\\$&');
const PASSWORD_SHOWN = new RegExp(`${escape(PASSWORD)}|${escape(Buffer.from(`admin@tenant.com:${PASSWORD}`).toString('base64'))}`);

for (const status of [401, 403]) {
  t.test(`HTTP ${status} → RCBS_GWS_AUTH after one request`, async (t) => {
    let requests = 0;
    const prefix = await gws(t, (_req, res) => {
      requests++;
      res.writeHead(status, { 'www-authenticate': 'Basic realm="gws"' }).end();
    });
    const err = await failure(t, prefix);
    t.equal(err.code, 'RCBS_GWS_AUTH');
    t.equal(err.exitCode, 2);
    t.match(err.message, /GWS_USERNAME/);
    t.match(err.message, new RegExp(`HTTP ${status}`));
    t.equal(requests, 1, 'not retried');
    t.notMatch(exposed(err), PASSWORD_SHOWN, 'the password appears nowhere, plain or Basic-encoded');
  });
}

t.test('statusCode 20 in a 200 body → RCBS_GWS_AUTH, no retry', async (t) => {
  let requests = 0;
  const prefix = await gws(t, (_req, res) => {
    requests++;
    res.writeHead(200).end(JSON.stringify({ statusCode: 20, statusMessage: 'Not authenticated' }));
  });
  const err = await failure(t, prefix);
  t.equal(err.code, 'RCBS_GWS_AUTH');
  t.match(err.message, /statusCode 20.*Not authenticated/);
  t.equal(requests, 1);
  t.notMatch(exposed(err), PASSWORD_SHOWN, 'the password appears nowhere, plain or Basic-encoded');
});

// SPEC §4's codes, row by row, against GWS_STATUS_CODES (src/gws/client.ts): the error
// each becomes and how many requests it costs (retried = every attempt of the policy).
t.test('each SPEC §4 statusCode → its error code, retried only when a retry can help', async (t) => {
  const rows: Array<[code: number | string, error: string, requests: number, meaning: RegExp]> = [
    [20, 'RCBS_GWS_AUTH', 1, /not authenticated/],
    [3, 'RCBS_GWS_FORBIDDEN', 1, /forbidden.*lacks permission/],
    [5, 'RCBS_GWS_FORBIDDEN', 1, /no permission.*lacks permission/],
    [6, 'RCBS_GWS_STATUS', 1, /not found.*gwsRecordingsUri/],
    [4, 'RCBS_GWS_STATUS', DEFAULT_RETRY.maxRetries + 1, /internal error/],
    ['4', 'RCBS_GWS_STATUS', DEFAULT_RETRY.maxRetries + 1, /internal error/],
    [10, 'RCBS_GWS_STATUS', 1, /validation error/],
    [99, 'RCBS_GWS_STATUS', 1, /statusCode 99/],
  ];
  for (const [code, expected, requests, meaning] of rows) {
    let seen = 0;
    // statusMessage after the (empty) recordings array: read to the end before failing.
    const prefix = await gws(t, (_req, res) => {
      seen++;
      res.writeHead(200).end(`{"statusCode":${JSON.stringify(code)},"recordings":[],"statusMessage":"reason ${code}"}`);
    });
    const err = await failure(t, prefix);
    t.equal(err.code, expected, `statusCode ${code}: ${expected}`);
    t.match(err.message, meaning, `statusCode ${code}: the message says what it means`);
    t.match(err.message, `reason ${code}`, `statusCode ${code}: GWS's statusMessage is shown`);
    t.equal(seen, requests, `statusCode ${code}: ${requests} request(s)`);
  }
});

t.test('statusCode 4 (internal error) is retried', async (t) => {
  let requests = 0;
  const prefix = await gws(t, (_req, res) => {
    requests++;
    res.writeHead(200).end(requests === 1 ? '{"statusCode":4,"statusMessage":"Internal"}' : '{"statusCode":0,"recordings":[{"id":"x"}]}');
  });
  const context = createRunContext({ config: configWith({ gwsUriPrefix: prefix }) });
  const client = createGwsClient(context, { retryDelayMs: () => 0 });
  t.teardown(() => client.close());
  const ids: unknown[] = [];
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 10, slices: [{ start: 0, end: 10 }] })) ids.push(r.id);
  t.same(ids, ['x']);
  t.equal(requests, 2);
});
