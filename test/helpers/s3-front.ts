// A real HTTP proxy in front of s3rver that answers like AWS S3 does where s3rver
// cannot (issue 12): per object key it can add SSE-KMS / SSE-C headers with an ETag
// that is not the MD5, a multipart `…-N` ETag, x-amz-checksum-* headers with
// x-amz-checksum-type (only when the request asked with x-amz-checksum-mode and was
// not ranged, as S3 does), answer S3's own errors (503 SlowDown, 403
// InvalidObjectState with the storage class, 403 AccessDenied for KMS), stall a body
// mid-way (bytes stop, the socket stays open), and it records RestoreObject calls
// (POST ?restore, answered 202 here: s3rver has no Glacier). With `bucketRegion` set
// it plays a bucket that lives in another region: a request signed for any other
// region gets S3's 301 PermanentRedirect with x-amz-bucket-region, or the 400
// AuthorizationHeaderMalformed form that names the region only in its XML body.
//
// Requests are forwarded untouched, Host header included, so s3rver verifies the
// SDK's SigV4 signature exactly as it was made for this front's address.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import zlib from 'node:zlib';
import { Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export type ChecksumAlgorithm = 'crc64nvme' | 'crc32' | 'crc32c' | 'sha1' | 'sha256';

/** How the front answers for one object key. Every field is optional. */
export interface ObjectRule {
  /** Server-side encryption as S3 reports it: SSE-KMS (also dsse) or SSE-C. Gives a non-MD5 ETag. */
  sse?: 'aws:kms' | 'aws:kms:dsse' | 'sse-c';
  /** A multipart upload's ETag (`"<32 hex>-<parts>"`). */
  multipartParts?: number;
  /** Checksum headers: the full-object value (FULL_OBJECT) or a composite one (`…-N`, COMPOSITE). */
  checksum?: { algorithm: ChecksumAlgorithm; value: string; type?: 'FULL_OBJECT' | 'COMPOSITE' };
  /** Answer S3 errors instead of forwarding, for the first `times` GETs (default: every GET). */
  error?: { kind: 'slowdown' | 'archived' | 'kms-denied' | 'expired-token'; times?: number; storageClass?: string };
  /** Stop sending body bytes after this many on the first `times` GETs (default 1); the socket stays open. */
  stallAfter?: number;
  stallTimes?: number;
  /** Invert the body byte at this offset on every full GET. */
  flipByte?: number;
  /** Invert the object's byte at this offset in every GET whose bytes cover it, ranged or not (the first `flipTimes`, default all). */
  flipObjectByte?: number;
  flipTimes?: number;
}

export interface FrontRequest {
  method: string;
  /** Object key (path-style URL, bucket removed), '' for bucket-level requests. */
  key: string;
  query: string;
  headers: IncomingMessage['headers'];
  /** The region in the SigV4 credential scope. */
  signedRegion?: string;
  status?: number;
}

export interface S3Front {
  endpoint: string;
  port: number;
  rules: Map<string, ObjectRule>;
  requests: FrontRequest[];
  /** POST ?restore calls: key and the XML body (Days, Tier). */
  restores: Array<{ key: string; body: string }>;
  /** When set, the bucket lives in this region; `regionError` picks how S3 says so. */
  bucketRegion?: string;
  regionError: 'redirect-301' | 'authorization-400';
  /** GETs per key so far. */
  gets(key: string): number;
  /** Runs before the n-th GET of a key is forwarded (n from 1), e.g. to change the object. */
  beforeGet?: (key: string, n: number) => Promise<void>;
  /** TCP connections clients opened to the front so far. */
  connections: number;
  /** Object GETs being answered now, and the most there ever were at once. */
  getsInFlight: number;
  maxGetsInFlight: number;
}

const xml = (code: string, message: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>FRONT${randomBytes(4).toString('hex')}</RequestId></Error>`;

/** The checksum S3 would give `bytes`, base64 as in x-amz-checksum-*. */
export async function checksumOf(algorithm: ChecksumAlgorithm, bytes: Buffer): Promise<string> {
  if (algorithm === 'sha1' || algorithm === 'sha256') return createHash(algorithm).update(bytes).digest('base64');
  if (algorithm === 'crc32') {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(zlib.crc32(bytes) >>> 0);
    return out.toString('base64');
  }
  const hash = algorithm === 'crc32c' ? new Crc32c() : new Crc64Nvme();
  hash.update(bytes);
  return Buffer.from(await hash.digest()).toString('base64');
}

/** A 32-hex ETag that is not the object's MD5 (what SSE-KMS and SSE-C objects have). */
export function notMd5Etag(): string {
  return `"${randomBytes(16).toString('hex')}"`;
}

function keyOf(url: string): { key: string; query: string } {
  const parsed = new URL(url, 'http://front');
  // /<bucket>/<key…>: path-style, as the tests' clients address s3rver.
  const key = parsed.pathname.split('/').slice(2).join('/');
  return { key: decodeURIComponent(key), query: parsed.search };
}

function signedRegion(headers: IncomingMessage['headers']): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\/s3\//.exec(headers.authorization ?? '')?.[1];
}

export async function startS3Front(t: Teardown, s3rverEndpoint: string): Promise<S3Front> {
  const upstream = new URL(s3rverEndpoint);
  const getCounts = new Map<string, number>();
  const etags = new Map<string, string>();
  const sockets = new Set<Socket>();
  const front: S3Front = {
    endpoint: '',
    port: 0,
    rules: new Map(),
    requests: [],
    restores: [],
    regionError: 'redirect-301',
    gets: (key) => getCounts.get(key) ?? 0,
    connections: 0,
    getsInFlight: 0,
    maxGetsInFlight: 0,
  };

  const answerError = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...headers }).end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const { key, query } = keyOf(req.url ?? '/');
    const record: FrontRequest = { method: req.method ?? 'GET', key, query, headers: req.headers, signedRegion: signedRegion(req.headers) };
    front.requests.push(record);
    const status = (code: number) => (record.status = code);

    if (front.bucketRegion && record.signedRegion && record.signedRegion !== front.bucketRegion) {
      req.resume();
      if (front.regionError === 'redirect-301') {
        status(301);
        return answerError(res, 301, xml('PermanentRedirect', 'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.', `<Endpoint>s3.${front.bucketRegion}.amazonaws.com</Endpoint>`), { 'x-amz-bucket-region': front.bucketRegion });
      }
      status(400);
      return answerError(res, 400, xml('AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${record.signedRegion}' is wrong; expecting '${front.bucketRegion}'`, `<Region>${front.bucketRegion}</Region>`));
    }

    if (req.method === 'POST' && /[?&]restore(=|&|$)/.test(query)) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        front.restores.push({ key, body: Buffer.concat(chunks).toString('utf8') });
        status(202);
        res.writeHead(202, { 'content-length': 0 }).end();
      });
      return;
    }

    const rule = front.rules.get(key);
    const isGet = req.method === 'GET' && key !== '';
    const n = isGet ? (getCounts.get(key) ?? 0) + 1 : 0;
    if (isGet) {
      getCounts.set(key, n);
      front.getsInFlight++;
      front.maxGetsInFlight = Math.max(front.maxGetsInFlight, front.getsInFlight);
      res.on('close', () => front.getsInFlight--);
    }
    if (isGet && front.beforeGet) {
      req.pause();
      void front.beforeGet(key, n).then(() => forward(req, res, key, rule, n, record), () => res.destroy());
      return;
    }
    forward(req, res, key, rule, n, record);
  };

  const forward = (req: IncomingMessage, res: ServerResponse, key: string, rule: ObjectRule | undefined, n: number, record: FrontRequest) => {
    // The client left while beforeGet ran: nothing to forward.
    if (res.destroyed || req.socket.destroyed) return;
    const isGet = req.method === 'GET' && key !== '';
    const status = (code: number) => (record.status = code);
    if (rule?.error && isGet && n <= (rule.error.times ?? Number.POSITIVE_INFINITY)) {
      req.resume();
      if (rule.error.kind === 'slowdown') {
        status(503);
        return answerError(res, 503, xml('SlowDown', 'Please reduce your request rate.'));
      }
      if (rule.error.kind === 'archived') {
        status(403);
        return answerError(res, 403, xml('InvalidObjectState', 'The operation is not valid for the object\'s storage class', `<StorageClass>${rule.error.storageClass ?? 'GLACIER'}</StorageClass>`));
      }
      if (rule.error.kind === 'expired-token') {
        status(400);
        return answerError(res, 400, xml('ExpiredToken', 'The provided token has expired.'));
      }
      status(403);
      return answerError(res, 403, xml('AccessDenied', 'User: arn:aws:iam::123456789012:user/rcbs is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the kms:Decrypt action'));
    }

    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      status(answer.statusCode ?? 502);
      const headers = { ...answer.headers };
      const ok = (answer.statusCode ?? 500) < 300;
      if (rule && ok && (req.method === 'GET' || req.method === 'HEAD')) {
        if (rule.sse || rule.multipartParts) {
          let etag = etags.get(key);
          if (!etag) {
            etag = rule.multipartParts ? `"${randomBytes(16).toString('hex')}-${rule.multipartParts}"` : notMd5Etag();
            etags.set(key, etag);
          }
          headers.etag = etag;
        }
        if (rule.sse === 'sse-c') {
          headers['x-amz-server-side-encryption-customer-algorithm'] = 'AES256';
          headers['x-amz-server-side-encryption-customer-key-md5'] = randomBytes(16).toString('base64');
        } else if (rule.sse) {
          headers['x-amz-server-side-encryption'] = rule.sse;
          headers['x-amz-server-side-encryption-aws-kms-key-id'] = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
        }
        const asked = String(req.headers['x-amz-checksum-mode'] ?? '').toUpperCase() === 'ENABLED';
        if (rule.checksum && asked && !req.headers.range) {
          headers[`x-amz-checksum-${rule.checksum.algorithm}`] = rule.checksum.value;
          headers['x-amz-checksum-type'] = rule.checksum.type ?? (rule.checksum.value.includes('-') ? 'COMPOSITE' : 'FULL_OBJECT');
        }
      }
      res.writeHead(answer.statusCode ?? 502, headers);
      if (req.method !== 'GET' || !rule || (rule.stallAfter === undefined && rule.flipByte === undefined && rule.flipObjectByte === undefined)) {
        answer.pipe(res);
        return;
      }
      const stall = rule.stallAfter !== undefined && n <= (rule.stallTimes ?? 1);
      // The body's first byte is the object's byte at the Content-Range start (0 for a whole GET).
      const bodyStart = Number(/^bytes (\d+)-/.exec(String(answer.headers['content-range'] ?? ''))?.[1] ?? 0);
      const flip = rule.flipByte !== undefined && !req.headers.range ? rule.flipByte
        : rule.flipObjectByte !== undefined && n <= (rule.flipTimes ?? Number.POSITIVE_INFINITY) ? rule.flipObjectByte - bodyStart : undefined;
      let sent = 0;
      answer.on('error', () => {});
      answer.on('data', (chunk: Buffer) => {
        let part = chunk;
        if (stall) {
          if (sent >= rule.stallAfter!) return;
          part = chunk.subarray(0, rule.stallAfter! - sent);
        }
        if (flip !== undefined && flip >= sent && flip < sent + part.length) {
          part = Buffer.from(part);
          part[flip - sent] = part[flip - sent]! ^ 0xff;
        }
        sent += part.length;
        if (!res.write(part)) {
          answer.pause();
          res.once('drain', () => answer.resume());
        }
        // Stalled: no more bytes, no end, the socket stays open until the client gives up.
        if (stall && sent >= rule.stallAfter!) answer.destroy();
      });
      answer.on('end', () => {
        if (!stall) res.end();
      });
    });
    out.on('error', () => res.destroy());
    // A client that leaves mid-body (a transfer restarted, parts stopped) ends the upstream
    // request too, or s3rver would keep that connection busy and never close.
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  };

  const server = createServer(handle);
  server.on('connection', (socket) => {
    front.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  front.port = (server.address() as AddressInfo).port;
  front.endpoint = `http://127.0.0.1:${front.port}`;
  return front;
}
