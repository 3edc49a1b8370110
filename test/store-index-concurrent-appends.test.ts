// Pins group-committed appends: many transfers finishing at once share fsyncs,
// and every entry still lands on its own whole line (none lost, none glued to
// another), in the index and in the recordings log, as a reopen shows.

import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../src/store/index.js';
import { silentLogger } from '../src/log.js';
import { collect } from './helpers/async.js';

t.test('200 concurrent appends all survive a reopen', async (t) => {
  const dir = t.testdir();
  let store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger });
  const ids = Array.from({ length: 200 }, (_, i) => `m${i}`);
  await Promise.all(ids.flatMap((mediaId) => [
    store.recordMedia({ recordingId: 'r', mediaId, path: `T/${mediaId}.bin`, size: 1, md5: '0'.repeat(32), completedAt: 1 }),
    store.recordRecording({ recordingId: mediaId, path: `T/${mediaId}.json`, mediaIds: [mediaId], sha256: 'x', writtenAt: 1 }),
  ]));
  await store.close();
  const lines = readFileSync(path.join(dir, '.rcbs', 'index.ndjson'), 'utf8').split('\n');
  t.equal(lines.pop(), '', 'ends with a newline');
  t.same(lines.map((l) => JSON.parse(l).mediaId).sort(), [...ids].sort());

  store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger });
  t.teardown(() => store.close());
  t.equal((await collect(store.allMedia())).length, 200);
  t.equal((await collect(store.allRecordings())).length, 200);
});
