// What a file write costs the main thread, by how the bytes are handed over: one
// FileHandle.write per 16 KiB chunk (as a TLS socket delivers them) against one writev
// per 16 chunks. For src/s3/transfer.ts's fileSink, which holds chunks and writes them
// together. Run: node bench/write-calls.mjs [MiB, default 256]; prints wall and the
// process's CPU (user+sys) for each, alternating, twice.
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const total = Number(process.argv[2] ?? 256) * 1048576;
const chunk = 16 * 1024;
const file = path.join(tmpdir(), `rcbs-write-calls-${process.pid}.bin`);
const chunks = Array.from({ length: 16 }, (_, i) => Buffer.alloc(chunk, i));

async function run(mode) {
  const handle = await open(file, 'w');
  const started = performance.now();
  const cpu = process.cpuUsage();
  let at = 0;
  while (at < total) {
    if (mode === 'write') {
      for (const c of chunks) {
        await handle.write(c, 0, chunk, at);
        at += chunk;
      }
    } else {
      await handle.writev(chunks, at);
      at += chunk * chunks.length;
    }
  }
  const used = process.cpuUsage(cpu);
  await handle.close();
  console.log(`${mode.padEnd(6)} ${(total / 1048576).toFixed(0)} MiB: ${(performance.now() - started).toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU`);
}

for (let i = 0; i < 2; i++) for (const mode of ['write', 'writev']) await run(mode);
await rm(file, { force: true });
