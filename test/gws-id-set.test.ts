// Pins src/gws/id-set.ts, the exact id set the GWS source dedupes with (paging.ts): it answers
// as a Set<string> does whatever the ids (ASCII, non-ASCII, empty, long, prefixes of each
// other, lone surrogates) and across many resizes; ids whose hashes collide stay distinct
// (a hash-only match would drop a recording); tags round-trip; and it keeps 200k UUIDs
// off V8's heap, where a Set of the same strings holds ~15 MB (issue 14: the GWS export's
// memory grew with the number of recordings). The heap is read after a real full GC (the
// heap module's collector).

import t from 'tap';
import v8 from 'node:v8';
import { randomUUID } from 'node:crypto';
import { collector } from '../src/heap.js';
import { fnv1a, IdSet } from '../src/gws/id-set.js';

/** A deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), seed | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

const alphabet = ['a', 'b', '0', '-', 'é', 'ß', '日', '本', '😀', '\u0000', '\uD800', '\uDC00', '\uFFFD'];

function idPool(next: () => number): string[] {
  const pool = new Set<string>(['', 'a', 'ab', 'abc', 'abcd', 'x\uD800', 'x\uFFFD', 'x\uDC00', '\uD83D\uDE00', 'x'.repeat(100_000), 'x'.repeat(100_001)]);
  while (pool.size < 20_000) {
    const length = next() < 0.02 ? Math.floor(next() * 5000) : Math.floor(next() * 40);
    let id = '';
    for (let i = 0; i < length; i++) id += next() < 0.8 ? alphabet[Math.floor(next() * 4)] : alphabet[Math.floor(next() * alphabet.length)];
    pool.add(id);
    // Ids that are prefixes of each other.
    if (id.length > 1) pool.add(id.slice(0, -1));
  }
  return [...pool];
}

t.test('fnv1a is 32-bit FNV-1a', async (t) => {
  const hash = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    return fnv1a(bytes, 0, bytes.length);
  };
  t.equal(hash(''), 0x811c9dc5);
  t.equal(hash('a'), 0xe40c292c);
  t.equal(hash('foobar'), 0xbf9cf968);
});

t.test('answers as a Set<string> does, across many resizes', async (t) => {
  const next = random(14);
  const pool = idPool(next);
  const ids = new IdSet();
  const reference = new Map<string, number>();
  let mismatches = 0;
  for (let step = 0; step < 60_000; step++) {
    const id = pool[Math.floor(next() * pool.length)]!;
    if (next() < 0.5) {
      const entry = ids.add(id);
      if (!reference.has(id)) reference.set(id, reference.size);
      if (entry !== reference.get(id)) mismatches++;
    } else if (ids.find(id) !== (reference.get(id) ?? -1)) {
      mismatches++;
    }
  }
  t.equal(mismatches, 0, 'add and find give the entry a Map would');
  t.equal(ids.size, reference.size);
  t.ok(reference.size > 10_000, `${reference.size} ids: grown from 32 entries many times`);
  let wrong = 0;
  for (const id of pool) if (ids.find(id) !== (reference.get(id) ?? -1)) wrong++;
  t.equal(wrong, 0, 'every id of the pool found, or not, as the reference says');
  t.equal(ids.find('x\uFFFD') === -1, !reference.has('x\uFFFD'), 'a lone surrogate is not the same id as U+FFFD');
});

t.test('ids whose hashes collide stay distinct', async (t) => {
  for (const [name, hash] of [
    ['one hash for all', () => 7],
    ['a hash of the length', (_: Uint8Array, start: number, end: number) => end - start],
  ] as const) {
    const ids = new IdSet(hash);
    const all = Array.from({ length: 2000 }, (_, i) => `id-${i}`);
    all.push('', 'id-1\uD800', 'id-1\uDBFF');
    for (const id of all) ids.add(id);
    t.equal(ids.size, all.length, `${name}: every id kept`);
    t.same(
      all.map((id) => ids.find(id)),
      all.map((_, i) => i),
      `${name}: each found as its own entry`,
    );
    t.equal(ids.find('id-2000'), -1, `${name}: an id never added is absent`);
  }
});

t.test('tags round-trip, across resizes', async (t) => {
  const ids = new IdSet();
  const entries = Array.from({ length: 5000 }, (_, i) => ids.add(`r-${i}`));
  t.ok(entries.every((entry) => ids.tag(entry) === 0), 'a new entry has tag 0');
  entries.forEach((entry, i) => ids.setTag(entry, i === 0 ? 0xffffffff : i * 7));
  for (let i = 5000; i < 20_000; i++) ids.add(`r-${i}`);
  t.equal(ids.tag(ids.find('r-0')), 0xffffffff, 'all 32 bits');
  t.ok(
    entries.every((_, i) => i === 0 || ids.tag(ids.find(`r-${i}`)) === i * 7),
    'each tag kept by its id',
  );
  t.equal(ids.tag(ids.add('r-3')), 21, 'adding a present id keeps its tag');
});

const gc = collector();

/** V8's used heap after a full GC. */
function heapUsed(): number {
  gc!();
  return v8.getHeapStatistics().used_heap_size;
}

/** A UUID as one flat string, as the dedupe sets held them (randomUUID's is a tree of concatenated pieces). */
function uuid(): string {
  return Buffer.from(randomUUID()).toString();
}

t.test('200k UUIDs stay off the V8 heap', { skip: gc ? false : 'no gc() in this runtime' }, async (t) => {
  const count = 200_000;
  const before = heapUsed();
  const ids = new IdSet();
  let last = '';
  for (let i = 0; i < count; i++) ids.add((last = uuid()));
  const grew = heapUsed() - before;
  t.equal(ids.size, count);
  t.ok(grew < 2 << 20, `the heap grew ${(grew / 2 ** 20).toFixed(2)} MB holding ${count} ids (under 2 MB)`);

  // The same measure tells a Set of strings apart: it is the measure, not luck.
  const setBefore = heapUsed();
  const strings = new Set<string>();
  for (let i = 0; i < count; i++) strings.add(uuid());
  const setGrew = heapUsed() - setBefore;
  t.equal(strings.size, count);
  t.ok(setGrew > 8 << 20, `a Set<string> of the same ids grew it ${(setGrew / 2 ** 20).toFixed(2)} MB`);
  t.equal(ids.find(last), count - 1, 'the id set still answers after both measures');
});
