// Pins crash safety (SPEC §5, issue 5): `kill -9` at different points of a real
// backup (GWS paging, first transfers in flight, half the files done) never leaves
// a half file under a final name, a corrupt index or a checkpoint past a missing
// recording; the next run takes over the dead holder's lock and completes the
// byte-exact set. CI runs 3 kills; bench/soak.sh runs 20 at random points.

import t from 'tap';
import { startSandbox } from '../src/sandbox/index.js';
import { runCli } from './helpers/cli.js';
import { backupState, progressOf, until, sandboxBackup } from './helpers/backup-state.js';

t.test('kill -9 during paging, in the first transfers and half way; then a rerun completes', async (t) => {
  const sandbox = await startSandbox({ recordings: 40, oddities: false, mediaSize: { min: 40_000, max: 160_000 }, seed: 9 });
  t.teardown(() => sandbox.close());
  const { targetDir, config, env } = sandboxBackup(t.testdir(), sandbox, { numThreads: 4 });
  const total = backupState(targetDir, sandbox);
  t.ok(total.missing.length >= 40, `the sandbox has ${total.missing.length} wanted media`);

  const killPoints: { name: string; when: () => boolean }[] = [
    { name: 'right after start (GWS paging, lock just taken)', when: () => true },
    { name: 'with the first transfers in flight', when: () => progressOf(targetDir).temps > 0 },
    { name: 'about half the files done', when: () => progressOf(targetDir).finals >= total.missing.length / 2 },
  ];
  for (const point of killPoints) {
    let killedAt: ReturnType<typeof progressOf> | undefined;
    const result = await runCli(['-config', config], {
      env,
      onSpawn: (child) => {
        void until(point.when, 15_000, 2).then(() => {
          killedAt = progressOf(targetDir);
          child.kill('SIGKILL');
        });
      },
    });
    const state = backupState(targetDir, sandbox);
    t.comment(`${point.name}: exit ${result.code ?? result.signal}, ${state.media.size} media, ${state.temps.length} temp files at the kill: ${JSON.stringify(killedAt)}`);
    t.same(state.problems, [], `after kill -9 ${point.name}: nothing partial under a final name, index and checkpoint honest`);
  }

  const rerun = await runCli(['-config', config], { env });
  t.equal(rerun.code, 0, rerun.stderr.slice(-2000));
  t.match(rerun.stderr, /took over a stale lock|running pipeline/);
  const final = backupState(targetDir, sandbox);
  t.same(final.problems, []);
  t.same(final.missing, [], 'every wanted media is there, byte-exact');
  t.ok(final.complete, 'every recording has its metadata');
  t.ok(final.checkpoint !== undefined, 'the checkpoint is written once all is done');
  t.same(final.temps, [], 'temp files of killed runs were cleaned up by the rerun');
});
