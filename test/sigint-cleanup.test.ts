// Pins what Ctrl-C does to a backup mid-transfer (SPEC §2/§3, STYLE "Ctrl-C
// leaves no temp file"): the CLI exits 130, the transfers in flight are cancelled
// and their temp files removed (src/sinks/s3-download.ts), no half file gets a
// final name, last_recording_endtime.txt is not advanced (the window is not
// complete), the transfers cut short count as not done (not failed) in the summary
// and the run report, and a rerun completes the set. The S3 proxy stalls the bodies after
// 500 bytes, so SIGINT surely lands mid-transfer.
import t from 'tap';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { listFiles, mismatchedMedia, startBackupFixture, tempFiles, until } from './helpers/backup-run.js';

t.test('SIGINT during transfers: exit 130, no temp file, checkpoint kept, rerun completes', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 8, seed: 31 } });
  const checkpoint = path.join(f.targetDir, '.rcbs', 'last_recording_endtime.txt');

  const first = await f.backup();
  t.equal(first.code, 0, `a first complete run\n${first.stderr}`);
  const firstEnd = Number(await readFile(checkpoint, 'utf8'));
  t.ok(firstEnd > 0);

  // Three files moved away: the next run has transfers to do.
  const gone = f.wanted.slice(0, 3);
  for (const w of gone) await rm(path.join(f.targetDir, w.relPath));
  f.proxy.hold(500);
  let child: import('node:child_process').ChildProcess | undefined;
  const interrupted = f.backup({ onSpawn: (c) => (child = c) });
  await until('the transfers to be under way', async () => {
    const temps = await tempFiles(f.targetDir);
    let mid = 0;
    for (const p of temps) if ((await stat(path.join(f.targetDir, p)).catch(() => undefined))?.size === 500) mid++;
    return mid === gone.length ? true : undefined;
  });
  child!.kill('SIGINT');
  const run = await interrupted;
  t.equal(run.code, 130, `exit 130\n${run.stderr}`);
  t.match(run.stderr, /SIGINT received/);
  t.same(await tempFiles(f.targetDir), [], 'the in-flight temp files were removed');
  const bins = (await listFiles(f.targetDir)).filter((p) => p.endsWith('.bin'));
  for (const w of gone) t.notOk(bins.includes(w.relPath), `${w.relPath}: no half file under the final name`);
  t.equal(Number(await readFile(checkpoint, 'utf8')), firstEnd, 'last_recording_endtime.txt is not advanced');
  t.match(run.stderr, /checkpoint\s+not advanced/);
  // The transfers cut short are work not done, not failures (SPEC §2: exit 130, not 1).
  t.match(run.stderr, /not done\s+3 files/, 'the interrupted transfers are counted as not done');
  t.match(run.stderr, /failed\s+0\n/, 'and not as failures');
  t.notMatch(run.stderr, /RCBS_ABORTED/, 'no per-file error for work the run stopped before');
  const [report] = (await readdir(path.join(f.targetDir, '.rcbs', 'runs'))).sort().slice(-1);
  t.match(JSON.parse(await readFile(path.join(f.targetDir, '.rcbs', 'runs', report!), 'utf8')), { status: 'interrupted', exitCode: 130, totals: { failed: 0, interrupted: 3 }, failures: [] }, 'the run report says so too');

  f.proxy.release();
  const rerun = await f.backup();
  t.equal(rerun.code, 0, `rerun exits 0\n${rerun.stderr}`);
  t.same(await mismatchedMedia(f.targetDir, f.wanted), [], 'the set is complete and byte-exact');
  t.same(await tempFiles(f.targetDir), [], 'no temp file');
  t.ok(Number(await readFile(checkpoint, 'utf8')) > firstEnd, 'the complete rerun advances the checkpoint');
});
