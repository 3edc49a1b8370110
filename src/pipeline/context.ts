// Builds the RunContext the components receive. The runner uses it, and so do
// component tests, so a test runs a component exactly as a real run does.

import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { RcbsConfig, Credentials } from '../config/types.js';
import type { RcbsError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { Store } from '../store/types.js';
import type { RunContext } from './types.js';

export interface RunContextOptions {
  config: Readonly<RcbsConfig>;
  credentials?: Credentials;
  log?: Logger;
  signal?: AbortSignal;
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
  now?: number;
  stdin?: Readable;
  stdout?: Writable;
  /** Opens the store; called at most once. */
  openStore?: () => Promise<Store>;
  onProgress?: RunContext['progress'];
}

export function createRunContext(options: RunContextOptions): RunContext {
  let storePromise: Promise<Store> | undefined;
  const openStore = options.openStore;
  // stopRun aborts the same signal components already honour for Ctrl-C, so a
  // run-stopping failure needs no second way of winding down.
  const stopper = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopper.signal]) : stopper.signal;
  let stopError: RcbsError | undefined;
  return {
    config: options.config,
    credentials: Object.freeze({ ...(options.credentials ?? {}) }),
    log: options.log ?? silentLogger,
    signal,
    dryRun: options.dryRun ?? false,
    env: options.env ?? process.env,
    now: options.now ?? Date.now(),
    stdin: options.stdin ?? new PassThrough(),
    stdout: options.stdout ?? new PassThrough(),
    store() {
      if (!openStore) throw new Error('this run has no target store');
      storePromise ??= openStore();
      return storePromise;
    },
    stopRun(error) {
      if (stopError || signal.aborted) return;
      stopError = error;
      stopper.abort(error);
    },
    get stopError() {
      return stopError;
    },
    progress: options.onProgress ?? (() => {}),
  };
}
