// The progress line's counts (SPEC §2: recordings, files, bytes, rate, ETA): a backup
// with decryptDir downloads and then decrypts each media file, and "files" used to count
// both, showing 2 per file. Decrypts are counted apart now, shown only when there are any.

import t, { type Test } from 'tap';
import { createProgress, type ProgressEvent } from '../src/pipeline/report.js';
import type { Stderr } from '../src/log.js';

/** The line shown after `events`, once the first redraw has run. */
async function lineAfter(t: Test, events: ProgressEvent[]): Promise<string> {
  const shown: string[] = [];
  const stderr: Stderr = { line: () => {}, status: (text) => void (text !== undefined && shown.push(text)), isTTY: true };
  const progress = createProgress(stderr, true);
  t.teardown(() => progress.stop());
  for (const event of events) progress.update(event);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return shown.at(-1) ?? '';
}

t.test('downloads and decrypts are counted apart', async (t) => {
  const line = await lineAfter(t, [{ recordings: 2 }, { files: 1, bytes: 1000 }, { files: 1, bytes: 1000 }, { decrypted: 1 }, { decrypted: 1 }]);
  t.match(line, /^recordings 2 {2}files 2 {2}decrypted 2 {2}2\.0 KiB/);
});

t.test('no decrypts: no decrypted count', async (t) => {
  const line = await lineAfter(t, [{ recordings: 1 }, { files: 1, bytes: 10 }]);
  t.match(line, /^recordings 1 {2}files 1 {2}10 B/);
  t.notMatch(line, /decrypted/);
});
