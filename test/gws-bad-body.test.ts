// Pins SPEC §4's body checks: a page that is not JSON (an HTML login or proxy error
// page) or whose JSON ends early is RCBS_GWS_BAD_BODY naming the URL, not a crash
// or a silently short page. Recordings already parsed before the break may have
// flowed, but the run fails, so last_recording_endtime is never advanced past them.
import t from 'tap';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGwsClient } from '../src/gws/client.js';
import { recordingsInWindow } from '../src/gws/paging.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';

async function gws(t: { teardown(fn: () => unknown): void }, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function query(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<unknown[]> {
  const client = createGwsClient(createRunContext({ config: configWith({ gwsUriPrefix: prefix }) }), { retryDelayMs: () => 0 });
  t.teardown(() => client.close());
  const out: unknown[] = [];
  for await (const r of recordingsInWindow(client, { recordingsUri: '/recordings', pageSize: 10, slices: [{ start: 5, end: 9 }] })) out.push(r.id);
  return out;
}

const cases: Array<[string, string, RegExp]> = [
  ['truncated JSON', '{"statusCode":0,"recordings":[{"id":"a"},{"id":"b","mediaFi', /ends before its JSON does/],
  ['an HTML page', '<html><body>Proxy login</body></html>', /is not valid JSON.*<html>/],
  ['a JSON array', '[{"id":"a"}]', /is not a JSON object/],
  ['an object with neither statusCode nor recordings', '{"error":"nope"}', /neither "statusCode" nor "recordings"/],
];

for (const [name, body, why] of cases) {
  t.test(`${name} → RCBS_GWS_BAD_BODY naming the URL`, async (t) => {
    const prefix = await gws(t, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    await t.rejects(query(t, prefix), {
      code: 'RCBS_GWS_BAD_BODY',
      message: why,
      details: { url: `${prefix}/recordings?startTime=5&endTime=9&limit=10&offset=0` },
    });
    await t.rejects(query(t, prefix), { message: new RegExp(`${prefix}/recordings\\?startTime=5`) });
  });
}
