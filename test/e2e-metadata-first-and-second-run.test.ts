// Pins issue 3's core promise through the real CLI against the sandbox: a first
// `rcbs run metadata-export` writes every recording's JSON at its SPEC §5 path
// (<tenant>/<yyyy/MM/dd/HH of startTime UTC>/<id>.json) with exactly what GWS
// served (unknown fields kept), exits 0 although the oddities were quarantined
// (SPEC §3: quarantined records never hold a run back), and commits the window's
// upper bound to .rcbs/last_recording_endtime.txt. A second run, as the original
// was started (`rcbs -config` with metadataOnly=true), writes nothing (mtimes and
// json-writer counts unchanged), and neither run sends a single request to S3.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { exportable, filesWithMtime, jsonWriterTally, specJsonPath, withSandbox } from './helpers/sandbox-run.js';

t.test('first run writes every JSON as served; second run writes nothing; no S3 traffic', async (t) => {
  const fx = await withSandbox(t, { sandbox: { recordings: 24, seed: 3 } });
  const expected = exportable(fx.sandbox);
  t.ok(expected.length >= 24, 'the sandbox serves the requested recordings');

  const before = Date.now();
  const first = await fx.run(['run', 'metadata-export', '--config', fx.configPath]);
  const after = Date.now();
  t.equal(first.code, 0, 'first run exits 0 (quarantine alone is not a failure)', { stderr: first.stderr });
  t.equal(first.stdout, '', 'no --ndjson: nothing on stdout');

  const files = await filesWithMtime(fx.targetDir, true);
  t.same([...files.keys()].sort(), expected.map(specJsonPath).sort(), 'exactly the exportable recordings, each at its SPEC §5 path');
  for (const r of expected) {
    const written = JSON.parse(await readFile(path.join(fx.targetDir, specJsonPath(r)), 'utf8'));
    t.strictSame(written, r.recording, `${r.id}: content equals what GWS served`);
  }
  const withUnknown = expected.find((r) => r.recording.sandboxTrace !== undefined)!;
  t.ok(JSON.parse(await readFile(path.join(fx.targetDir, specJsonPath(withUnknown)), 'utf8')).sandboxTrace, 'an unknown field is kept');
  t.match(jsonWriterTally(first.stderr), { written: expected.length, rewritten: 0, unchanged: 0 });

  // The committed checkpoint is the window's upper bound: `now` fixed at start (minAge 0),
  // which is also the endTime of the last GWS query (slices go oldest first).
  const checkpoint = Number((await readFile(path.join(fx.targetDir, '.rcbs', 'last_recording_endtime.txt'), 'utf8')).trim());
  t.ok(checkpoint >= before && checkpoint <= after, `last_recording_endtime ${checkpoint} is the run's now`);
  const queries = fx.gwsRequests.filter((q) => q.route === '/recordings');
  t.equal(Number(queries.at(-1)!.query.get('endTime')), checkpoint, 'equals the upper bound the run queried GWS up to');

  const stateBefore = await filesWithMtime(fx.targetDir);
  const gwsBefore = fx.gwsRequests.length;
  const second = await fx.run(['-config', fx.configPath, '--set', 'metadataOnly=true']);
  t.equal(second.code, 0, 'second run exits 0', { stderr: second.stderr });
  t.ok(fx.gwsRequests.length > gwsBefore, 'the second run did query GWS');
  t.match(jsonWriterTally(second.stderr), { written: 0, rewritten: 0, unchanged: expected.length }, 'json-writer wrote nothing');
  const stateAfter = await filesWithMtime(fx.targetDir, true);
  for (const [rel, mtime] of stateAfter) t.equal(mtime, stateBefore.get(rel), `${rel} untouched`);
  t.equal(stateAfter.size, files.size, 'no new file');

  t.same(fx.s3Requests(), [], 'metadata-only never talks to S3');
});
