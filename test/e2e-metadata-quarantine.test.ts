// Pins SPEC §5's quarantine through the real CLI on the sandbox's deliberately
// broken recordings: a media file without its required `type`, a recording
// without an id, a `../../../escaped-…` mediaId and a `..` tenant each land in
// .rcbs/quarantine.ndjson with a reason and a code, the run goes on (every good
// record written), exits 0 and still commits the window (SPEC §3: quarantined
// records never hold last_recording_endtime.txt back). Nothing is written outside
// targetDir: the test folder holds the same entries before and after plus the
// targetDir, and no file named after the traversal attempt exists anywhere in
// it. Both metadata paths must agree: `run metadata-export` and the original's
// `-config` with metadataOnly=true (where no download step checks the mediaId).

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { exportable, filesWithMtime, specJsonPath, withSandbox } from './helpers/sandbox-run.js';

interface QuarantineLine {
  recordingId?: string;
  reason: string;
  code: string;
  recording: Record<string, unknown>;
}

t.test('odd records go to quarantine with their reasons; nothing escapes targetDir', async (t) => {
  const fx = await withSandbox(t, { sandbox: { recordings: 12, seed: 9 }, config: { metadataOnly: true } });
  const odd = new Map(fx.sandbox.recordings.filter((r) => r.odd && r.odd !== 'wav-media').map((r) => [r.odd!, r]));
  t.equal(odd.size, 4, 'the sandbox serves four records that must be quarantined');

  const runs = [
    { name: 'metadata-export', targetName: 'export', args: ['run', 'metadata-export', '--config', fx.configPath] },
    { name: '-config metadataOnly=true', targetName: 'backup', args: ['-config', fx.configPath] },
  ];
  for (const { name, targetName, args } of runs) {
    const targetDir = path.join(fx.dir, targetName);
    const parentBefore = (await readdir(fx.dir)).sort();
    const result = await fx.run([...args, '--set', `targetDir=${targetDir}`]);
    t.equal(result.code, 0, `${name}: exit 0, quarantine is not a failure`, { stderr: result.stderr });
    t.match(result.stderr, /quarantined\s+4\b/, `${name}: the summary counts 4 quarantined`);

    const lines = (await readFile(path.join(targetDir, '.rcbs', 'quarantine.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as QuarantineLine);
    t.equal(lines.length, 4, `${name}: one quarantine line per odd record`);
    const lineFor = (r: { recording: Record<string, unknown> }) => lines.find((l) => JSON.stringify(l.recording) === JSON.stringify(r.recording));
    const expectations: Array<[string, RegExp, string]> = [
      ['no-media-type', /type/, 'RCBS_RECORD_INVALID'],
      ['no-id', /\bid\b/, 'RCBS_RECORD_INVALID'],
      ['traversal-media-id', /mediaId.*escaped-|path separator/, 'RCBS_UNSAFE_NAME'],
      ['dotdot-tenant', /tenant.*"\.\."/, 'RCBS_UNSAFE_NAME'],
    ];
    for (const [kind, reason, code] of expectations) {
      const line = lineFor(odd.get(kind as never)!);
      t.ok(line, `${name}: ${kind} is quarantined with its whole recording`);
      t.match(line?.reason, reason, `${name}: ${kind} reason: ${line?.reason}`);
      t.equal(line?.code, code, `${name}: ${kind} code`);
    }

    const files = await filesWithMtime(targetDir, true);
    t.same([...files.keys()].sort(), exportable(fx.sandbox).map(specJsonPath).sort(), `${name}: every good record written, no odd one`);
    t.ok((await readFile(path.join(targetDir, '.rcbs', 'last_recording_endtime.txt'), 'utf8')).trim(), `${name}: window committed`);

    t.same((await readdir(fx.dir)).sort(), [...parentBefore, targetName].sort(), `${name}: the test folder gained only the targetDir`);
    const everywhere = await filesWithMtime(fx.dir);
    t.same([...everywhere.keys()].filter((p) => p.includes('escaped-')), [], `${name}: no file named after the traversal attempt`);
  }
  t.same(fx.s3Requests(), [], 'no S3 request');
});

t.test('run export (NDJSON only, read-only store): invalid records are dropped and reported, nothing is written', async (t) => {
  const fx = await withSandbox(t, { sandbox: { recordings: 12, seed: 9 }, config: { metadataOnly: true } });
  const targetDir = path.join(fx.dir, 'never-written');
  const result = await fx.run(['run', 'export', '--config', fx.configPath, '--set', `targetDir=${targetDir}`, '--ndjson']);
  t.equal(result.code, 0, 'exit 0: an invalid record is not a failure of the export', { stderr: result.stderr });
  const ids = result.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { recording: { id?: string } }).recording.id);
  const invalid = fx.sandbox.recordings.filter((r) => r.odd === 'no-media-type' || r.odd === 'no-id');
  t.equal(invalid.length, 2);
  t.equal(ids.length, fx.sandbox.recordings.length - 2, 'every record but the two the schema rejects is exported');
  t.notOk(ids.includes(undefined), 'the record without an id is not exported');
  t.notOk(ids.includes(invalid.find((r) => r.odd === 'no-media-type')!.recording.id as string), 'the record without a media type is not exported');
  t.match(result.stderr, /invalid record dropped; not added to quarantine\.ndjson/);
  t.match(result.stderr, /quarantined\s+2\b/, 'the summary counts them');
  t.same(await readdir(targetDir).catch(() => 'absent'), 'absent', 'the export creates nothing in targetDir');
});
