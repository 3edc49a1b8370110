// Pins SPEC §5 "a crash never leaves a half file under a final name" through the
// real CLI: a backup is SIGKILLed while some files are done and others are
// mid-transfer (the S3 proxy stalls bodies after 1000 bytes, so the moment is
// exact, not guessed). At that point every *.bin and *.json under its final name
// is complete and right; the half-done bytes are only in `.<name>.<random>.part`
// temp files. A rerun then delivers the complete byte-exact set, resuming those
// temp files with Range requests, and leaves no temp file anywhere.
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { listFiles, mismatchedMedia, startBackupFixture, tempFiles, until } from './helpers/backup-run.js';

t.test('kill -9 mid-transfer, then a rerun completes the set', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 10, seed: 21 } });
  const byPath = new Map(f.wanted.map((w) => [w.relPath, w]));
  // The first 4 downloads go through whole, the rest stall after 1000 bytes.
  f.proxy.hold(1000, 4);

  let child: import('node:child_process').ChildProcess | undefined;
  const killed = f.backup({ onSpawn: (c) => (child = c) });
  const partials = await until('a stalled transfer with its 1000 bytes on disk and a finished file', async () => {
    const temps = await tempFiles(f.targetDir);
    const full = [];
    for (const p of temps) if ((await stat(path.join(f.targetDir, p)).catch(() => undefined))?.size === 1000) full.push(p);
    const bins = (await listFiles(f.targetDir)).filter((p) => p.endsWith('.bin'));
    return full.length > 0 && bins.length > 0 ? full : undefined;
  });
  child!.kill('SIGKILL');
  const dead = await killed;
  t.equal(dead.signal, 'SIGKILL');

  // After the crash: whatever has a final name is whole; partial bytes only in temp files.
  const afterCrash = await listFiles(f.targetDir);
  for (const p of afterCrash.filter((p) => p.endsWith('.bin'))) {
    t.same(await mismatchedMedia(f.targetDir, [byPath.get(p)!]), [], `${p} under its final name is complete`);
  }
  for (const p of afterCrash.filter((p) => p.endsWith('.json'))) {
    const id = path.posix.basename(p, '.json');
    t.same(JSON.parse(await readFile(path.join(f.targetDir, p), 'utf8')), f.sandbox.recording(id)?.recording, `${p} under its final name is complete`);
  }
  for (const p of partials) {
    t.match(path.posix.basename(p), /^\..+\.bin\.[0-9a-f]+\.part$/, `${p} is a temp name no *.bin glob matches`);
  }
  t.ok(afterCrash.filter((p) => p.endsWith('.bin')).length < f.wanted.length, 'the crash did leave work undone');

  f.proxy.release();
  const getsBefore = f.proxy.gets().length;
  const rerun = await f.backup();
  t.equal(rerun.code, 0, `rerun exits 0\n${rerun.stderr}`);
  t.same(await mismatchedMedia(f.targetDir, f.wanted), [], 'the complete set, byte-exact');
  t.same(await tempFiles(f.targetDir), [], 'no temp file left anywhere (.rcbs included)');
  const ranged = f.proxy.gets().slice(getsBefore).filter((r) => r.range);
  t.ok(ranged.length >= partials.length, `the ${partials.length} partial(s) were resumed with Range requests`);
  for (const r of ranged) t.equal(r.range, 'bytes=1000-', `${r.key} resumed after the 1000 bytes on disk`);
  const files = await listFiles(f.targetDir);
  t.equal(files.filter((p) => p.endsWith('.bin')).length, f.wanted.length, 'no extra .bin');
});
