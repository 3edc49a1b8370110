// Pins SPEC §4's settings call and §3's overrides: GET {gwsUriPrefix}{gwsSettingsUri}
// gives the S3 location; s3Bucket/s3Region/s3Endpoint in the config win field by
// field; no bucket at all is a clear config error; a settings API that is not there
// (404) is fine when the config names the bucket. The S3 sink depends on this.
import t from 'tap';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchS3Settings } from '../src/gws/settings.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import type { RcbsConfig } from '../src/config/types.js';

async function gws(t: { teardown(fn: () => unknown): void }, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2`;
}

function contextFor(prefix: string, extra: Partial<RcbsConfig> = {}) {
  return createRunContext({ config: configWith({ gwsUriPrefix: prefix, ...extra }), credentials: { gwsUsername: 'u', gwsPassword: 'p' } });
}

const settingsBody = JSON.stringify({
  statusCode: 0,
  settings: { s3: { bucket: 'rec-bucket', region: 'eu-west-1', keyPrefix: 'tenant1/', endpoint: 'https://s3.example' } },
});

t.test('reads settings.s3 from gwsSettingsUri', async (t) => {
  const paths: string[] = [];
  const prefix = await gws(t, (req, res) => {
    paths.push(req.url!);
    res.writeHead(200, { 'content-type': 'application/json' }).end(settingsBody);
  });
  const s3 = await fetchS3Settings(contextFor(prefix));
  t.same(s3, { bucket: 'rec-bucket', region: 'eu-west-1', keyPrefix: 'tenant1/', endpoint: 'https://s3.example' });
  t.same(paths, ['/api/v2/me/settings/rcbs']);
});

t.test('config extensions override each field', async (t) => {
  const prefix = await gws(t, (_req, res) => res.writeHead(200).end(settingsBody));
  const s3 = await fetchS3Settings(contextFor(prefix, { s3Bucket: 'mine', s3Endpoint: 'http://127.0.0.1:9000' }));
  t.same(s3, { bucket: 'mine', region: 'eu-west-1', keyPrefix: 'tenant1/', endpoint: 'http://127.0.0.1:9000' });
});

t.test('no bucket from GWS nor config is a config error naming s3Bucket', async (t) => {
  const prefix = await gws(t, (_req, res) => res.writeHead(200).end(JSON.stringify({ statusCode: 0, settings: { s3: { region: 'eu-west-1' } } })));
  await t.rejects(fetchS3Settings(contextFor(prefix)), { code: 'RCBS_CONFIG_INVALID', message: /s3Bucket/ });
});

t.test('a missing settings API (404) falls back to the configured bucket, else fails clearly', async (t) => {
  const prefix = await gws(t, (_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"statusCode":6,"statusMessage":"Not found"}'));
  const s3 = await fetchS3Settings(contextFor(prefix, { s3Bucket: 'b', s3Region: 'us-west-2' }));
  t.same(s3, { bucket: 'b', region: 'us-west-2', keyPrefix: '' });
  await t.rejects(fetchS3Settings(contextFor(prefix)), { code: 'RCBS_GWS_HTTP', message: /HTTP 404.*Not found.*gwsSettingsUri/ });
});
