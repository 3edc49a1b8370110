// Pins SPEC §5 "one instance per targetDir": while a backup is mid-transfer (the
// S3 proxy stalls its bodies, so it surely holds the lock), a second
// `rcbs -config` on the same targetDir exits 3 at once and names the holder's pid
// and host on stderr, touching nothing; the first run then finishes normally.
import t from 'tap';
import os from 'node:os';
import { mismatchedMedia, startBackupFixture, tempFiles, until } from './helpers/backup-run.js';

t.test('a second run on a locked targetDir exits 3 at once, naming the holder', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 6, seed: 41 } });
  f.proxy.hold(300);
  let holder: import('node:child_process').ChildProcess | undefined;
  const firstRun = f.backup({ onSpawn: (c) => (holder = c) });
  // numThreads defaults to 4: once 4 transfers stall, the first run starts no more GETs.
  let temps: string[] = [];
  await until(
    'the first run to have its 4 transfers stalled',
    async () => {
      temps = await tempFiles(f.targetDir);
      const gets = f.proxy.gets();
      return temps.length === 4 && gets.length === 4 && gets.every((g) => g.bodyBytes === 300) ? true : undefined;
    },
    20_000,
    () => `temp files ${temps.length}, GETs ${JSON.stringify(f.proxy.gets())}`,
  );

  const getsBefore = f.proxy.gets().length;
  const started = Date.now();
  const second = await f.backup();
  const elapsed = Date.now() - started;
  t.equal(second.code, 3, `exit 3\n${second.stderr}`);
  t.ok(elapsed < 10_000, `it does not wait for the lock (${elapsed} ms)`);
  t.match(second.stderr, /RCBS_LOCK_HELD/);
  t.match(second.stderr, new RegExp(`\\b${holder!.pid}\\b`), "stderr names the holder's pid");
  t.match(second.stderr, os.hostname(), "and the holder's host");
  t.equal(f.proxy.gets().length, getsBefore, 'the second run fetched nothing');

  f.proxy.release();
  const first = await firstRun;
  t.equal(first.code, 0, `the holder finishes normally\n${first.stderr}`);
  t.same(await mismatchedMedia(f.targetDir, f.wanted), []);
  const third = await f.backup();
  t.equal(third.code, 0, 'the lock is released at the end of the run');
});
