// Pins concurrent GWS slices through the real CLI against the sandbox (SPEC §8, issue 15):
// with gwsConcurrency 3, small pages and short slices, a backup still ends with the
// complete byte-exact set and writes last_recording_endtime.txt (the window is done only
// when every slice is), and GWS is asked for the S3 settings once per run, however many
// slices run at once. The slices' own concurrency is pinned in gws-concurrent-slices.
import t from 'tap';
import { startBackupFixture } from './helpers/backup-run.js';
import { backupState } from './helpers/backup-state.js';

t.test('a backup with slices queried concurrently: complete, checkpointed, one settings call', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 16, seed: 15 }, config: { shardBy: 'PT6H', gwsPageSize: 2, gwsConcurrency: 3 } });
  const slicesAsked = new Set<string>();
  f.sandbox.gws.onRequest((info) => {
    if (info.route === '/recordings') slicesAsked.add(`${info.query.get('startTime')}-${info.query.get('endTime')}`);
  });

  const result = await f.backup();
  t.equal(result.code, 0, `exit 0\n${result.stderr.slice(-1500)}`);
  const state = backupState(f.targetDir, f.sandbox);
  t.same(state.problems, [], 'state consistent');
  t.ok(state.complete, `complete byte-exact set (missing: ${state.missing.join(', ')})`);
  t.ok(state.checkpoint, 'last_recording_endtime.txt written: every slice was done');
  t.ok(slicesAsked.size >= 4, `${slicesAsked.size} slices queried`);
  t.equal(f.sandbox.gws.requestCount('/me/settings/rcbs'), 1, 'the S3 settings asked once for the run');
});
