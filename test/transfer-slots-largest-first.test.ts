// Pins the order transfers start in (SPEC §8 "the largest known media start first"):
// at most `size` run at once; when a slot frees, the largest waiting transfer goes
// next, arrival order among equal or unknown sizes. So a 100 MiB object that arrives
// behind small ones does not start last and leave a tail on a slow link.

import t from 'tap';
import { TransferSlots } from '../src/s3/transfer-slots.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

t.test('largest waiting first, arrival order among equals, never more than size at once', async (t) => {
  const slots = new TransferSlots(2);
  const started: string[] = [];
  let running = 0;
  let most = 0;
  const gates = new Map<string, ReturnType<typeof gate>>();
  const job = (name: string, size?: number) => {
    const g = gate();
    gates.set(name, g);
    return slots.run(async () => {
      started.push(name);
      running++;
      most = Math.max(most, running);
      await g.opened;
      running--;
    }, size);
  };
  const all = [job('a', 10), job('b', 10), job('small', 1), job('unknown'), job('big', 100), job('mid', 50), job('mid2', 50)];
  t.same(started, ['a', 'b'], 'the first two start at once');
  for (const name of ['a', 'b', 'big', 'mid', 'mid2', 'small', 'unknown']) {
    gates.get(name)!.open();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(all);
  t.same(started, ['a', 'b', 'big', 'mid', 'mid2', 'small', 'unknown']);
  t.equal(most, 2, 'never more than two at once');
});

t.test('a failing task frees its slot', async (t) => {
  const slots = new TransferSlots(1);
  await t.rejects(slots.run(async () => {
    throw new Error('boom');
  }));
  t.equal(await slots.run(async () => 'next'), 'next');
});
