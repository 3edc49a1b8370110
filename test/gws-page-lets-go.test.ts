// Pins that a page of GET /recordings does not keep the recordings it passed on
// (src/gws/page.ts lettingGo): once the reader is asked for the next recording, the one
// before is held only by whoever took it, so a page that waits its turn (a slice behind
// another, a page fetched ahead) does not keep ~100 parsed recordings alive. Seen through
// WeakRefs and a real full GC (the heap module's collector).

import t from 'tap';
import { collector } from '../src/heap.js';
import { lettingGo, readRecordingsPage } from '../src/gws/page.js';

const gc = collector();

async function* bodyOf(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

t.test('lettingGo yields in order and empties the array', async (t) => {
  const items = [{ n: 1 }, { n: 2 }, { n: 3 }];
  const seen: number[] = [];
  for (const item of lettingGo(items)) {
    seen.push(item.n);
    t.equal(items[seen.length - 1], undefined, 'the slot of the item just given is cleared');
  }
  t.same(seen, [1, 2, 3]);
  t.equal(items.length, 0);
});

t.test('a page read whole lets a recording go once the next is asked for', { skip: gc ? false : 'no gc() in this runtime' }, async (t) => {
  const recordings = Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, payload: 'x'.repeat(1000) }));
  const page = readRecordingsPage(bodyOf(JSON.stringify({ statusCode: 0, recordings })), 'test page');
  const refs: Array<WeakRef<object>> = [];
  for (let i = 0; i < 3; i++) {
    const step = await page.next();
    t.notOk(step.done);
    refs.push(new WeakRef(step.value as object));
  }
  // Let the awaits' own references go before collecting.
  await new Promise((resolve) => setImmediate(resolve));
  gc!();
  t.equal(refs[0]!.deref(), undefined, 'the first recording is gone while the page is still being read');
  t.equal(refs[1]!.deref(), undefined, 'so is the second');
  let rest = 0;
  for (let step = await page.next(); !step.done; step = await page.next()) rest++;
  t.equal(rest, 2, 'the page still gives every recording');
});
