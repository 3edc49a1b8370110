// Pins the re-scan for late media (SPEC §3 catch-up and overlap, §5 "a recording
// whose media list grew gets an updated JSON") through the real CLI:
// run 1 ends its window at minDate = T (an absolute upper bound), so
// last_recording_endtime.txt = T. Media then arrive late for a recording whose
// stopTime lies just before T. Run 2 (maxAge small, so T is older than its lower
// bound) must catch up from T and move back by `overlap`: its first GWS query
// starts at exactly T − overlap, it re-reads that recording and rewrites its JSON
// with the grown media list, and leaves every other JSON untouched.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { filesWithMtime, jsonWriterTally, specJsonPath, withSandbox } from './helpers/sandbox-run.js';

const HOUR = 3_600_000;

t.test('a rerun over the overlap rewrites the JSON whose media list grew, and only that', async (t) => {
  const fx = await withSandbox(t, { sandbox: { recordings: 20, seed: 5, oddities: false }, config: { metadataOnly: true, overlap: 'PT2H' } });
  const now = Date.now();
  // A voice recording at least 3 h old, so T = its stopTime + 1 h is in the past.
  const late = fx.sandbox.recordings.find((r) => r.kind === 'voice' && r.stopTimeMs < now - 3 * HOUR)!;
  t.ok(late, 'the sandbox has an old enough recording');
  const T = late.stopTimeMs + HOUR;

  const first = await fx.run(['run', 'metadata-export', '--config', fx.configPath, '--set', `minDate=${T}`]);
  t.equal(first.code, 0, 'exit 0', { stderr: first.stderr });
  t.equal((await readFile(path.join(fx.targetDir, '.rcbs', 'last_recording_endtime.txt'), 'utf8')).trim(), String(T), 'run 1 commits its upper bound T');
  const before = await filesWithMtime(fx.targetDir, true);
  const inRun1 = fx.sandbox.recordings.filter((r) => r.stopTimeMs < T);
  t.same([...before.keys()].sort(), inRun1.map(specJsonPath).sort(), 'run 1 wrote the recordings that stopped before T');
  const mediaBefore = (late.recording.mediaFiles as unknown[]).length;

  const added = await fx.sandbox.addLateMedia(late.id!);
  t.equal((late.recording.mediaFiles as unknown[]).length, mediaBefore + 1, 'GWS now lists one more media file');

  const queriesBefore = fx.gwsRequests.length;
  const second = await fx.run(['run', 'metadata-export', '--config', fx.configPath, '--set', 'maxAge=PT1H']);
  t.equal(second.code, 0, 'exit 0', { stderr: second.stderr });
  const queries = fx.gwsRequests.slice(queriesBefore).filter((q) => q.route === '/recordings');
  t.equal(Number(queries[0]!.query.get('startTime')), T - 2 * HOUR, 'run 2 starts at last_recording_endtime − overlap');
  t.ok(queries.every((q) => Number(q.query.get('startTime')) >= T - 2 * HOUR), 'and never queries earlier');

  const written = JSON.parse(await readFile(path.join(fx.targetDir, specJsonPath(late)), 'utf8'));
  t.strictSame(written, late.recording, 'the JSON now equals the grown recording');
  t.ok((written.mediaFiles as Array<{ mediaId: string }>).some((m) => m.mediaId === added.mediaId), 'with the late media file');

  const after = await filesWithMtime(fx.targetDir, true);
  for (const [rel, mtime] of before) {
    if (rel === specJsonPath(late)) t.not(after.get(rel), mtime, `${rel} rewritten`);
    else t.equal(after.get(rel), mtime, `${rel} untouched`);
  }
  const tally = jsonWriterTally(second.stderr)!;
  t.equal(tally.rewritten, 1, 'json-writer counts one rewrite');
  // Everything else run 2 saw in its window was new (stopped after T) or unchanged.
  const inRun2 = fx.sandbox.recordings.filter((r) => r.stopTimeMs >= T - 2 * HOUR);
  t.equal(tally.written! + tally.unchanged! + tally.rewritten!, inRun2.length, 'run 2 saw exactly the recordings of [T − overlap, now)');
  t.equal(tally.written, fx.sandbox.recordings.filter((r) => r.stopTimeMs >= T).length, 'and wrote those stopped from T on');
});
