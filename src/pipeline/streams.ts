// The two edges between highland (inside the pipeline) and Node streams (stdin,
// stdout, files): both pull one value at a time, so backpressure holds end to end
// and an error anywhere reaches the runner instead of being swallowed — highland's
// own wrappers are weak exactly there (FACTS.md).

import { Readable } from 'node:stream';
import _ from 'highland';

/** A lazy highland stream over an async iterable: the next item is asked for only when pulled. */
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
  // Closing early (| head, abort) lets the iterable release its resources.
  stream.on('end', () => {
    if (!finished) void iterator.return?.();
  });
  return stream;
}

/** A Node Readable (object mode) that pulls from a highland stream and fails on its first error. */
export function toReadable<T>(stream: Highland.Stream<T>, highWaterMark = 16): Readable {
  return new Readable({
    objectMode: true,
    highWaterMark,
    read() {
      stream.pull((err, value) => {
        if (err) this.destroy(err);
        else if (_.isNil(value)) this.push(null);
        else this.push(value);
      });
    },
    destroy(err, callback) {
      stream.destroy();
      callback(err);
    },
  });
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
