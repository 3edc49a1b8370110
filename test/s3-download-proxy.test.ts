// Pins awsProxyHost/awsProxyPort (SPEC §3: HTTP CONNECT proxies for S3): every S3
// request goes through a CONNECT tunnel to the endpoint, the file still lands
// byte-identical, and a proxy that refuses the tunnel is a clear per-media error
// naming the proxy. Real CONNECT proxy (test/helpers/connect-proxy.ts), real s3rver.

import t, { type Test } from 'tap';
import _ from 'highland';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { configWith } from '../src/config/defaults.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { newRecord } from '../src/pipeline/types.js';
import { silentLogger } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import { createS3Download } from '../src/sinks/s3-download.js';
import { recordingWith, S3RVER_KEY, startS3rver } from './helpers/s3rver.js';
import { startConnectProxy } from './helpers/connect-proxy.js';

async function downloadVia(t: Test, allow: boolean) {
  const dir = t.testdir({});
  const targetDir = path.join(dir, 'backup');
  const s3 = await startS3rver(t, dir);
  const object = randomBytes(200_000);
  await s3.put('m-1', object);
  const proxy = await startConnectProxy(t, { refuse: !allow });
  const config = configWith({ targetDir, s3Bucket: 'recordings', s3Endpoint: s3.endpoint, s3ForcePathStyle: true, awsProxyHost: '127.0.0.1', awsProxyPort: proxy.port });
  const context = createRunContext({ config, credentials: S3RVER_KEY, openStore: () => openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger }) });
  const sink = await createS3Download({}, context, componentEvents('s3-download'), { delayMs: () => 1 });
  const [record] = await sink(_([newRecord(recordingWith('rec-1', ['m-1']))])).collect().toPromise(Promise);
  await (await context.store()).close();
  return { record: record!, object, proxy, s3, file: path.join(targetDir, 'Environment/2024/03/05/10/m-1.bin') };
}

t.test('S3 requests go through the CONNECT proxy', async (t) => {
  const { record, object, proxy, s3, file } = await downloadVia(t, true);
  t.equal(record.media[0]!.status, 'downloaded');
  t.ok((await readFile(file)).equals(object));
  t.ok(proxy.tunnels.length >= 1);
  t.ok(proxy.tunnels.every((target) => target === `127.0.0.1:${s3.port}`), 'tunnels to the S3 endpoint');
});

t.test('a proxy refusing the tunnel fails the media with a message naming the proxy', async (t) => {
  const { record, proxy } = await downloadVia(t, false);
  t.match(record.media[0], { status: 'failed', error: { code: 'RCBS_S3_TRANSFER', message: new RegExp(`127\\.0\\.0\\.1:${proxy.port} refused a tunnel`) } });
});
