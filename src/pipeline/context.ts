// Builds the RunContext the components receive. The runner uses it, and so do
// component tests, so a test runs a component exactly as a real run does.

import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { RcbsConfig, Credentials } from '../config/types.js';
import { silentLogger, type Logger } from '../log.js';
import type { Store } from '../store/types.js';
import type { Counters, RunContext, RunTotals } from './types.js';

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

export function emptyTotals(): RunTotals {
  return { recordings: 0, downloaded: 0, skipped: 0, failed: 0, archived: 0, quarantined: 0, dropped: 0, decrypted: 0, verified: 0, bytes: 0, checkedBy: {}, failures: [] };
}

export function newCounters(): Counters {
  return { in: 0, out: 0, dropped: 0, failed: 0 };
}

export function createRunContext(options: RunContextOptions): RunContext {
  let storePromise: Promise<Store> | undefined;
  const openStore = options.openStore;
  return {
    config: options.config,
    credentials: Object.freeze({ ...(options.credentials ?? {}) }),
    log: options.log ?? silentLogger,
    signal: options.signal ?? new AbortController().signal,
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
    counters: new Map(),
    totals: emptyTotals(),
    progress: options.onProgress ?? (() => {}),
  };
}
