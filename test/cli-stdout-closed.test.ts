// Pins `rcbs run … --ndjson | head`: a reader that closes stdout early ends the
// run cleanly — exit 0, no stack trace, no EPIPE noise — and only what was asked
// for is written. Real shell pipe, real child processes.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, cleanEnv } from './helpers/cli.js';

t.test('| head -n 3 ends the run cleanly', async (t) => {
  const dir = t.testdir();
  const input = path.join(dir, 'in.ndjson');
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++) lines.push(JSON.stringify({ id: `rec-${i}`, pad: 'x'.repeat(40) }));
  writeFileSync(input, lines.join('\n') + '\n');
  const pipelineFile = path.join(ROOT, 'bench', 'pipelines', 'passthrough.json');
  const script = `"${process.execPath}" "${CLI}" run "${pipelineFile}" --ndjson < "${input}" 2>"${dir}/err" | head -n 3; echo "status=\${PIPESTATUS[0]}"`;
  const result = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
  const out = result.stdout.trim().split('\n');
  t.equal(out.length, 4, 'three records then the status line');
  t.same(out.slice(0, 3).map((l) => JSON.parse(l).recording.id), ['rec-0', 'rec-1', 'rec-2']);
  t.equal(out[3], 'status=0', 'rcbs exits 0');
  const stderr = spawnSync('cat', [`${dir}/err`], { encoding: 'utf8' }).stdout;
  t.notMatch(stderr, /EPIPE|at .*\.js:\d+/, 'no stack trace or EPIPE error on stderr');
});
