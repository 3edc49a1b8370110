// Pins a whole metadata export at scale through the real CLI (issue 14 "Done when"):
// 50k recordings (about 67k media files) read as NDJSON, flattened to one row per
// media file, written as gzipped CSV into one file per UTC day
// (`{startTime:yyyy/MM/dd}.csv.gz`, 60 days: more files than the sink keeps open, so
// writers are evicted and reopened). Every file is checked byte for byte after
// gunzip against CSV the test writes itself: header once, rows in input order, CRLF,
// numeric-string sizes as written. No temp file is left. Kept fast (one CLI run).

import t from 'tap';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runCli } from './helpers/cli.js';
import { exportRecordings, toNdjson } from './helpers/export-data.js';

t.test('50k recordings into dated gzip CSV files, byte-checked', async (t) => {
  const dir = t.testdir();
  const start = Date.UTC(2026, 9, 1);
  const recordings = exportRecordings(50_000, start, 60);
  writeFileSync(path.join(dir, 'recordings.ndjson'), toNdjson(recordings));
  writeFileSync(path.join(dir, 'export.json'), JSON.stringify({
    name: 'calls-by-day',
    description: 'test',
    source: { use: 'ndjson', with: { path: 'recordings.ndjson' } },
    transforms: [{ use: 'select', with: { flatten: 'mediaFiles', fields: { id: 'id', start: 'startTime', mediaId: 'mediaFiles.mediaId', type: 'mediaFiles.type', size: 'mediaFiles.size', agent: 'mediaFiles.parameters.username' } } }],
    sinks: [{ use: 'file', with: { format: 'csv', path: 'out/{startTime:yyyy/MM/dd}.csv.gz', gzip: true } }],
  }));

  const run = await runCli(['run', './export.json', '--set', `targetDir=${path.join(dir, 'target')}`], { cwd: dir });
  t.equal(run.code, 0, run.stderr);

  const expected = new Map<string, string[]>();
  for (const r of recordings) {
    const file = `out/${new Date(r.startTime.replace('+0000', 'Z')).toISOString().slice(0, 10).replace(/-/g, '/')}.csv.gz`;
    const lines = expected.get(file) ?? ['id,start,mediaId,type,size,agent'];
    for (const m of r.mediaFiles) lines.push([r.id, r.startTime, m.mediaId, m.type, String(m.size), m.parameters.username].join(','));
    expected.set(file, lines);
  }
  t.equal(expected.size, 60, 'one file per day');
  const written = (readdirSync(path.join(dir, 'out'), { recursive: true }) as string[]).filter((p) => p.endsWith('.gz') || p.includes('.part')).map((p) => `out/${p}`).sort();
  t.same(written, [...expected.keys()].sort(), 'exactly the dated files, no temp file');
  let rows = 0;
  for (const [file, lines] of expected) {
    const gz = readFileSync(path.join(dir, file));
    t.equal(gz.subarray(0, 2).toString('hex'), '1f8b', `${file} is gzip`);
    const text = gunzipSync(gz).toString('utf8');
    if (text !== lines.join('\r\n') + '\r\n') t.fail(`${file} differs from the expected CSV`);
    rows += lines.length - 1;
  }
  t.equal(rows, recordings.reduce((n, r) => n + r.mediaFiles.length, 0));
  t.match(run.stderr, new RegExp(`file: wrote ${rows} row\\(s\\) into 60 file\\(s\\)`));
});
