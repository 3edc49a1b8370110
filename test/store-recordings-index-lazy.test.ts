// A store opened read-only (an export, a dry run) loads the recordings index
// (.rcbs/recordings.ndjson, the whole history) only when something asks for a
// recording: an export never does, and so never reads or holds it
// (src/store/index.ts; BENCHMARKS.md, issue 14 run 9). What must hold: a
// read-only store still answers every recording and lists them; one whose
// recordings journal cannot be read opens, and fails with RCBS_STORE_IO only when
// asked; a writable store still reads it at open; and an export from a backup
// whose recordings journal cannot be read still runs.

import t from 'tap';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../src/store/index.js';
import { silentLogger } from '../src/log.js';
import type { RecordingEntry } from '../src/store/types.js';
import { collect } from './helpers/async.js';
import { runCli } from './helpers/cli.js';

const entry = (i: number): RecordingEntry => ({ recordingId: `r${i}`, path: `t/r${i}.json`, mediaIds: [`m${i}`], sha256: 'x'.repeat(64), writtenAt: i });

/** The recordings journal made unreadable: a folder where the file should be. */
function breakRecordingsJournal(dir: string): void {
  const file = path.join(dir, '.rcbs', 'recordings.ndjson');
  rmSync(file, { force: true });
  mkdirSync(file);
}

t.test('read-only, the recordings are answered and listed', async (t) => {
  const dir = t.testdir();
  const writer = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger });
  for (let i = 0; i < 2000; i++) await writer.recordRecording(entry(i));
  await writer.recordRecording({ ...entry(7), writtenAt: 99 });
  await writer.close();

  const store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger, readOnly: true });
  t.teardown(() => store.close());
  let wrong = 0;
  for (let i = 0; i < 2000; i++) if ((await store.getRecording(`r${i}`))?.writtenAt !== (i === 7 ? 99 : i)) wrong++;
  t.equal(wrong, 0, 'each recording answers its latest line');
  t.equal(await store.getRecording('nope'), undefined, 'one never recorded answers nothing');
  t.equal((await collect(store.allRecordings())).length, 2000, 'listed once each');
});

t.test('read-only, an unreadable recordings journal fails only when asked', async (t) => {
  const dir = t.testdir();
  const writer = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger });
  await writer.recordRecording(entry(1));
  await writer.close();
  breakRecordingsJournal(dir);

  const store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger, readOnly: true });
  t.teardown(() => store.close());
  t.equal(await store.getMedia('m1'), undefined, 'the media index is there');
  await t.rejects(store.getRecording('r1'), { code: 'RCBS_STORE_IO' }, 'asked for a recording: the read fails, as a store error');
  await t.rejects(store.getRecording('r1'), { code: 'RCBS_STORE_IO' }, 'and again, the same way');
  await t.rejects(openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger }), { code: 'RCBS_STORE_IO' }, 'a writable store still reads it at open');
});

t.test('an export from a backup does not read the recordings journal', async (t) => {
  const dir = t.testdir({ out: {} });
  const recording = {
    id: 'REC1',
    startTime: '2026-10-01T10:00:00.000+0000',
    stopTime: '2026-10-01T10:05:00.000+0000',
    mediaFiles: [{ mediaId: 'REC1_a.mp3', type: 'audio/mp3', tenant: 'Environment', startTime: '2026-10-01T10:00:00.000+0000', stopTime: '2026-10-01T10:05:00.000+0000' }],
  };
  const target = path.join(dir, 'target');
  mkdirSync(path.join(target, 'Environment', '2026', '10', '01', '10'), { recursive: true });
  writeFileSync(path.join(target, 'Environment', '2026', '10', '01', '10', 'REC1.json'), JSON.stringify(recording));
  const writer = await openStore({ targetDir: target, recordingFolderFormat: 'yyyy', log: silentLogger });
  await writer.recordRecording({ ...entry(1), recordingId: 'REC1', path: 'Environment/2026/10/01/10/REC1.json' });
  await writer.close();
  breakRecordingsJournal(target);

  const out = path.join(dir, 'out', 'calls.csv');
  const run = await runCli(['run', 'calls-csv', '--set', `targetDir=${target}`, '--set', `out=${out}`, '--set', 'minDate=2026-11-01', '--set', 'maxDate=2026-09-01'], { cwd: dir });
  t.equal(run.code, 0, run.stderr);
  t.match(run.stderr, /wrote 1 row\(s\) into 1 file/);
});
