// The sandbox's S3: @20minutes/s3rver 4.0.4 on 127.0.0.1, a fresh folder, one
// bucket made through its configureBuckets option, and objects uploaded with the
// real SDK, so they carry the ETag (hex MD5) a client checks against.
// FACTS.md quirks that matter to users of this server: object-level GET/HEAD/PUT
// verify SigV4 (a wrong secret is refused), bucket-level ListObjectsV2/HeadBucket
// are rejected, suffix ranges (bytes=-N) return wrong bytes, If-Match is ignored.
// Keys: s3rver keeps accounts in a process-wide registry; its built-in pair is
// S3RVER/S3RVER. Other pairs are added there and removed when the last sandbox
// using them closes.

import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, S3Client } from '../s3/sdk.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const require = createRequire(import.meta.url);

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
interface S3rverAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  revokeAccessKey(accessKeyId: string): void;
}

const S3rver = require('@20minutes/s3rver') as S3rverConstructor;
const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: S3rverAccount };

export const S3RVER_DEFAULT_KEY = 'S3RVER';
/** S3 needs a region to sign with; s3rver accepts any. */
export const SANDBOX_S3_REGION = 'us-east-1';

const keyUsers = new Map<string, number>();

function registerKeyPair(accessKeyId: string, secretAccessKey: string): () => void {
  if (accessKeyId === S3RVER_DEFAULT_KEY && secretAccessKey === S3RVER_DEFAULT_KEY) return () => {};
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  keyUsers.set(accessKeyId, (keyUsers.get(accessKeyId) ?? 0) + 1);
  return () => {
    const left = (keyUsers.get(accessKeyId) ?? 1) - 1;
    if (left > 0) return void keyUsers.set(accessKeyId, left);
    keyUsers.delete(accessKeyId);
    DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
  };
}

export interface SandboxS3Options {
  /** Folder s3rver stores objects in (must be fresh: it is the whole S3). */
  directory: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SandboxS3 {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly port: number;
  /** Uploads one object; returns the hex MD5 ETag S3 gave it. */
  put(key: string, body: Buffer): Promise<string>;
  close(): Promise<void>;
}

export async function startSandboxS3(options: SandboxS3Options): Promise<SandboxS3> {
  const unregister = registerKeyPair(options.accessKeyId, options.secretAccessKey);
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket }],
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    unregister();
    throw err;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    endpoint,
    region: SANDBOX_S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    // s3rver does not understand the SDK's default CRC trailers on uploads.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  let closed = false;
  return {
    endpoint,
    port: address.port,
    async put(key, body) {
      const result = await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body, ContentType: 'application/pkcs7-mime' }));
      return (result.ETag ?? '').replace(/"/g, '');
    },
    async close() {
      if (closed) return;
      closed = true;
      client.destroy();
      // Keep-alive sockets would hold close() open until they time out.
      const done = server.close();
      server.httpServer?.closeAllConnections();
      await done;
      unregister();
    },
  };
}
