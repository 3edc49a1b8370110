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

// A large object whose other parts go on spare connections hands its slot on (parts.ts):
// the waiter starts while the task goes on, and the slot is not given back a second time
// when the task ends (which would let one more transfer run than the size).
t.test('handOff gives the slot to a waiter only when one waits, and only once', async (t) => {
  const slots = new TransferSlots(1);
  const events: string[] = [];
  const big = gate();
  let handOff!: () => boolean;
  const first = slots.run(async (h) => {
    handOff = h;
    events.push('big started');
    await big.opened;
    events.push('big done');
  });
  t.equal(handOff(), false, 'nobody waits: the slot is kept');
  const small = gate();
  const second = slots.run(async () => {
    events.push('small started');
    await small.opened;
    events.push('small done');
  });
  const third = slots.run(async () => {
    events.push('third started');
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.same(events, ['big started'], 'the waiters wait while the slot is held');
  t.equal(handOff(), true, 'a waiter: the slot goes to it');
  t.equal(handOff(), false, 'handed on once only');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(events, ['big started', 'small started'], 'the first waiter started while the task goes on');
  big.open();
  await first;
  await new Promise((resolve) => setImmediate(resolve));
  t.same(events, ['big started', 'small started', 'big done'], 'the task ending gives no slot back: the third still waits for the one slot');
  small.open();
  await Promise.all([second, third]);
  t.same(events, ['big started', 'small started', 'big done', 'small done', 'third started']);
});
