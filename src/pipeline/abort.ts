// One abort listener on the run's signal, however many operations are in flight.
// Each transfer, GWS request and decrypt used to hand the run's AbortSignal to
// the SDK, undici and stream.pipeline, which each add their own 'abort' listener
// for as long as the operation lasts (2-3 per S3 transfer): at numThreads 8 with
// decryptDir set that passed Node's limit of 10 and printed
// MaxListenersExceededWarning. An operation now gets its own signal, aborted
// through a single fan-out listener on the run's signal, and lets go of it when it
// ends; the run's signal then holds a fixed number of listeners.
//
// The fan-out listener goes once no operation is left on its signal. A signal made for
// a few operations (AbortSignal.any: a GWS page asked ahead follows the run's signal and
// its own stop) is kept alive by Node for as long as it has an 'abort' listener and its
// sources live: with the listener left in place, every page asked ahead stayed in memory
// until the run ended (heap snapshots 1.5 s apart in a 50k export: +128 AbortControllers,
// +256 signals, WeakRefs and Sets; BENCHMARKS.md, issue 14 run 10).

interface FanOut {
  readonly controllers: Set<AbortController>;
  readonly onAbort: () => void;
}

const fanOuts = new WeakMap<AbortSignal, FanOut>();

export interface OperationSignal {
  readonly signal: AbortSignal;
  /** The operation ended: its signal no longer follows the run's. */
  release(): void;
}

/** A signal for one operation that aborts when `parent` does. Call `release()` when the operation ends. */
export function operationSignal(parent: AbortSignal): OperationSignal {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, release: () => {} };
  }
  let fanOut = fanOuts.get(parent);
  if (!fanOut) {
    const controllers = new Set<AbortController>();
    const onAbort = () => {
      fanOuts.delete(parent);
      for (const c of controllers) c.abort(parent.reason);
      controllers.clear();
    };
    fanOut = { controllers, onAbort };
    fanOuts.set(parent, fanOut);
    parent.addEventListener('abort', onAbort, { once: true });
  }
  const own = fanOut;
  own.controllers.add(controller);
  return {
    signal: controller.signal,
    release: () => {
      if (!own.controllers.delete(controller) || own.controllers.size > 0) return;
      parent.removeEventListener('abort', own.onAbort);
      fanOuts.delete(parent);
    },
  };
}

/** Runs `operation` with its own signal that follows `parent`. */
export async function withOperationSignal<T>(parent: AbortSignal, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const op = operationSignal(parent);
  try {
    return await operation(op.signal);
  } finally {
    op.release();
  }
}
