// Pins atomic writes (SPEC §5): data lives in `.<final>.<random>.part` beside the
// final file until commit, so an aborted or crashed write never leaves a half
// file under a final name, and globs for *.bin / *.json never see the temp file.
// Also pins resume: a partial file a killed run left behind is found and appended
// to (findPartial + resumeFrom), and is removed when the file is written anew.

import t from 'tap';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { openStore } from '../src/store/index.js';
import { silentLogger } from '../src/log.js';

const open = (targetDir: string) => openStore({ targetDir, recordingFolderFormat: 'yyyy', log: silentLogger });

t.test('commit renames a complete temp file; until then no final file exists', async (t) => {
  const dir = t.testdir();
  const store = await open(dir);
  t.teardown(() => store.close());
  const handle = await store.createAtomicWrite('T/2015/m1.bin', 0o600);
  t.equal(path.dirname(handle.tempPath), path.join(dir, 'T', '2015'), 'temp file in the final folder');
  t.match(path.basename(handle.tempPath), /^\.m1\.bin\.[0-9a-f]+\.part$/);
  t.equal(handle.resumedBytes, 0);
  appendFileSync(handle.tempPath, 'half of it');
  t.notOk(existsSync(handle.finalPath), 'no final file before commit');
  t.same(await fg('**/*.bin', { cwd: dir }), [], 'a *.bin glob does not see the temp file');
  appendFileSync(handle.tempPath, ' and the rest');
  await handle.commit();
  t.equal(readFileSync(path.join(dir, 'T', '2015', 'm1.bin'), 'utf8'), 'half of it and the rest');
  t.same(readdirSync(path.join(dir, 'T', '2015')), ['m1.bin'], 'no temp file left');
  if (process.platform !== 'win32') t.equal(statSync(handle.finalPath).mode & 0o777, 0o600, 'mode kept');
  await t.rejects(handle.commit(), { code: 'RCBS_STORE_IO' }, 'a second commit is refused');
});

t.test('abort removes the temp file and leaves no final file', async (t) => {
  const dir = t.testdir();
  const store = await open(dir);
  t.teardown(() => store.close());
  const handle = await store.createAtomicWrite('T/m2.bin');
  appendFileSync(handle.tempPath, 'partial');
  await handle.abort();
  await handle.abort(); // idempotent
  t.same(readdirSync(path.join(dir, 'T')), []);
});

t.test('writeFileAtomic replaces a file whole', async (t) => {
  const dir = t.testdir({ T: { 'r.json': '{"old":true}' } });
  const store = await open(dir);
  t.teardown(() => store.close());
  await store.writeFileAtomic('T/r.json', '{"new":true}');
  t.equal(readFileSync(path.join(dir, 'T', 'r.json'), 'utf8'), '{"new":true}');
  t.same(readdirSync(path.join(dir, 'T')), ['r.json']);
});

t.test('a folder removed while the store is open is made again (folders are created once per store)', async (t) => {
  const dir = t.testdir();
  const store = await open(dir);
  t.teardown(() => store.close());
  await store.writeFileAtomic('T/2015/a.json', '{"a":1}');
  rmSync(path.join(dir, 'T'), { recursive: true });
  await store.writeFileAtomic('T/2015/b.json', '{"b":2}');
  t.equal(readFileSync(path.join(dir, 'T/2015/b.json'), 'utf8'), '{"b":2}');
  rmSync(path.join(dir, 'T'), { recursive: true });
  const handle = await store.createAtomicWrite('T/2015/m.bin', 0o600);
  appendFileSync(handle.tempPath, 'media');
  await handle.commit();
  t.equal(readFileSync(path.join(dir, 'T/2015/m.bin'), 'utf8'), 'media');
});

t.test('after a crash mid-write: no final file, the partial can be resumed', async (t) => {
  // What a run killed with SIGKILL mid-transfer leaves: a temp file, nothing else.
  const dir = t.testdir({ T: { '.m3.bin.0a1b2c3d4e5f.part': 'first 17 bytes...', '.m3.bin.ffff.part': 'short' } });
  const store = await open(dir);
  t.teardown(() => store.close());
  t.same(await fg('**/*.bin', { cwd: dir }), [], 'no final file');
  t.notOk(await store.isMediaDone('m3'));

  const partial = await store.findPartial('T/m3.bin');
  t.match(partial, { tempPath: path.join(dir, 'T', '.m3.bin.0a1b2c3d4e5f.part'), size: 17 }, 'the largest partial');
  t.equal(await store.findPartial('T/other.bin'), undefined);

  const handle = await store.createAtomicWrite('T/m3.bin', undefined, { resumeFrom: partial!.tempPath });
  t.equal(handle.resumedBytes, 17);
  t.equal(handle.tempPath, partial!.tempPath);
  t.same(readdirSync(path.join(dir, 'T')), ['.m3.bin.0a1b2c3d4e5f.part'], 'the other leftover of the same file is gone');
  appendFileSync(handle.tempPath, ' and the rest');
  await handle.commit();
  t.equal(readFileSync(path.join(dir, 'T', 'm3.bin'), 'utf8'), 'first 17 bytes... and the rest');

  await t.rejects(store.createAtomicWrite('T/x.bin', undefined, { resumeFrom: path.join(dir, 'T', 'm3.bin') }), { code: 'RCBS_STORE_IO' }, 'resumeFrom must be a temp file of the same final file');
});

t.test('leftovers are removed when the same file is written anew, and state temp files at open', async (t) => {
  const dir = t.testdir({
    T: { '.m4.bin.abcdef.part': 'stale', '.other.bin.abcdef.part': 'keep for its own resume' },
    '.rcbs': { '.last_recording_endtime.txt.1234.part': '12' },
  });
  const store = await open(dir);
  t.teardown(() => store.close());
  t.same(readdirSync(path.join(dir, '.rcbs')).filter((n) => n.endsWith('.part')), [], 'state temp files removed at open');
  const handle = await store.createAtomicWrite('T/m4.bin');
  writeFileSync(handle.tempPath, 'fresh');
  await handle.commit();
  t.same(readdirSync(path.join(dir, 'T')).sort(), ['.other.bin.abcdef.part', 'm4.bin']);
});

t.test('last_recording_endtime.txt is written atomically and read back; garbage is an error, not a guess', async (t) => {
  const dir = t.testdir();
  const store = await open(dir);
  t.teardown(() => store.close());
  t.equal(await store.readLastRecordingEndTime(), undefined);
  await store.writeLastRecordingEndTime(1441125779000);
  t.equal(readFileSync(path.join(dir, '.rcbs', 'last_recording_endtime.txt'), 'utf8'), '1441125779000');
  t.equal(await store.readLastRecordingEndTime(), 1441125779000);
  writeFileSync(path.join(dir, '.rcbs', 'last_recording_endtime.txt'), 'yesterday');
  await t.rejects(store.readLastRecordingEndTime(), { code: 'RCBS_STORE_IO', message: /last_recording_endtime\.txt.*delete it/ });
});

// The transfers a GWS page starts at once ask for the same folders together: they share
// one mkdir (fewer round trips through the thread pool before the first GETs), and a mkdir
// that failed is tried again by the next caller. They share one listing of leftovers too;
// from outside that shows only as both callers seeing the leftover, which is what is checked.
t.test('concurrent callers share one mkdir per folder and all see its leftovers; a failed mkdir is tried again', async (t) => {
  const { TempFiles } = await import('../src/store/atomic.js');
  const dir = t.testdir({ blocked: 'a file where a folder is wanted' });
  const temps = new TempFiles();
  const folder = path.join(dir, 'T', '2015', '12');
  const first = temps.ensureDir(folder);
  t.equal(temps.ensureDir(folder), first, 'a second caller waits on the same mkdir');
  await first;
  t.ok(statSync(folder).isDirectory());

  const under = path.join(dir, 'blocked', 'sub');
  await t.rejects(temps.ensureDir(under), { code: 'ENOTDIR' });
  rmSync(path.join(dir, 'blocked'));
  await temps.ensureDir(under);
  t.ok(statSync(under).isDirectory(), 'made once the obstacle is gone: the failure was not cached');

  const leftover = path.join(folder, '.m9.bin.00ff00ff00ff.part');
  writeFileSync(leftover, 'from a killed run');
  const [a, b] = await Promise.all([temps.leftoversOf(path.join(folder, 'm9.bin')), temps.leftoversOf(path.join(folder, 'm9.bin'))]);
  t.same(a, [{ tempPath: leftover, size: 17 }]);
  t.same(b, a, 'both callers see the leftover');
});
