// The two edges between highland (inside the pipeline) and Node streams (stdin,
// stdout, files): both pull one value at a time, so backpressure holds end to end
// and an error anywhere reaches the runner instead of being swallowed — highland's
// own wrappers are weak exactly there (FACTS.md).

import { Readable } from 'node:stream';
import _ from './highland.js';

/** A lazy highland stream over an async iterable: the next item is asked for only when pulled.
 * Destroying the stream (the runner does when a run ends, early or not) returns the
 * iterator, so its `finally` blocks close what it holds (sockets, files). */
export function fromAsyncIterable<T>(iterable: AsyncIterable<T>): Highland.Stream<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  let finished = false;
  const stream = _<T>((push, next) => {
    iterator.next().then(
      (result) => {
        if (result.done) {
          finished = true;
          push(null, _.nil);
        } else {
          push(null, result.value);
          next();
        }
      },
      (err: unknown) => {
        finished = true;
        push(err as Error);
        push(null, _.nil);
      },
    );
  });
  // highland 2.13 (pinned) runs a stream's _destructors on destroy() but never tells its
  // source: this is the one hook we have, and test/pipeline-teardown.test.ts pins it.
  (stream as unknown as { _destructors: Array<() => void> })._destructors.push(() => {
    if (!finished) void iterator.return?.(undefined as T).catch(() => {});
  });
  return stream;
}

/**
 * Passes everything through and calls `fn` once when the input ends. Use it instead
 * of `.on('end')`: a highland listener switches the stream to emitting events, and an
 * error then becomes an unhandled 'error' event that kills the process.
 */
export function onEnd<T>(records: Highland.Stream<T>, fn: () => void): Highland.Stream<T> {
  return records.consume<T>((err, record, push, next) => {
    if (err || !_.isNil(record)) {
      push(err, record);
      next();
    } else {
      fn();
      push(null, _.nil);
    }
  });
}

/** A Node Readable (object mode) fed by a highland stream, that fails on its first error.
 * One consumer for the whole stream, paused while the Readable's buffer is full: a
 * highland `pull` per record made a consumer stream per record, and with a fast
 * pipeline some lived long enough to be promoted (garbage only a full GC frees). */
export function toReadable<T>(stream: Highland.Stream<T>, highWaterMark = 16): Readable {
  // What the next read() does: start the consumer, then its next() whenever it paused.
  let resume: (() => void) | undefined = () => consumer.resume();
  const readable = new Readable({
    objectMode: true,
    highWaterMark,
    read() {
      const next = resume;
      resume = undefined;
      next?.();
    },
    destroy(err, callback) {
      // Not at once: an error reaches the consumer below inside the push of the stage that
      // sent it, and that stage still calls next() on the stream afterwards.
      queueMicrotask(() => stream.destroy());
      callback(err);
    },
  });
  const consumer = stream.consume<never>((err, value, _push, next) => {
    if (err) readable.destroy(err);
    else if (_.isNil(value)) readable.push(null);
    else if (readable.push(value)) next();
    else resume = next;
  });
  return readable;
}

/**
 * Keeps the records `keep` says yes to; `keep` may be async (e.g. to quarantine
 * what it rejects) and a rejection fails the run. `onEnd` runs once when the
 * input ends (for a one-line tally). Errors from upstream pass through.
 */
export function keepWhere<T>(records: Highland.Stream<T>, keep: (record: T) => boolean | Promise<boolean>, onEnd?: () => void): Highland.Stream<T> {
  return records.consume<T>((err, record, push, next) => {
    if (err) {
      push(err);
      next();
    } else if (_.isNil(record)) {
      onEnd?.();
      push(null, _.nil);
    } else {
      Promise.resolve()
        .then(() => keep(record))
        .then(
          (kept) => {
            if (kept) push(null, record);
            next();
          },
          (failure: unknown) => {
            push(failure as Error);
            next();
          },
        );
    }
  });
}

/**
 * Pulls `source` up to `size` items ahead of the consumer, so the source's waits (a GWS
 * page on the wire) overlap with the consumer's (fsyncs, transfers) instead of adding to
 * them. Still backpressure: the source is not pulled while `size` items wait. Items come
 * in order; a source error is thrown after the items read before it. When the consumer
 * stops, the source is closed (its `finally` runs) and not pulled again.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  const buffer: T[] = [];
  let ended = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  // Each side waits on a promise the other resolves; resolving one already resolved does nothing.
  let wakeConsumer = () => {};
  let wakeProducer = () => {};

  const producing = (async () => {
    try {
      while (!stopped) {
        if (buffer.length >= size) {
          await new Promise<void>((resolve) => (wakeProducer = resolve));
          continue;
        }
        const step = await iterator.next();
        if (step.done) break;
        buffer.push(step.value);
        wakeConsumer();
      }
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      wakeConsumer();
    }
  })();

  try {
    for (;;) {
      if (buffer.length > 0) {
        const item = buffer.shift() as T;
        wakeProducer();
        yield item;
      } else if (failure) {
        throw failure.error;
      } else if (ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (wakeConsumer = resolve));
      }
    }
  } finally {
    stopped = true;
    wakeProducer();
    // Queued behind a next() in flight, if any; then the source's own cleanup runs.
    if (!ended) await iterator.return?.(undefined).catch(() => {});
    await producing;
  }
}

/** One answer of a source's next(), or its failure, tagged with the source. */
type Settled<T> = { index: number; step: IteratorResult<T, unknown> } | { index: number; error: unknown };

/**
 * The items of `sources`, up to `concurrency` of them read at once, each at most `ahead`
 * items ahead of the one the consumer holds (at least 1: the merge always has one item
 * asked of every running source, the source whose item it hands on asked again as it does;
 * the rest through readAhead). So with items that take a while to use (a GWS page's
 * recordings), each source's next is on its way meanwhile. Whichever source has
 * an item ready gives it next, an earlier source first when several do, so the order
 * interleaves; a source starts, in order, when an earlier one is done. Backpressure per
 * source: while the consumer takes items of one, the others stop at `ahead`. When a
 * source fails, `cancel` runs (to end the others' waits at once), the others are closed
 * and the error is thrown; a consumer that stops early also cancels and closes them all.
 */
export async function* mergeConcurrently<T>(
  sources: Iterable<() => AsyncIterable<T>>,
  options: { concurrency: number; ahead: number; cancel?: () => void },
): AsyncGenerator<T, void, undefined> {
  const waiting = sources[Symbol.iterator]();
  // Insertion order is start order, so a race among ready answers favours the oldest source.
  const active = new Map<number, { iterator: AsyncIterator<T>; next: Promise<Settled<T>> }>();
  let started = 0;
  const ask = (index: number, iterator: AsyncIterator<T>): Promise<Settled<T>> =>
    iterator.next().then(
      (step) => ({ index, step }),
      (error: unknown) => ({ index, error }),
    );
  const startNext = (): boolean => {
    const next = waiting.next();
    if (next.done) return false;
    const index = started++;
    // One item per source is the merge's own pending ask: readAhead holds the rest.
    const iterable = options.ahead > 1 ? readAhead(next.value(), options.ahead - 1) : next.value();
    const iterator = iterable[Symbol.asyncIterator]();
    active.set(index, { iterator, next: ask(index, iterator) });
    return true;
  };

  try {
    while (active.size < Math.max(1, options.concurrency) && startNext());
    while (active.size > 0) {
      const answer = await Promise.race(Array.from(active.values(), (source) => source.next));
      if ('error' in answer) throw answer.error;
      if (answer.step.done) {
        active.delete(answer.index);
        startNext();
        continue;
      }
      // Asked again as its item is handed on: one item held by the consumer, one asked.
      const source = active.get(answer.index)!;
      source.next = ask(answer.index, source.iterator);
      yield answer.step.value;
    }
  } finally {
    if (active.size > 0) {
      options.cancel?.();
      await Promise.all(Array.from(active.values(), (source) => source.iterator.return?.(undefined).catch(() => {})));
    }
  }
}

/**
 * Maps each item through `fn` (sync or async) one at a time, in order, and passes each of
 * the values it returns (none, one or several) on. What `.flatMap(x => _(promise))` does,
 * without a highland stream per item (they are most of a 50k export's garbage). A
 * rejection fails the run.
 */
export function mapInTurn<T, R>(stream: Highland.Stream<T>, fn: (item: T) => R[] | Promise<R[]>): Highland.Stream<R> {
  return stream.consume<R>((err, item, push, next) => {
    if (err) {
      push(err);
      next();
    } else if (_.isNil(item)) {
      push(null, _.nil);
    } else {
      const emit = (values: R[]) => {
        for (const value of values) push(null, value);
        next();
      };
      let result: R[] | Promise<R[]>;
      try {
        result = fn(item);
      } catch (failure) {
        push(failure as Error);
        next();
        return;
      }
      if (Array.isArray(result)) emit(result);
      else
        result.then(emit, (failure: unknown) => {
          push(failure as Error);
          next();
        });
    }
  });
}
