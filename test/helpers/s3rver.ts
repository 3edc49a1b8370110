// Real parts for S3 tests: @20minutes/s3rver on 127.0.0.1 port 0 with its files in
// the test's temp dir, and a TCP fault proxy (node:net) between the SDK and s3rver
// that can cut a response body after N bytes, flip a body byte or answer 503
// SlowDown itself, while recording each request's head and the bytes it relayed.

import net from 'node:net';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no typings
import S3rver from '@20minutes/s3rver';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const S3RVER_KEY = { awsAccessKeyId: 'S3RVER', awsSecretAccessKey: 'S3RVER' };

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface S3Server {
  endpoint: string;
  port: number;
  bucket: string;
  /** Uploads an object (the seeding client signs with s3rver's key). */
  put(key: string, body: Buffer | string): Promise<void>;
}

export async function startS3rver(t: Teardown, directory: string, bucket = 'recordings'): Promise<S3Server> {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: path.join(directory, 's3rver'),
    configureBuckets: [{ name: bucket }],
  });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const seeder = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY.awsAccessKeyId, secretAccessKey: S3RVER_KEY.awsSecretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  t.teardown(async () => {
    seeder.destroy();
    await server.close();
  });
  return {
    endpoint,
    port,
    bucket,
    async put(key, body) {
      await seeder.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
  };
}

export type Fault =
  | { kind: 'pass' }
  /** Relay the response head and this many body bytes, then close (FIN) or reset (RST) the client's connection. */
  | { kind: 'cut'; afterBodyBytes: number; how?: 'close' | 'reset' }
  /** Relay everything, with the body byte at this offset inverted. */
  | { kind: 'flip'; atBodyByte: number }
  /** Answer the first request with 503 SlowDown without reaching s3rver. */
  | { kind: 'slowdown' };

export interface ProxiedRequest {
  connection: number;
  head: string;
  range?: string;
  /** Bytes relayed from s3rver to the client on this connection (head included). */
  bytesToClient: number;
}

export interface FaultProxy {
  endpoint: string;
  requests: ProxiedRequest[];
}

function contentLength(head: string): number {
  const m = /^content-length:\s*(\d+)/im.exec(head);
  return m ? Number(m[1]) : Number.POSITIVE_INFINITY;
}

const SLOWDOWN_BODY = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

/** Connection i gets faults[i]; later connections pass through. One request per connection is recorded. */
export async function startFaultProxy(
  t: Teardown,
  targetPort: number,
  faults: Fault[],
  /** Runs before connection `index` is relayed (to change the object between attempts). */
  beforeConnection?: (index: number) => Promise<void>,
): Promise<FaultProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    const index = connections++;
    const fault = faults[index] ?? { kind: 'pass' };
    const record: ProxiedRequest = { connection: index, head: '', bytesToClient: 0 };
    requests.push(record);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});

    let requestText = '';
    const noteRequest = (chunk: Buffer) => {
      if (record.head.includes('\r\n\r\n')) return;
      requestText += chunk.toString('latin1');
      record.head = requestText.split('\r\n\r\n')[0]!;
      record.range = /^range:\s*(.+)$/im.exec(record.head)?.[1]?.trim();
    };

    if (fault.kind === 'slowdown') {
      client.on('data', (chunk: Buffer) => {
        noteRequest(chunk);
        if (!requestText.includes('\r\n\r\n')) return;
        client.end(`HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: ${SLOWDOWN_BODY.length}\r\nConnection: close\r\n\r\n${SLOWDOWN_BODY}`);
      });
      return;
    }

    const gate = beforeConnection?.(index);
    if (gate) client.pause();
    const upstream = net.connect(targetPort, '127.0.0.1');
    if (gate) void gate.then(() => client.resume(), (err: unknown) => client.destroy(err as Error));
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      noteRequest(chunk);
      upstream.write(chunk);
    });
    client.on('end', () => upstream.end());

    let headSeen = false;
    let headText = '';
    let bodyBytes = 0;
    upstream.on('data', (chunk: Buffer) => {
      let out = chunk;
      let bodyStart = 0;
      if (!headSeen) {
        headText += chunk.toString('latin1');
        const end = headText.indexOf('\r\n\r\n');
        if (end < 0) {
          record.bytesToClient += chunk.length;
          client.write(chunk);
          return;
        }
        headSeen = true;
        bodyStart = chunk.length - (headText.length - (end + 4));
      }
      const bodyInChunk = out.length - bodyStart;
      if (fault.kind === 'cut' && bodyBytes + bodyInChunk >= fault.afterBodyBytes) {
        const keep = bodyStart + (fault.afterBodyBytes - bodyBytes);
        record.bytesToClient += keep;
        if (fault.how === 'reset') {
          // An RST may drop bytes still in the kernel's send buffer: the client gets at most `keep`.
          client.write(out.subarray(0, keep), () => client.resetAndDestroy());
        } else {
          client.end(out.subarray(0, keep));
        }
        upstream.destroy();
        upstream.pause();
        return;
      }
      if (fault.kind === 'flip' && fault.atBodyByte >= bodyBytes && fault.atBodyByte < bodyBytes + bodyInChunk) {
        out = Buffer.from(out);
        const at = bodyStart + (fault.atBodyByte - bodyBytes);
        out[at] = out[at]! ^ 0xff;
      }
      bodyBytes += bodyInChunk;
      record.bytesToClient += out.length;
      if (fault.kind === 'flip' && bodyBytes >= contentLength(headText)) {
        // One response per faulty connection, so the client's next request meets the next fault.
        client.end(out);
        upstream.destroy();
        return;
      }
      if (!client.write(out)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests };
}

/** A recording as GWS sends it, with one media file per id, filed under tenant/2024/03/05/10. */
export function recordingWith(id: string, mediaIds: string[], tenant = 'Environment'): Record<string, unknown> {
  return {
    id,
    startTime: '2024-03-05T10:20:30.000+0000',
    stopTime: '2024-03-05T10:25:30.000+0000',
    callerPhoneNumber: '5551234',
    mediaFiles: mediaIds.map((mediaId) => ({
      mediaId,
      type: 'audio/mp3',
      tenant,
      startTime: '2024-03-05T10:20:30.000+0000',
      stopTime: '2024-03-05T10:25:30.000+0000',
      size: '123',
    })),
  };
}
