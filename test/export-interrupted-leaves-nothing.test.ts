// Pins that an export is all or nothing (SPEC §6 "each file written atomically",
// STYLE "Ctrl-C leaves no temp file"): Ctrl-C in the middle of a `file` export
// exits 130 and leaves the export folder empty (no file under a final name, no temp
// file), and so does a run that fails half-way (a folder that cannot be created for
// one of the files): the files already begun are removed with it. The test waits
// for the temp files to exist, so the signal surely lands mid-export.

import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { until } from './helpers/backup-run.js';
import { exportRecordings, toNdjson } from './helpers/export-data.js';

function pipelineFile(dir: string, template: string): string {
  const file = path.join(dir, 'export.json');
  writeFileSync(file, JSON.stringify({
    name: 'interrupted',
    description: 'test',
    source: { use: 'ndjson', with: { path: 'recordings.ndjson' } },
    transforms: [{ use: 'select', with: { flatten: 'mediaFiles', fields: { id: 'id', tenant: 'mediaFiles.tenant', start: 'startTime' } } }],
    sinks: [{ use: 'file', with: { format: 'csv', path: template } }],
  }));
  return file;
}

const listed = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).sort();

t.test('SIGINT mid-export: exit 130, no final file, no temp file', async (t) => {
  const dir = t.testdir({ out: {} });
  // Enough rows that the run is still going when the first temp files appear.
  writeFileSync(path.join(dir, 'recordings.ndjson'), toNdjson(exportRecordings(200_000, Date.UTC(2026, 9, 1), 30)));
  pipelineFile(dir, 'out/{startTime:yyyy-MM-dd}.csv');
  let child: ChildProcess | undefined;
  const running = runCli(['run', './export.json', '--set', `targetDir=${path.join(dir, 'target')}`], { cwd: dir, onSpawn: (c) => (child = c) });
  await until('temp files of the export', () => (listed(path.join(dir, 'out')).some((f) => f.endsWith('.part')) ? true : undefined));
  child!.kill('SIGINT');
  const run = await running;
  t.equal(run.code, 130, run.stderr);
  t.match(run.stderr, /no export file written .*temp files removed/);
  t.same(listed(path.join(dir, 'out')), [], 'the export folder is empty');
});

t.test('a run that fails half-way removes the files it had begun', async (t) => {
  const dir = t.testdir({ out: {} });
  writeFileSync(path.join(dir, 'recordings.ndjson'), toNdjson(exportRecordings(50, Date.UTC(2026, 9, 1), 1)));
  // A file where the folder for tenant Environment must go: that write fails.
  writeFileSync(path.join(dir, 'out', 'Environment'), 'in the way');
  pipelineFile(dir, 'out/{tenant}/calls.csv');
  const run = await runCli(['run', './export.json', '--set', `targetDir=${path.join(dir, 'target')}`], { cwd: dir });
  t.not(run.code, 0, 'the run fails');
  t.match(run.stderr, /out\/Environment/);
  t.same(listed(path.join(dir, 'out')), ['Environment'], 'Tenant_B/calls.csv (begun first) was removed with its temp file and folder');
});
