// Pins readAhead (src/pipeline/streams.ts), which lets the GWS source fetch its next page
// while the pipeline writes the current one: in order, never more than `size` items ahead
// of the consumer, a source error after the items before it, and a consumer that stops
// closes the source (its finally runs) without pulling it again.

import t from 'tap';
import { setImmediate as eventLoopTurn, setTimeout as sleep } from 'node:timers/promises';
import { readAhead } from '../src/pipeline/streams.js';

/** A source of `count` numbers that counts what was pulled and whether it was closed. */
function countingSource(count: number, options: { delayMs?: number; failAfter?: number } = {}) {
  const state = { pulled: 0, closed: false };
  async function* source(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < count; i++) {
        if (options.delayMs) await sleep(options.delayMs);
        if (options.failAfter !== undefined && i === options.failAfter) throw new Error(`source failed at ${i}`);
        state.pulled++;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, source: source() };
}

t.test('every item, in order, at most `size` ahead of a slow consumer', async (t) => {
  const { state, source } = countingSource(50);
  const got: number[] = [];
  let worstAhead = 0;
  for await (const item of readAhead(source, 5)) {
    got.push(item);
    // This source never waits on I/O, only on promises: after one turn of the event loop
    // the producer has pulled all it will, stopped by the full buffer (or the end).
    await eventLoopTurn();
    t.equal(state.pulled, Math.min(50, got.length + 5), 'the buffer is full again');
    worstAhead = Math.max(worstAhead, state.pulled - got.length);
  }
  t.same(got, Array.from({ length: 50 }, (_, i) => i));
  t.equal(worstAhead, 5, 'the source ran exactly `size` items ahead, not more');
  t.ok(state.closed);
});

t.test('a source error comes after the items read before it', async (t) => {
  const { source } = countingSource(10, { failAfter: 3 });
  const got: number[] = [];
  await t.rejects(async () => {
    for await (const item of readAhead(source, 100)) got.push(item);
  }, /source failed at 3/);
  t.same(got, [0, 1, 2]);
});

t.test('a consumer that stops closes the source and pulls no more', async (t) => {
  const { state, source } = countingSource(1000);
  const got: number[] = [];
  for await (const item of readAhead(source, 4)) {
    got.push(item);
    await eventLoopTurn();
    if (got.length === 3) break;
  }
  t.ok(state.closed, "the source's finally ran");
  const pulledAtStop = state.pulled;
  t.ok(pulledAtStop <= 3 + 4, `pulled ${pulledAtStop}: what was taken plus at most the read-ahead`);
  await eventLoopTurn(); // a source still running would pull within one turn
  t.equal(state.pulled, pulledAtStop, 'nothing pulled after the stop');
});

t.test('a stop while the source is waiting lets it finish its step, then closes it', async (t) => {
  const { state, source } = countingSource(1000, { delayMs: 30 });
  for await (const item of readAhead(source, 2)) {
    t.equal(item, 0);
    break; // the producer is inside a 30 ms step of the source right now
  }
  t.ok(state.closed, 'closed once the pending step ended');
  t.ok(state.pulled <= 1 + 2, `pulled ${state.pulled}`);
});
