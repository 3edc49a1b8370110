// Pins crash tolerance of the state files: a torn last line in index.ndjson (an
// append cut by a crash or power loss) is ignored with a warning, never fatal,
// and the next append starts on a clean line; a garbled middle line is skipped
// with a warning. Losing a line costs one re-download; refusing to start would
// stop every backup until someone edits the file by hand.

import t from 'tap';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../src/store/index.js';
import { createLogger } from '../src/log.js';
import type { IndexEntry } from '../src/store/types.js';
import { collect } from './helpers/async.js';

const entry = (mediaId: string, size = 3): IndexEntry => ({ recordingId: 'r', mediaId, path: `t/2015/${mediaId}.bin`, size, md5: 'x'.repeat(32), completedAt: 1 });

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}

t.test('a torn last line is ignored with a warning and cut off; appends go on cleanly', async (t) => {
  const dir = t.testdir();
  let store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: capture().log });
  await store.recordMedia(entry('a'));
  await store.recordMedia(entry('b'));
  await store.close();

  const index = path.join(dir, '.rcbs', 'index.ndjson');
  appendFileSync(index, JSON.stringify(entry('c')).slice(0, 25)); // the crash
  const { lines, log } = capture();
  store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log });
  t.ok((await store.getMedia('a')) && (await store.getMedia('b')), 'complete lines are kept');
  t.notOk(await store.getMedia('c'), 'the torn line is not an entry');
  t.match(lines.join('\n'), /warn: ignoring a torn last line/);

  await store.recordMedia(entry('d'));
  await store.close();
  const text = readFileSync(index, 'utf8');
  t.ok(text.endsWith('\n'));
  t.same(text.trim().split('\n').map((l) => JSON.parse(l).mediaId), ['a', 'b', 'd'], 'every line parses: the torn tail is gone');

  store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: capture().log });
  t.teardown(() => store.close());
  t.same((await collect(store.allMedia())).map((e) => e.mediaId).sort(), ['a', 'b', 'd']);
});

t.test('a last line complete but for its newline is kept', async (t) => {
  const dir = t.testdir({ '.rcbs': { 'index.ndjson': JSON.stringify(entry('a')) + '\n' + JSON.stringify(entry('b')) } });
  const store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: capture().log });
  await store.recordMedia(entry('c'));
  await store.close();
  const lines = readFileSync(path.join(dir, '.rcbs', 'index.ndjson'), 'utf8').trim().split('\n');
  t.same(lines.map((l) => JSON.parse(l).mediaId), ['a', 'b', 'c']);
});

t.test('a garbled middle line and a wrong-shaped entry are skipped with a warning', async (t) => {
  const good = [entry('a'), entry('b')].map((e) => JSON.stringify(e));
  const dir = t.testdir({ '.rcbs': { 'index.ndjson': [good[0], '{"mediaId": garbage', '\u0000\u0000\u0000', '{"mediaId":"x"}', good[1], ''].join('\n') } });
  const { lines, log } = capture();
  const store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log });
  t.teardown(() => store.close());
  t.same((await collect(store.allMedia())).map((e) => e.mediaId), ['a', 'b']);
  t.equal(lines.filter((l) => l.includes('skipping a garbled line')).length, 3);
});

t.test('later lines win, and recordings.ndjson follows the same rules', async (t) => {
  const dir = t.testdir();
  let store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: capture().log });
  await store.recordMedia(entry('a', 3));
  await store.recordMedia(entry('a', 7));
  await store.recordRecording({ recordingId: 'r1', path: 't/r1.json', mediaIds: ['a'], sha256: '1', writtenAt: 1 });
  await store.close();
  writeFileSync(path.join(dir, '.rcbs', 'recordings.ndjson'), readFileSync(path.join(dir, '.rcbs', 'recordings.ndjson'), 'utf8') + '{"recordingId":"r2","pa');
  store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: capture().log });
  t.teardown(() => store.close());
  t.equal((await store.getMedia('a'))?.size, 7);
  t.same((await collect(store.allMedia())).map((e) => e.size), [7], 'only the latest line of a media id is listed');
  t.equal((await store.getRecording('r1'))?.sha256, '1');
  t.notOk(await store.getRecording('r2'));
});
