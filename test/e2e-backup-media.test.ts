// Pins issue 7's "Done when" through the real CLI against the sandbox: after
// `rcbs -config config.properties` every wanted media file is byte-identical to its
// S3 object at <targetDir>/<tenant>/<yyyy/MM/dd/HH>/<mediaId>.bin with the recording
// JSON beside it (SPEC §5), and nothing else lands there; a rerun sends no S3 GET
// and says "skipped"; a .bin moved away is fetched again, and only that one.
// Expectations come from the sandbox's own data (paths, MD5 of the encrypted
// objects), and S3 GETs are counted by an HTTP proxy in front of s3rver.
import t from 'tap';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { listFiles, mismatchedMedia, startBackupFixture, tempFiles } from './helpers/backup-run.js';

t.test('backup, rerun, re-fetch of a moved-away file', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 12, seed: 7 } });
  t.ok(f.wanted.length >= 12, `the sandbox has ${f.wanted.length} wanted media`);

  const first = await f.backup();
  t.equal(first.code, 0, `first run exits 0\n${first.stderr}`);
  t.same(await mismatchedMedia(f.targetDir, f.wanted), [], 'every wanted media file is byte-identical to its S3 object at its §5 path');

  const recordings = new Map(f.wanted.map((w) => [w.recording.id!, w.recording]));
  const expectedFiles = [
    ...f.wanted.map((w) => w.relPath),
    ...[...recordings.values()].map((r) => `${path.posix.dirname(f.wanted.find((w) => w.recording === r)!.relPath)}/${r.id}.json`),
  ].sort();
  t.same(await listFiles(f.targetDir), expectedFiles, 'exactly the wanted .bin files and their recordings\' JSON, nothing else (no oddity, no temp file)');
  for (const [id, r] of recordings) {
    const rel = expectedFiles.find((p) => p.endsWith(`/${id}.json`))!;
    t.same(JSON.parse(await readFile(path.join(f.targetDir, rel), 'utf8')), r.recording, `${id}.json is the metadata as GWS served it`);
  }
  t.same(await tempFiles(f.targetDir), [], 'no temp file left');
  t.equal(f.proxy.gets().length, f.wanted.length, 'one GET per wanted media');
  t.match(first.stderr, new RegExp(`downloaded\\s+${f.wanted.length} files`));

  // Rerun: everything is in the index and on disk with its size.
  const before = f.proxy.requests.length;
  const second = await f.backup();
  t.equal(second.code, 0, `rerun exits 0\n${second.stderr}`);
  t.equal(f.proxy.requests.length - before, 0, 'the rerun sends no request to S3 at all');
  t.match(second.stderr, /downloaded\s+0 files/);
  t.match(second.stderr, new RegExp(`skipped\\s+${f.wanted.length}\\b`), 'the summary counts every media as skipped');

  // A file moved away (the guide's rule) is fetched again, and nothing else is.
  const gone = f.wanted[3]!;
  const other = f.wanted[4]!;
  const otherBefore = await stat(path.join(f.targetDir, other.relPath));
  await rm(path.join(f.targetDir, gone.relPath));
  const getsBefore = f.proxy.gets().length;
  const third = await f.backup();
  t.equal(third.code, 0, `third run exits 0\n${third.stderr}`);
  const refetched = f.proxy.gets().slice(getsBefore);
  t.same(refetched.map((r) => r.key), [gone.media.key], 'exactly the deleted media is fetched again');
  t.match(third.stderr, /downloaded\s+1 files/);
  t.match(third.stderr, new RegExp(`skipped\\s+${f.wanted.length - 1}\\b`));
  t.same(await mismatchedMedia(f.targetDir, f.wanted), [], 'the set is complete and byte-exact again');
  const otherAfter = await stat(path.join(f.targetDir, other.relPath));
  t.equal(otherAfter.mtimeMs, otherBefore.mtimeMs, 'a file that was there is not rewritten');
  t.equal(otherAfter.ino, otherBefore.ino);
});
