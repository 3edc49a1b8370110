// Pins what a backup does when the target disk cannot take the data (issue 5):
// - the disk fills up mid-run (a 192 KiB tmpfs; needs root and mount, skipped
//   with the reason otherwise): the run stops, exit 4 with one RCBS_TARGET_UNAVAILABLE
//   message (SPEC §2), no temp file and no partial file under a final name, index
//   honest, no checkpoint;
// - the folder turns read-only (tmpfs remounted ro; root ignores chmod, so a mode
//   change would prove nothing): exit 4, a clear error, no stack trace, nothing changed;
// - the file-size limit (`ulimit -f`, works unprivileged): files over the limit fail
//   with EFBIG and leave nothing behind, smaller ones land byte-exact;
// and in each case a rerun with room completes the byte-exact set.

import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox } from '../src/sandbox/index.js';
import { CLI, runCli } from './helpers/cli.js';
import { backupState, cliEnv, sandboxBackup } from './helpers/backup-state.js';

function tryMount(dir: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? err).trim() || 'not root'})`;
  }
}

t.test('disk full, then read-only, then room again', async (t) => {
  // Outside tap's fixture folder: it must be unmounted before anything removes it.
  const base = mkdtempSync(path.join(os.tmpdir(), 'rcbs-diskfull-'));
  const mountPoint = path.join(base, 'disk');
  mkdirSync(mountPoint);
  const why = tryMount(mountPoint);
  if (why) {
    rmSync(base, { recursive: true, force: true });
    t.comment(`skipped: ${why}`);
    return;
  }
  t.teardown(() => {
    execFileSync('umount', [mountPoint]);
    rmSync(base, { recursive: true, force: true });
  });

  const sandbox = await startSandbox({ recordings: 10, oddities: false, seed: 21, maxSegments: 2, mediaSize: { min: 20_000, max: 40_000 } });
  t.teardown(() => sandbox.close());
  const targetDir = path.join(mountPoint, 'target');
  const config = path.join(path.dirname(mountPoint), 'config.properties');
  writeFileSync(config, sandbox.configProperties(targetDir));
  const env = cliEnv(sandbox.env());

  const full = await runCli(['-config', config], { env });
  t.equal(full.code, 4, `disk full: exit 4, the run cannot go on\n${full.stderr.slice(-1500)}`);
  t.match(full.stderr, /ENOSPC|no space/i, 'the reason says the disk is full');
  t.match(full.stderr, /RCBS_TARGET_UNAVAILABLE/);
  t.notMatch(full.stderr, /failures \(/, 'one message, no cascade of per-file failures');
  t.notMatch(full.stderr, /\n\s+at /, 'no stack trace');
  let state = backupState(targetDir, sandbox);
  t.same(state.problems, [], 'disk full: nothing partial under a final name, index honest, no checkpoint past a gap');
  t.ok(state.missing.length > 0, `disk full: ${state.missing.length} media could not be written`);
  t.equal(state.checkpoint, undefined, 'disk full: no checkpoint');
  t.same(state.temps, [], 'disk full: temp files removed');
  const before = JSON.stringify(readdirSync(targetDir, { recursive: true }).sort());

  execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
  const readOnly = await runCli(['-config', config], { env });
  t.equal(readOnly.code, 4, `read-only: the run cannot start (exit ${readOnly.code})`);
  t.match(readOnly.stderr, /EROFS|read-only/i, 'the reason says the folder is read-only');
  t.match(readOnly.stderr, /RCBS_TARGET_UNAVAILABLE/);
  t.notMatch(readOnly.stderr, /\n\s+at /, 'no stack trace');
  t.equal(JSON.stringify(readdirSync(targetDir, { recursive: true }).sort()), before, 'read-only: nothing changed');

  execFileSync('mount', ['-o', 'remount,rw,size=8m', mountPoint]);
  const rerun = await runCli(['-config', config], { env });
  t.equal(rerun.code, 0, rerun.stderr.slice(-1500));
  state = backupState(targetDir, sandbox);
  t.same(state.problems, []);
  t.ok(state.complete, 'room again: the complete byte-exact set');
  t.ok(state.checkpoint, 'room again: checkpoint written');
  t.same(state.temps, []);
});

t.test('ulimit -f: files over the size limit fail with EFBIG and leave nothing behind', async (t) => {
  const sandbox = await startSandbox({ recordings: 8, oddities: false, seed: 22, maxSegments: 1, mediaSize: { min: 10_000, max: 60_000 } });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  const { targetDir, config, env } = sandboxBackup(dir, sandbox);
  // 32 KiB: some encrypted media are larger, some smaller (ulimit -f counts 1024-byte blocks).
  // tap's processinfo hook puts itself back into a child's NODE_OPTIONS and would write its own
  // report under the same limit at exit: unset it so only rcbs's behaviour is measured.
  const child = spawn('bash', ['-c', 'ulimit -f 32; unset NODE_OPTIONS; exec "$0" "$@"', process.execPath, CLI, '-config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  t.equal(signal, null, 'not killed by SIGXFSZ (Node ignores it, so writes fail with EFBIG)');
  t.equal(code, 1, `exit 1\n${stderr.slice(-1500)}`);
  t.match(stderr, /EFBIG|too large/i);
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');
  const state = backupState(targetDir, sandbox);
  t.same(state.problems, [], 'nothing partial under a final name');
  t.same(state.temps, [], 'temp files removed');
  t.ok(state.missing.length > 0 && state.media.size > 0, `${state.media.size} small media landed, ${state.missing.length} large ones failed`);
  for (const id of state.missing) t.ok(sandbox.media(id)!.encryptedSize! > 32 * 1024, `${id} failed because it is over the limit`);
  t.equal(state.checkpoint, undefined, 'no checkpoint');

  const rerun = await runCli(['-config', config], { env });
  t.equal(rerun.code, 0, rerun.stderr.slice(-1500));
  t.ok(backupState(targetDir, sandbox).complete, 'without the limit the rerun completes');
});
