// How a download's bytes reach its temp file (fileSink, src/s3/transfer.ts): socket
// chunks are held and written together, up to 128 KiB a write, because each write costs
// this thread ~15-20 µs whatever its size. What must not change with that: every byte is
// on disk, in order, at its offset; bytes that came before a break (a cut, a stall, a
// stop) are on disk for the resume; a body that goes quiet has its bytes on disk within
// ~50 ms (a killed run's partial holds them). A real file; a counting wrapper around its
// FileHandle to see the writes.

import t, { type Test } from 'tap';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fileSink, StallWatch } from '../src/s3/transfer.js';

async function setup(t: Test) {
  const file = path.join(t.testdir(), 'temp.part');
  const handle = await open(file, 'w+');
  t.teardown(() => handle.close());
  let writes = 0;
  const counting = new Proxy(handle, {
    get(target, key) {
      if (key === 'write' || key === 'writev') writes++;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as FileHandle;
  const watch = new StallWatch(30_000);
  t.teardown(() => watch.stop());
  const progress = { written: 0 };
  const landed: number[] = [];
  const sink = fileSink(counting, progress, (_chunks, length) => {
    progress.written += length;
    landed.push(length);
  }, watch);
  return { file, sink, progress, landed, writes: () => writes };
}

const chunk = (i: number, size = 16 * 1024) => Buffer.alloc(size, i % 251);
const writeOne = (sink: NodeJS.WritableStream, data: Buffer) => new Promise<void>((resolve) => (sink.write(data) ? resolve() : sink.once('drain', resolve)));

t.test('chunks are written together, every byte in order', async (t) => {
  const { file, sink, progress, writes } = await setup(t);
  const chunks = Array.from({ length: 64 }, (_, i) => chunk(i));
  // One chunk at a time, a millisecond apart: as a socket delivers them, each after the
  // page cache took the one before (so nothing queues up to be written together by itself).
  for (const c of chunks) {
    await writeOne(sink, c);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolve())));
  t.equal(progress.written, 64 * 16 * 1024);
  t.ok((await readFile(file)).equals(Buffer.concat(chunks)), 'byte-exact, in order');
  // 1 MiB in 16 KiB chunks: 8 writes of 128 KiB (a write per chunk was 64).
  t.ok(writes() <= 12, `${writes()} writes for 64 chunks`);
});

t.test('a body that goes quiet has its bytes on disk within ~50 ms', async (t) => {
  const { file, sink, progress } = await setup(t);
  await writeOne(sink, chunk(1, 20_000));
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.equal(progress.written, 20_000, 'written without more chunks or the end');
  t.equal((await readFile(file)).length, 20_000);
  sink.destroy();
});

t.test('a destroyed sink (a cut, a stall, a stop) writes what it held first', async (t) => {
  const { file, sink, progress } = await setup(t);
  await writeOne(sink, chunk(1, 30_000));
  await writeOne(sink, chunk(2, 10_000));
  const failed = new Promise<Error>((resolve) => sink.once('error', resolve));
  sink.destroy(new Error('cut'));
  await sink.idle();
  t.match(await failed, { message: 'cut' }, 'the break is still the sink\'s error');
  t.equal(progress.written, 40_000, 'what came before the break is on disk for the resume');
  t.ok((await readFile(file)).equals(Buffer.concat([chunk(1, 30_000), chunk(2, 10_000)])));
});
