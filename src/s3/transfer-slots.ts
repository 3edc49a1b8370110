// A counting semaphore: at most `size` S3 transfers in flight across all records,
// whatever the number of media files per record (SPEC §3 downloadMode/numThreads).
//
// Waiters are served largest known size first (SPEC §8): over a real network a big
// object is one long stream, and if it started last it would leave a tail where the
// link sits mostly idle. Among equal (or unknown) sizes, arrival order, so records
// still complete roughly in order. Only transfers already waiting are reordered:
// the read-ahead in front of the sink bounds how far ahead that looks.

/** Gives the slot to the transfer waiting next, if one waits: true when it did (then the
 * task goes on without a slot); false, and the slot is kept, when nobody waits. */
export type HandOff = () => boolean;

interface Waiter {
  size: number;
  arrival: number;
  start: () => void;
}

export class TransferSlots {
  #free: number;
  #arrivals = 0;
  readonly #waiting: Waiter[] = [];

  constructor(readonly size: number) {
    this.#free = size;
  }

  /**
   * Runs `task` when a slot is free; `sizeHint` (bytes, if known) orders the waiters.
   * `task` may hand its slot on before it ends (`handOff`): a large object whose other
   * parts go on spare connections lets the next transfer start (parts.ts).
   */
  async run<T>(task: (handOff: HandOff) => Promise<T>, sizeHint?: number): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((start) => this.#waiting.push({ size: sizeHint ?? -1, arrival: this.#arrivals++, start }));
    let held = true;
    const handOff: HandOff = () => {
      if (!held) return false;
      const next = this.#takeNext();
      if (!next) return false;
      held = false;
      next.start();
      return true;
    };
    try {
      return await task(handOff);
    } finally {
      // Hand the slot straight to the next waiter, or give it back.
      if (held) {
        const next = this.#takeNext();
        if (next) next.start();
        else this.#free++;
      }
    }
  }

  /** The largest waiter, the earliest among equals. A linear scan: at most a few times
   * the concurrency are ever waiting. */
  #takeNext(): Waiter | undefined {
    let best = -1;
    for (let i = 0; i < this.#waiting.length; i++) {
      const w = this.#waiting[i]!;
      const b = best === -1 ? undefined : this.#waiting[best]!;
      if (!b || w.size > b.size || (w.size === b.size && w.arrival < b.arrival)) best = i;
    }
    return best === -1 ? undefined : this.#waiting.splice(best, 1)[0];
  }
}
