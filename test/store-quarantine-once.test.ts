// Pins that a bad record met again (the next run's window overlaps the last one)
// is reported again but appended to .rcbs/quarantine.ndjson only once, across
// reopenings of the store; a different problem with the same record is a new line.

import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../src/store/index.js';
import { silentLogger } from '../src/log.js';

t.test('the same quarantine is written once, across runs', async (t) => {
  const target = path.join(t.testdir(), 'target');
  const bad = { id: 'rec-1', mediaFiles: [{ mediaId: '../x' }] };
  for (let run = 0; run < 3; run++) {
    const store = await openStore({ targetDir: target, recordingFolderFormat: 'yyyy/MM/dd/HH', log: silentLogger });
    await store.quarantine({ code: 'RCBS_UNSAFE_NAME', reason: 'mediaId holds a path separator', recording: bad });
    await store.quarantine({ code: 'RCBS_UNSAFE_NAME', reason: 'mediaId holds a path separator', recording: bad });
    if (run === 2) await store.quarantine({ code: 'RCBS_RECORD_INVALID', reason: '/mediaFiles/0: must have type', recording: bad });
    await store.close();
  }
  const lines = readFileSync(path.join(target, '.rcbs', 'quarantine.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(lines.length, 2);
  t.same(lines.map((l) => l.code), ['RCBS_UNSAFE_NAME', 'RCBS_RECORD_INVALID']);
  t.equal(lines[0].recordingId, 'rec-1');
});
