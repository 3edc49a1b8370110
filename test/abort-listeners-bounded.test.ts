// Pins issue 13's MaxListenersExceededWarning: every S3 transfer, GWS request and
// decrypt used to add its own 'abort' listener to the run's one AbortSignal (the
// SDK's retry race and HTTP handler, stream.pipeline, undici), for as long as it
// lasted. A backup with decryptDir at numThreads 16 passed Node's limit of 10 and
// printed the warning on stderr. Each operation now has its own signal, fed by one
// fan-out listener on the run's (src/pipeline/abort.ts): a real sandbox backup
// with decryptDir prints no such warning, and its stderr is captured whole.
import t from 'tap';
import path from 'node:path';
import { startSandbox } from '../src/sandbox/index.js';
import { writeFileSync } from 'node:fs';
import { runCli } from './helpers/cli.js';
import { backupState, sandboxBackup } from './helpers/backup-state.js';
import { operationSignal } from '../src/pipeline/abort.js';
import { getEventListeners } from 'node:events';
import { collector } from '../src/heap.js';

t.test('a backup with decryptDir at numThreads 16 prints no listener warning', async (t) => {
  const sandbox = await startSandbox({ recordings: 30, oddities: false, seed: 13, mediaSize: { min: 100_000, max: 300_000 } });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  const keyPath = path.join(dir, 'key.pem');
  writeFileSync(keyPath, sandbox.keyPem);
  const decryptDir = path.join(dir, 'decrypted');
  const { targetDir, config, env } = sandboxBackup(dir, sandbox, { decryptDir, decryptKey: keyPath, numThreads: 16 });
  const run = await runCli(['-config', config], { env });
  t.equal(run.code, 0, run.stderr.slice(-1500));
  t.notMatch(run.stderr, /MaxListenersExceeded|\(node:\d+\)/, 'no MaxListenersExceededWarning (nor any raw Node warning) on stderr');
  t.match(run.stderr, /decrypted\s+\d+ files/, 'the decrypt sink ran');
  t.ok(backupState(targetDir, sandbox).complete, 'the backup is complete');
});

t.test('operation signals: one listener on the parent, aborted with it, released when done', async (t) => {
  const parent = new AbortController();
  const ops = Array.from({ length: 50 }, () => operationSignal(parent.signal));
  t.equal(getEventListeners(parent.signal, 'abort').length, 1, '50 operations, one listener on the parent');
  ops[0]!.release();
  parent.abort(new Error('SIGINT'));
  t.notOk(ops[0]!.signal.aborted, 'a released operation no longer follows the parent');
  t.ok(ops.slice(1).every((op) => op.signal.aborted), 'every other operation is aborted with the parent');
  t.ok(operationSignal(parent.signal).signal.aborted, 'an operation started after the abort starts aborted');
});

t.test('the fan-out listener goes with the last operation, and comes back with the next', async (t) => {
  const parent = new AbortController();
  const first = operationSignal(parent.signal);
  const second = operationSignal(parent.signal);
  first.release();
  t.equal(getEventListeners(parent.signal, 'abort').length, 1, 'one operation left: the listener stays');
  second.release();
  second.release();
  t.equal(getEventListeners(parent.signal, 'abort').length, 0, 'none left: no listener on the parent');
  const third = operationSignal(parent.signal);
  t.equal(getEventListeners(parent.signal, 'abort').length, 1, 'a new operation adds it again');
  parent.abort(new Error('SIGTERM'));
  t.ok(third.signal.aborted, 'and follows the parent');
  third.release();
});

t.test('a signal made for a few operations (AbortSignal.any) is collected once they are done', async (t) => {
  const gc = collector();
  if (!gc) return void t.fail('V8 gc() could not be had (src/heap.ts collector)');
  const run = new AbortController();
  let collected = 0;
  const registry = new FinalizationRegistry(() => collected++);
  // In a function of its own, so that no local of the test holds the last one.
  const onePage = (page: number): void => {
    const pageSignal = AbortSignal.any([run.signal, new AbortController().signal]);
    operationSignal(pageSignal).release();
    registry.register(pageSignal, page);
  };
  for (let page = 0; page < 100; page++) onePage(page);
  // Finalizers run after a full GC, on a later turn.
  for (let turn = 0; turn < 20 && collected < 100; turn++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.equal(collected, 100, 'all 100 page signals were collected');
});
