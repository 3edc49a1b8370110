// The progress line's counts (SPEC §2: recordings, files, bytes, rate, ETA): a backup
// with decryptDir downloads and then decrypts each media file, and "files" used to count
// both, showing 2 per file. Decrypts are counted apart now, shown only when there are any.

import t from 'tap';
import { createProgress } from '../src/pipeline/report.js';
import type { Stderr } from '../src/log.js';

function capture(): { stderr: Stderr; last: () => string } {
  const shown: string[] = [];
  return {
    stderr: { line: () => {}, status: (text) => void (text !== undefined && shown.push(text)), isTTY: true },
    last: () => shown.at(-1) ?? '',
  };
}

t.test('downloads and decrypts are counted apart', async (t) => {
  const { stderr, last } = capture();
  const progress = createProgress(stderr, true);
  t.teardown(() => progress.stop());
  progress.update({ recordings: 2 });
  progress.update({ files: 1, bytes: 1000 });
  progress.update({ files: 1, bytes: 1000 });
  progress.update({ decrypted: 1 });
  progress.update({ decrypted: 1 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.match(last(), /^recordings 2 {2}files 2 {2}decrypted 2 {2}2\.0 KiB/);
});

t.test('no decrypts: no decrypted count', async (t) => {
  const { stderr, last } = capture();
  const progress = createProgress(stderr, true);
  t.teardown(() => progress.stop());
  progress.update({ recordings: 1 });
  progress.update({ files: 1, bytes: 10 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.match(last(), /^recordings 1 {2}files 1 {2}10 B/);
  t.notMatch(last(), /decrypted/);
});
