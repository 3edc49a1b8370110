// Pins the s3-download sink's resume path (store.findPartial + resumeFrom, SPEC §5
// "an interrupted transfer resumes with a Range request"): a run SIGKILLed with
// exactly 20000 bytes of a 64 KiB object in its temp file leaves that temp file;
// the rerun asks S3 only for the rest (`Range: bytes=20000-`, the proxy counts the
// body bytes it relays) and the final file is byte-identical to the object.
// Without the resume it would fetch the whole object again.
import t from 'tap';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { mismatchedMedia, startBackupFixture, tempFiles, until } from './helpers/backup-run.js';

const HELD = 20_000;

t.test('a partial left by a killed run is resumed, not re-fetched', async (t) => {
  const f = await startBackupFixture(t, {
    sandbox: { recordings: 2, seed: 5, mediaSize: 64 * 1024, maxSegments: 1 },
    config: { downloadMode: 'single' },
  });
  f.proxy.hold(HELD, 0);
  let child: import('node:child_process').ChildProcess | undefined;
  const killed = f.backup({ onSpawn: (c) => (child = c) });
  const [partial] = await until('the first transfer to have its held bytes on disk', async () => {
    const temps = await tempFiles(f.targetDir);
    for (const p of temps) if ((await stat(path.join(f.targetDir, p))).size === HELD) return [p];
    return undefined;
  });
  child!.kill('SIGKILL');
  await killed;
  const w = f.wanted.find((x) => partial!.startsWith(path.posix.dirname(x.relPath) + '/.' + path.posix.basename(x.relPath) + '.'));
  t.ok(w, `the temp file ${partial} belongs to a wanted media`);
  t.same(await tempFiles(f.targetDir), [partial], 'the killed run left exactly its one temp file');

  f.proxy.release();
  const before = f.proxy.gets().length;
  const rerun = await f.backup();
  t.equal(rerun.code, 0, `rerun exits 0\n${rerun.stderr}`);
  const gets = f.proxy.gets().slice(before);
  const forPartial = gets.filter((r) => r.key === w!.media.key);
  t.equal(forPartial.length, 1, 'one request for the partial media');
  t.equal(forPartial[0]!.range, `bytes=${HELD}-`, 'it asks for the rest only');
  t.equal(forPartial[0]!.bodyBytes, w!.media.encryptedSize! - HELD, 'and receives only the missing bytes');
  for (const r of gets.filter((r) => r.key !== w!.media.key)) t.equal(r.range, undefined, `${r.key}: fetched whole`);
  t.same(await mismatchedMedia(f.targetDir, f.wanted), [], 'every file byte-exact, the resumed one included');
  t.same(await tempFiles(f.targetDir), [], 'no temp file left');
});
