// Throughput of each way rcbs can check a downloaded file (SPEC §5), to pick
// implementations that never become the bottleneck of a transfer: MB/s hashing
// 64 KiB chunks (the size socket reads come in) of one in-memory buffer, per method
// and implementation, best of ROUNDS. Candidates not installed are skipped, so the
// same script compares the SDK's own pure-JS code with native / WASM packages:
//
//   node bench/checksums.mjs                         # what the repo has
//   BENCH_MODULES=/tmp/crcbench node bench/checksums.mjs   # plus packages installed there
//     (npm install hash-wasm@4.13.0 @node-rs/crc32@1.10.8 @aws-crypto/crc32c@5.2.0 in that folder)

import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const SIZE = Number(process.env.BENCH_MIB ?? 256) << 20;
const CHUNK = 64 << 10;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const data = randomBytes(SIZE);
const chunks = [];
for (let offset = 0; offset < SIZE; offset += CHUNK) chunks.push(data.subarray(offset, offset + CHUNK));

const here = createRequire(import.meta.url);
const extra = process.env.BENCH_MODULES ? createRequire(path.join(path.resolve(process.env.BENCH_MODULES), 'package.json')) : undefined;
function load(name) {
  for (const req of [here, extra]) {
    try {
      if (req) return req(name);
    } catch {}
  }
  return undefined;
}

/** name → () => { update(chunk), digest() } (digest may be async). */
const candidates = [];
const add = (method, impl, start) => start && candidates.push({ method, impl, start });

for (const algorithm of ['md5', 'sha1', 'sha256']) {
  add(algorithm, 'node:crypto', () => {
    const h = createHash(algorithm);
    return { update: (c) => h.update(c), digest: () => h.digest() };
  });
}
add('crc32', 'node:zlib crc32', () => {
  let v = 0;
  return { update: (c) => (v = zlib.crc32(c, v)), digest: () => v };
});

const sdk = load('@aws-sdk/checksums/crc');
if (sdk) {
  add('crc64nvme', '@aws-sdk/checksums Crc64NvmeJs (= @aws-sdk/crc64-nvme, SDK default)', () => new sdk.Crc64NvmeJs());
  add('crc32c', '@aws-sdk/checksums Crc32cJs (SDK default)', () => new sdk.Crc32cJs());
}
const awsCrypto = load('@aws-crypto/crc32c');
if (awsCrypto) add('crc32c', '@aws-crypto/crc32c', () => new awsCrypto.AwsCrc32c());
const nodeRs = load('@node-rs/crc32');
if (nodeRs) {
  add('crc32c', '@node-rs/crc32 crc32c (native)', () => {
    let v = 0;
    return { update: (c) => (v = nodeRs.crc32c(c, v)), digest: () => v };
  });
}
const hashWasm = load('hash-wasm');
const wasm = hashWasm
  ? {
      crc64nvme: await hashWasm.createCRC64('9a6c9329ac4bc9b5'),
      crc32c: await hashWasm.createCRC32(0x82f63b78),
    }
  : undefined;
if (wasm) {
  for (const method of ['crc64nvme', 'crc32c']) {
    add(method, 'hash-wasm (WASM)', () => {
      const h = wasm[method];
      h.init();
      return { update: (c) => h.update(c), digest: () => h.digest('hex') };
    });
  }
}

console.log(`${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}, ${SIZE >> 20} MiB in ${CHUNK >> 10} KiB chunks, best of ${ROUNDS}`);
console.log(`${'method'.padEnd(10)} ${'implementation'.padEnd(68)} ${'MB/s'.padStart(7)} ${'ms/GiB'.padStart(8)}`);
for (const { method, impl, start } of candidates) {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const began = process.hrtime.bigint();
    const h = start();
    for (const chunk of chunks) h.update(chunk);
    await h.digest();
    best = Math.min(best, Number(process.hrtime.bigint() - began) / 1e6);
  }
  const mbs = SIZE / 1e6 / (best / 1000);
  const msPerGiB = (best * (1 << 30)) / SIZE;
  console.log(`${method.padEnd(10)} ${impl.padEnd(68)} ${mbs.toFixed(0).padStart(7)} ${msPerGiB.toFixed(0).padStart(8)}`);
}
