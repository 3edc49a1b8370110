// Pins the compact index (src/store/offset-index.ts): the store keeps only a hash
// and a line offset per media id and recording, and reads entries back from the
// journals. What must hold: the latest line of a key wins (in the same run and
// after reopening), two keys sharing a hash never answer for each other, a key
// that is not there reads nothing, and listing streams each key's latest entry
// once. The memory it saves is measured in bench/ (BENCHMARKS.md, metadata-only).

import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../src/store/index.js';
import { keyHash } from '../src/store/offset-index.js';
import { silentLogger } from '../src/log.js';
import type { IndexEntry } from '../src/store/types.js';
import { collect } from './helpers/async.js';

const entry = (mediaId: string, size: number): IndexEntry => ({ recordingId: `r-${mediaId}`, mediaId, path: `t/${mediaId}.bin`, size, md5: 'x'.repeat(32), completedAt: 1 });

/** Two different keys with the same 31-bit hash, found by search (deterministic). */
function collidingPair(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const key = `media-${i}`;
    const other = seen.get(keyHash(key));
    if (other !== undefined) return [other, key];
    seen.set(keyHash(key), key);
  }
}

t.test('keys sharing a hash are told apart by the line they point to', async (t) => {
  const [a, b] = collidingPair();
  t.equal(keyHash(a), keyHash(b));
  t.not(a, b);
  const dir = t.testdir();
  let store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger });
  await store.recordMedia(entry(a, 1));
  await store.recordMedia(entry(b, 2));
  await store.recordMedia(entry(a, 3)); // a rewritten: b must not move
  t.equal((await store.getMedia(a))?.size, 3);
  t.equal((await store.getMedia(b))?.size, 2);
  t.equal(await store.getMedia(`${a}-not-there`), undefined);
  await store.close();

  store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger });
  t.teardown(() => store.close());
  t.equal((await store.getMedia(a))?.size, 3, 'after reopening, the latest line of a');
  t.equal((await store.getMedia(b))?.size, 2);
  await store.recordMedia(entry(b, 4));
  t.equal((await store.getMedia(b))?.size, 4);
  t.equal((await store.getMedia(a))?.size, 3);
  t.same((await collect(store.allMedia())).map((e) => [e.mediaId, e.size]), [[a, 3], [b, 4]], 'each key once, its latest line, in file order');
});

t.test('thousands of keys, rewritten in the same run and across runs', async (t) => {
  const dir = t.testdir();
  const n = 5000;
  let store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger });
  for (let i = 0; i < n; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => store.recordMedia(entry(`m${i + j}`, i + j))));
  for (let i = 0; i < n; i += 7) await store.recordMedia(entry(`m${i}`, i)); // the same size again, on a newer line
  for (let i = 0; i < n; i += 10) await store.recordMedia(entry(`m${i}`, i * 10));
  const expected = (i: number) => (i % 10 === 0 ? i * 10 : i);
  for (const i of [0, 7, 10, 14, 70, 4999, 4990]) t.equal((await store.getMedia(`m${i}`))?.size, expected(i), `m${i} in the same run`);
  await store.close();

  store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger, readOnly: true });
  t.teardown(() => store.close());
  let wrong = 0;
  for (let i = 0; i < n; i++) if ((await store.getMedia(`m${i}`))?.size !== expected(i)) wrong++;
  t.equal(wrong, 0, 'every key answers its latest line after reopening');
  const listed = await collect(store.allMedia());
  t.equal(listed.length, n, 'listed once each');
  t.equal(listed.filter((e) => e.size !== expected(Number(e.mediaId.slice(1)))).length, 0, 'listed with the latest line');
  const lines = readFileSync(path.join(dir, '.rcbs', 'index.ndjson'), 'utf8').trim().split('\n').length;
  t.equal(lines, n + Math.ceil(n / 7) + n / 10, 'a rewrite appends a line; nothing is rewritten in place');
});

t.test('a kept torn tail is found where it was written again', async (t) => {
  const last = JSON.stringify(entry('z', 9));
  const dir = t.testdir({ '.rcbs': { 'index.ndjson': JSON.stringify(entry('y', 1)) + '\n' + last } });
  const store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger });
  t.teardown(() => store.close());
  t.equal((await store.getMedia('z'))?.size, 9);
  await store.recordMedia(entry('w', 5));
  t.equal((await store.getMedia('w'))?.size, 5);
  t.equal((await store.getMedia('z'))?.size, 9);
  t.equal(readFileSync(path.join(dir, '.rcbs', 'index.ndjson'), 'utf8').split('\n').length, 4);
});
