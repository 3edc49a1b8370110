// Pins SPEC §6's `--dry-run` for the metadata path through the real CLI: it
// prints the plan (window bounds, slices, the files it would write) on stderr and
// writes nothing at all. On a fresh target the targetDir is not even created (no
// .rcbs, no lock); on an existing backup, after late media make a rewrite due,
// every file (state included) keeps its mtime, no file appears or goes, and the
// following real run still finds the rewrite to do.

import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { exportable, filesWithMtime, jsonWriterTally, specJsonPath, withSandbox } from './helpers/sandbox-run.js';

t.test('--dry-run prints the plan and writes nothing', async (t) => {
  const fx = await withSandbox(t, { sandbox: { recordings: 10, seed: 17 }, config: { metadataOnly: true } });
  const expected = exportable(fx.sandbox);

  const dry = await fx.run(['run', 'metadata-export', '--config', fx.configPath, '--dry-run']);
  t.equal(dry.code, 0, 'dry run exits 0', { stderr: dry.stderr });
  t.equal(dry.stdout, '', 'nothing on stdout');
  t.notOk(existsSync(fx.targetDir), 'the targetDir was not created (no .rcbs, no lock)');
  t.match(dry.stderr, /window: upper bound \S+/, 'prints the upper bound');
  t.match(dry.stderr, /window: lower bound \S+/, 'prints the lower bound');
  t.match(dry.stderr, /window: \d+ queries of P1D \(shardBy\)/, 'prints the slices');
  for (const r of expected) t.match(dry.stderr, `would write metadata recordingId=${r.id} path=${specJsonPath(r)}`, `plans ${r.id}`);
  t.ok(fx.gwsRequests.some((q) => q.route === '/recordings'), 'it did read GWS to plan');

  const real = await fx.run(['run', 'metadata-export', '--config', fx.configPath]);
  t.equal(real.code, 0, 'real run exits 0', { stderr: real.stderr });
  const grown = expected.find((r) => r.kind === 'voice' && !r.odd)!;
  await fx.sandbox.addLateMedia(grown.id!);

  const before = await filesWithMtime(fx.targetDir);
  const dryAgain = await fx.run(['-config', fx.configPath, '--dry-run']);
  t.equal(dryAgain.code, 0, 'dry run on an existing backup exits 0', { stderr: dryAgain.stderr });
  t.match(dryAgain.stderr, `would write metadata recordingId=${grown.id}`, 'plans the rewrite of the grown recording');
  t.same(await filesWithMtime(fx.targetDir), before, 'no file written, added or removed, .rcbs included');
  t.notOk(existsSync(path.join(fx.targetDir, '.rcbs', 'lock')), 'no lock left');

  const after = await fx.run(['run', 'metadata-export', '--config', fx.configPath]);
  t.equal(jsonWriterTally(after.stderr)?.rewritten, 1, 'the real run still has the rewrite to do');
  t.strictSame(JSON.parse(await readFile(path.join(fx.targetDir, specJsonPath(grown)), 'utf8')), grown.recording);
});
