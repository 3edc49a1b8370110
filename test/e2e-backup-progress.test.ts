// Pins the progress line's switch (SPEC §2, src/pipeline/report.ts): with
// `--progress` stderr carries the one-line display (recordings, files, bytes,
// rate, ETA) even without a TTY; without a TTY and without --progress it never
// appears (log files and CI output stay clean), while the summary always does.
// Transfers are held by the S3 proxy so the run lasts long enough for the line to
// be drawn (it redraws every 250 ms).
import t from 'tap';
import { startBackupFixture, tempFiles, until } from './helpers/backup-run.js';

const PROGRESS_LINE = /\rrecordings \d+ {2}files \d+ {2}[\d.]+ [KMG]?i?B(?: of [\d.]+ [KMG]?i?B)? {2}[\d.]+ [KMG]?i?B\/s {2}ETA /;

t.test('--progress shows the line on a non-TTY stderr', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 4, seed: 81 } });
  f.proxy.hold(200);
  let stderr = '';
  const run = f.cli(['run', 'backup', '--config', f.configPath, '--progress'], { onSpawn: (c) => c.stderr!.on('data', (d: string) => (stderr += d)) });
  await until('the progress line', () => (PROGRESS_LINE.test(stderr) ? true : undefined));
  f.proxy.release();
  const done = await run;
  t.equal(done.code, 0, done.stderr);
  t.match(done.stderr, PROGRESS_LINE);
  t.match(done.stderr, /rcbs backup: finished/, 'and the summary');
});

t.test('no TTY, no --progress: no progress line', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 4, seed: 81 } });
  f.proxy.hold(200);
  const run = f.cli(['run', 'backup', '--config', f.configPath]);
  await until('transfers to be stalled', async () => ((await tempFiles(f.targetDir)).length > 0 ? true : undefined));
  // Proving an absence needs time: four redraw periods of the progress timer.
  await new Promise((r) => setTimeout(r, 1000));
  f.proxy.release();
  const done = await run;
  t.equal(done.code, 0, done.stderr);
  t.notMatch(done.stderr, /\rrecordings \d+/, 'no progress line');
  t.notMatch(done.stderr, /\r/, 'no carriage return at all');
  t.match(done.stderr, /rcbs backup: finished/, 'the summary is still printed');
});
