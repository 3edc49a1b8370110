// Pins SPEC §4's retry promise end to end: with a GWS that answers about a
// quarter of its requests with 429 (Retry-After: 0), 503 or a reset socket, a
// metadata export through the real CLI still writes the complete set of JSON
// files with the served bytes, exits 0, and commits the window. The request log
// proves each kind of fault really happened. Retry delays are the client's real
// ones (200 ms minimum, exponential with jitter): the fault count is kept small
// enough for a few seconds of waiting.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { exportable, filesWithMtime, specJsonPath, withSandbox } from './helpers/sandbox-run.js';

t.test('429s, 503s and resets still give the complete set', async (t) => {
  const fx = await withSandbox(t, {
    sandbox: { recordings: 40, seed: 7, faults: { rate429: 0.1, rate503: 0.1, rateReset: 0.05, retryAfterSeconds: 0, seed: 27, routes: ['/recordings'] } },
    config: { metadataOnly: true, gwsPageSize: 6 },
  });
  const result = await fx.run(['run', 'metadata-export', '--config', fx.configPath]);
  t.equal(result.code, 0, 'exit 0 despite the faults', { stderr: result.stderr });

  const statuses = fx.gwsRequests.filter((q) => q.route === '/recordings').map((q) => q.status);
  const count = (s: number | 'reset') => statuses.filter((x) => x === s).length;
  t.ok(count(429) > 0, `429 answered ${count(429)} time(s)`);
  t.ok(count(503) > 0, `503 answered ${count(503)} time(s)`);
  t.ok(count('reset') > 0, `socket reset ${count('reset')} time(s)`);
  t.ok(count(200) >= 3, `${count(200)} good pages among ${statuses.length} requests`);
  t.match(result.stderr, /retrying/, 'the retries are logged');

  const expected = exportable(fx.sandbox);
  const files = await filesWithMtime(fx.targetDir, true);
  t.same([...files.keys()].sort(), expected.map(specJsonPath).sort(), 'every expected JSON, nothing else');
  for (const r of expected) {
    t.strictSame(JSON.parse(await readFile(path.join(fx.targetDir, specJsonPath(r)), 'utf8')), r.recording, `${r.id}: as served`);
  }
  const checkpoint = await readFile(path.join(fx.targetDir, '.rcbs', 'last_recording_endtime.txt'), 'utf8').catch(() => undefined);
  t.ok(checkpoint !== undefined, 'the window was committed');
});
