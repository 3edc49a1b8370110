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
  /** Where each config key came from; absent = every key as the defaults gave it. */
  configSources?: Readonly<Record<string, string>>;
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
    configSources: options.configSources ?? {},
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

type RunEndHook = (complete: boolean) => Promise<void>;
const runEndHooks = new WeakMap<RunContext, RunEndHook[]>();

/** Registers work for the end of the run, after the last record: `complete` is true
 * when the run went through (not stopped early, not failed). A sink that writes files
 * whole (the `file` sink) renames them into place then, or removes them. */
export function onRunEnd(context: RunContext, hook: RunEndHook): void {
  const hooks = runEndHooks.get(context) ?? [];
  hooks.push(hook);
  runEndHooks.set(context, hooks);
}

/** Runs the end-of-run hooks once (the runner calls it); the first failure is thrown
 * after every hook has run, so one sink's failure does not leave another's temp files. */
export async function settleRunEnd(context: RunContext, complete: boolean): Promise<void> {
  const hooks = runEndHooks.get(context) ?? [];
  runEndHooks.delete(context);
  let failure: { error: unknown } | undefined;
  for (const hook of hooks) {
    try {
      await hook(complete && !failure);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}
