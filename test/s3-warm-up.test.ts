// A run's S3 client gets ready while the first GWS pages are on their way (issue 15):
// warmUp runs one GetObject through the client's middleware (endpoint rules, signing)
// and stops it where it would be sent. Nothing may reach the network: an extra request
// or connection would show in an operator's proxy logs and in S3's request count.
// Real parts: s3rver behind a TCP relay that counts connections and request heads.

import t, { type Test } from 'tap';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { configWith } from '../src/config/defaults.js';
import { createS3Client, warmUp } from '../src/s3/client.js';
import { S3RVER_KEY, startS3rver } from './helpers/s3rver.js';

interface Relay {
  endpoint: string;
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Request heads seen (`GET /bucket/key`). */
  requests: string[];
    /** Ends every connection (the relay hangs up). */
  hangUpAll(): void;
}

async function startRelay(t: Test, targetPort: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const relay: Relay = { endpoint: '', port: 0, connections: 0, requests: [], hangUpAll: () => sockets.forEach((s) => s.destroy()) };
  const server = net.createServer((client) => {
    relay.connections++;
    sockets.add(client);
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.on('data', (chunk: Buffer) => {
      for (const head of chunk.toString('latin1').matchAll(/^(GET|HEAD|PUT) (\S+) HTTP\/1\.1/gm)) relay.requests.push(`${head[1]} ${head[2]}`);
    });
    client.pipe(upstream).pipe(client);
    const end = () => {
      sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    relay.hangUpAll();
    server.close();
  });
  relay.port = (server.address() as net.AddressInfo).port;
  relay.endpoint = `http://127.0.0.1:${relay.port}`;
  return relay;
}

async function setup(t: Test) {
  const dir = await mkdtemp(path.join(tmpdir(), 'rcbs-warm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s3 = await startS3rver(t, dir);
  const object = Buffer.alloc(64 * 1024, 7);
  await s3.put('calls/a.bin', object);
  const relay = await startRelay(t, s3.port);
  const client = createS3Client(configWith({ s3ForcePathStyle: true }), S3RVER_KEY, { bucket: s3.bucket, region: 'us-east-1', keyPrefix: 'calls/', endpoint: relay.endpoint }, { concurrency: 4 });
  t.teardown(() => client.destroy());
  const get = async () => {
    const res = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'calls/a.bin' }));
    return Buffer.from(await res.Body!.transformToByteArray());
  };
  return { s3, relay, client, object, get };
}

t.test('warmUp reaches the point of sending and sends nothing; the next GET is as always', async (t) => {
  const { s3, relay, client, object, get } = await setup(t);
  t.equal(await warmUp(client, s3.bucket, 'calls/rcbs-warm-up'), true, 'signed and stopped before the network');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(relay.connections, 0, 'no connection');
  t.same(relay.requests, [], 'no request');
  t.ok((await get()).equals(object), 'byte-exact');
  t.equal(relay.requests.length, 1, 'one request: the real one');
  t.match(relay.requests[0], /^GET \/recordings\/calls\/a\.bin/);
});

t.test('warmUp answers false when the middleware fails, and sends nothing', async (t) => {
  const { relay } = await setup(t);
  const client = createS3Client(configWith({ s3ForcePathStyle: true }), { awsAccessKeyId: 'A', awsSecretAccessKey: 'B' }, { bucket: 'b', region: 'us-east-1', keyPrefix: '', endpoint: relay.endpoint }, { concurrency: 2 });
  t.teardown(() => client.destroy());
  client.middlewareStack.add(() => async () => {
    throw new Error('signing refused');
  }, { step: 'build', name: 'testRefuse' });
  t.equal(await warmUp(client, 'b', 'k'), false);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(relay.connections, 0, 'no connection');
});
