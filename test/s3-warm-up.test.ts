// A run's S3 client gets ready while the first GWS pages are on their way (issue 15):
// warmUp runs one GetObject through the client's middleware (endpoint rules, signing)
// and stops it where it would be sent. Nothing may reach the network: an extra request
// or connection would show in an operator's proxy logs and in S3's request count.
// Real parts: s3rver behind the tests' TCP relay (startFaultProxy, no faults), which lists
// each connection with its request's head.

import t, { type Test } from 'tap';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { configWith } from '../src/config/defaults.js';
import { createS3Client, warmUp } from '../src/s3/client.js';
import { S3RVER_KEY, startFaultProxy, startS3rver } from './helpers/s3rver.js';

async function setup(t: Test) {
  const s3 = await startS3rver(t, t.testdir());
  const object = Buffer.alloc(64 * 1024, 7);
  await s3.put('calls/a.bin', object);
  // No faults: it relays, and lists each connection with the head of its request.
  const relay = await startFaultProxy(t, s3.port, []);
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
  t.equal(relay.requests.length, 0, 'no connection');
  t.notOk(relay.requests.some((r) => r.head), 'no request');
  t.ok((await get()).equals(object), 'byte-exact');
  t.equal(relay.requests.length, 1, 'one request: the real one');
  t.match(relay.requests[0]!.head, /^GET \/recordings\/calls\/a\.bin/);
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
  t.equal(relay.requests.length, 0, 'no connection');
});
