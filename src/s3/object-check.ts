// How a downloaded file is proved to be the S3 object (SPEC §5): by what the object
// offers. A full-object checksum (asked for with x-amz-checksum-mode: ENABLED) when it
// has one; else its ETag, but only when that is an MD5 (32 hex digits, not multipart
// `…-N`, and the object is not SSE-KMS or SSE-C encrypted, whose ETags are not MD5s:
// FACTS.md); else its size alone. Composite checksums (`…-N`, x-amz-checksum-type
// COMPOSITE) are checksums of part checksums and cannot be computed from the bytes.
//
// Implementations (bench/checksums.mjs, BENCHMARKS.md "Checksums"): node:crypto for
// SHA-1/SHA-256/MD5, zlib.crc32 for CRC32, hash-wasm for CRC64NVME and CRC32C: about
// 3x (CRC64NVME) and 6x (CRC32C) the SDK's pure-JS ones, portable, no native build.
// hash-wasm is loaded by require() when an object first offers one of those two: imported
// from ESM, Node lexed its bundle first, 22-30 ms of every backup's start against 5-6 ms
// (BENCHMARKS.md, "Where issue 15 stands: … 20:29"), for objects that mostly have none.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import type * as HashWasm from 'hash-wasm';

const require = createRequire(import.meta.url);
let hashWasm: typeof HashWasm | undefined;
const loadHashWasm = (): typeof HashWasm => (hashWasm ??= require('hash-wasm') as typeof HashWasm);

export type ChecksumMethod = 'crc64nvme' | 'crc32' | 'crc32c' | 'sha1' | 'sha256';
export type CheckMethod = ChecksumMethod | 'etag-md5' | 'size';

export const CHECKSUM_METHODS: readonly ChecksumMethod[] = ['crc64nvme', 'crc32', 'crc32c', 'sha1', 'sha256'];

/** The method and the value the file must match (base64 checksum, hex MD5; none for size). */
export interface ObjectCheck {
  method: CheckMethod;
  expected?: string;
}

/** The parts of a GetObject / HeadObject answer the choice reads. */
export interface OfferedHeaders {
  ETag?: string;
  ChecksumCRC64NVME?: string;
  ChecksumCRC32?: string;
  ChecksumCRC32C?: string;
  ChecksumSHA1?: string;
  ChecksumSHA256?: string;
  ChecksumType?: string;
  ServerSideEncryption?: string;
  SSECustomerAlgorithm?: string;
}

// Cheapest first when an object carries several (bench/checksums.mjs).
const BY_COST: ReadonlyArray<[ChecksumMethod, keyof OfferedHeaders]> = [
  ['crc32', 'ChecksumCRC32'],
  ['crc32c', 'ChecksumCRC32C'],
  ['sha256', 'ChecksumSHA256'],
  ['sha1', 'ChecksumSHA1'],
  ['crc64nvme', 'ChecksumCRC64NVME'],
];

/** The MD5 an ETag stands for, when it is a plain one (32 hex: not multipart `…-N`). */
export function etagMd5(etag: string | undefined): string | undefined {
  const bare = etag?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
  return bare && /^[0-9a-f]{32}$/.test(bare) ? bare : undefined;
}

/** True when the object's ETag is not its MD5 whatever it looks like: SSE-KMS (also DSSE) and SSE-C. */
function etagIsNotMd5(offered: OfferedHeaders): boolean {
  const sse = offered.ServerSideEncryption?.toLowerCase();
  return sse === 'aws:kms' || sse === 'aws:kms:dsse' || offered.SSECustomerAlgorithm !== undefined;
}

/** The strongest check the object offers. */
export function offeredCheck(offered: OfferedHeaders): ObjectCheck {
  if (offered.ChecksumType?.toUpperCase() !== 'COMPOSITE') {
    for (const [method, field] of BY_COST) {
      const value = offered[field];
      if (value && !/-\d+$/.test(value)) return { method, expected: value };
    }
  }
  const md5 = etagIsNotMd5(offered) ? undefined : etagMd5(offered.ETag);
  return md5 ? { method: 'etag-md5', expected: md5 } : { method: 'size' };
}

export interface Digest {
  update(chunk: Uint8Array): void;
  /** base64, as S3 writes x-amz-checksum-* values. */
  digest(): string;
}

function cryptoDigest(algorithm: 'sha1' | 'sha256'): Digest {
  const hash = createHash(algorithm);
  return { update: (chunk) => void hash.update(chunk), digest: () => hash.digest('base64') };
}

function crc32Digest(): Digest {
  let value = 0;
  return {
    update: (chunk) => void (value = zlib.crc32(chunk, value)),
    digest: () => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(value >>> 0);
      return out.toString('base64');
    },
  };
}

// CRC-64/NVME and CRC-32C as hash-wasm takes them: the reflected polynomials.
const CRC64_NVME_POLYNOMIAL = '9a6c9329ac4bc9b5';
const CRC32C_POLYNOMIAL = 0x82f63b78;

async function wasmDigest(create: () => ReturnType<typeof HashWasm.createCRC64>): Promise<Digest> {
  const hasher = await create();
  hasher.init();
  return { update: (chunk) => void hasher.update(chunk), digest: () => Buffer.from(hasher.digest('binary')).toString('base64') };
}

/** A fresh incremental digest for a checksum method. */
export async function startDigest(method: ChecksumMethod): Promise<Digest> {
  switch (method) {
    case 'sha1':
    case 'sha256':
      return cryptoDigest(method);
    case 'crc32':
      return crc32Digest();
    case 'crc32c':
      return wasmDigest(() => loadHashWasm().createCRC32(CRC32C_POLYNOMIAL));
    case 'crc64nvme':
      return wasmDigest(() => loadHashWasm().createCRC64(CRC64_NVME_POLYNOMIAL));
  }
}

export function isChecksumMethod(method: string | undefined): method is ChecksumMethod {
  return CHECKSUM_METHODS.includes(method as ChecksumMethod);
}

/** A file's MD5 (what the index keeps) and, for a checksum method, its S3-style checksum:
 * one read of the file. Used by verify and by adoption. */
export async function digestFile(file: string, method?: string, signal?: AbortSignal): Promise<{ md5: string; checksum?: string }> {
  const md5 = createHash('md5');
  const checksum = isChecksumMethod(method) ? await startDigest(method) : undefined;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) {
    md5.update(chunk as Buffer);
    checksum?.update(chunk as Buffer);
  }
  return { md5: md5.digest('hex'), ...(checksum ? { checksum: checksum.digest() } : {}) };
}
