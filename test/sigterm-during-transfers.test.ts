// Pins graceful shutdown (issue 5; SPEC §2): SIGTERM is what Kubernetes sends a
// pod before SIGKILL after terminationGracePeriodSeconds. With transfers in
// flight, rcbs must finish or clean up the in-flight files and exit within a
// bounded time (here 10 s; measured), with exit 130 (the CLI uses 130 for
// SIGINT and SIGTERM alike), no temp file, nothing partial under a final name,
// an honest index, no last_recording_endtime.txt, and the lock released; a rerun
// then completes the byte-exact set.

import t from 'tap';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startSandbox } from '../src/sandbox/index.js';
import { runCli } from './helpers/cli.js';
import { backupState, progressOf, until, sandboxBackup } from './helpers/backup-state.js';

t.test('SIGTERM with transfers in flight: bounded, clean exit 130, then a rerun completes', async (t) => {
  const sandbox = await startSandbox({ recordings: 16, oddities: false, seed: 31, mediaSize: { min: 150_000, max: 400_000 } });
  t.teardown(() => sandbox.close());
  const { targetDir, config, env } = sandboxBackup(t.testdir(), sandbox, { numThreads: 4 });

  let signalledAt = 0;
  let inFlight = 0;
  const result = await runCli(['-config', config], {
    env,
    onSpawn: (child) => {
      void until(() => progressOf(targetDir).temps > 0, 15_000, 2).then(() => {
        inFlight = progressOf(targetDir).temps;
        signalledAt = Date.now();
        child.kill('SIGTERM');
      });
    },
  });
  const stopMs = Date.now() - signalledAt;
  t.comment(`SIGTERM with ${inFlight} transfer(s) in flight: exited ${result.code} after ${stopMs} ms`);
  t.ok(inFlight > 0, 'the signal came with transfers in flight');
  t.ok(stopMs < 10_000, `exited within 10 s of SIGTERM (${stopMs} ms)`);
  t.equal(result.code, 130, result.stderr.slice(-1500));
  t.match(result.stderr, /SIGTERM received, stopping/);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
  const state = backupState(targetDir, sandbox);
  t.same(state.problems, [], 'nothing partial under a final name, index honest');
  t.same(state.temps, [], 'in-flight temp files finished or removed');
  t.ok(state.missing.length > 0, `stopped early: ${state.missing.length} media left for the next run`);
  t.equal(state.checkpoint, undefined, 'no checkpoint for an interrupted run');
  t.notOk(existsSync(path.join(targetDir, '.rcbs', 'lock')), 'the lock is released');

  const rerun = await runCli(['-config', config], { env });
  t.equal(rerun.code, 0, rerun.stderr.slice(-1500));
  t.notMatch(rerun.stderr, /took over a stale lock/, 'no stale lock to take over');
  const final = backupState(targetDir, sandbox);
  t.same(final.problems, []);
  t.ok(final.complete, 'the rerun completes the byte-exact set');
  t.ok(final.checkpoint);
});
