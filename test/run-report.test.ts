// Pins the machine-readable outcome of a run (SPEC §2), what schedulers and
// monitoring read: every run past its config writes .rcbs/runs/<start>.json
// (command, pipeline, window, per-component counts, totals, exit code, every
// failure with its code), and a run with failed media writes .rcbs/failed.ndjson
// in the form `rcbs run fetch-media` reads, so retrying only the failures is one
// command; a later complete run without failures removes that list. Real CLI,
// real sandbox (GWS + s3rver); a media object is made to vanish by moving
// s3rver's file away and back.

import t from 'tap';
import { existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';
import { startSandbox } from '../src/sandbox/index.js';
import { RUN_REPORTS_KEPT, runReportName, writeRunReport } from '../src/store/run-reports.js';
import { runCli } from './helpers/cli.js';
import { sandboxBackup, wantedMedia } from './helpers/backup-state.js';

const runsOf = (targetDir: string) => readdirSync(path.join(targetDir, '.rcbs', 'runs')).filter((n) => n.endsWith('.json')).sort();
const readReport = (targetDir: string, name: string) => JSON.parse(readFileSync(path.join(targetDir, '.rcbs', 'runs', name), 'utf8'));

t.test('a failed media file: report with its code, failed.ndjson, one-command retry, then a clean run clears the list', async (t) => {
  const sandbox = await startSandbox({ recordings: 8, seed: 11 });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  const { targetDir, config, env } = sandboxBackup(dir, sandbox);

  const [mediaId, { recordingId }] = [...wantedMedia(sandbox)][0]!;
  const [objectFile] = await fg(`**/${mediaId}._S3rver_object`, { cwd: sandbox.dir, absolute: true, dot: true, onlyFiles: true });
  t.ok(objectFile, `s3rver keeps ${mediaId} in a file`);
  const hidden = `${objectFile}.hidden`;
  renameSync(objectFile!, hidden);

  const first = await runCli(['-config', config], { env });
  t.equal(first.code, 1, 'finished with a failure');
  const [name] = runsOf(targetDir);
  t.ok(name, 'a run report was written');
  const report = readReport(targetDir, name!);
  t.match(report, {
    command: 'run backup',
    pipeline: 'backup',
    status: 'finished with failures',
    exitCode: 1,
    dryRun: false,
    checkpoint: { advanced: false },
    totals: { failed: 1, archived: 0, interrupted: 0 },
    failures: [{ component: 's3-download', recordingId, mediaId, code: 'RCBS_S3_NOT_FOUND' }],
  });
  t.equal(report.failures.length, 1);
  t.ok(report.window && typeof report.window.endMs === 'number', 'the window is in the report');
  t.same(report.components.map((c: { name: string }) => c.name), ['gws-recordings', 'validate', 'media-type', 'shard', 'dedupe', 's3-download', 'json-writer', 'decrypt']);
  t.equal(report.components.find((c: { name: string }) => c.name === 's3-download').failed, 1);
  t.ok(report.totals.downloaded > 0 && report.totals.bytes > 0);
  t.ok(Number.isFinite(Date.parse(report.startedAt)) && report.durationMs >= 0);

  const failedFile = path.join(targetDir, '.rcbs', 'failed.ndjson');
  const failedLines = readFileSync(failedFile, 'utf8').trim().split('\n');
  t.equal(failedLines.length, 1, 'one failed record listed');
  t.equal(JSON.parse(failedLines[0]!).id, recordingId, 'as the recording itself, which fetch-media reads');

  // The object is back: retrying only the failures is one command.
  renameSync(hidden, objectFile!);
  const retry = await runCli(['run', 'fetch-media', '--config', config], { env, input: readFileSync(failedFile) });
  t.equal(retry.code, 0, `the retry succeeds (${retry.stderr.slice(-400)})`);
  const onDisk = await fg(`**/${mediaId}.bin`, { cwd: targetDir });
  t.equal(onDisk.length, 1, 'the failed media file is now backed up');

  const clean = await runCli(['-config', config], { env });
  t.equal(clean.code, 0);
  t.notOk(existsSync(failedFile), 'a complete run without failures removes the old list');
  const names = runsOf(targetDir);
  t.equal(names.length, 3, 'one report per run');
  const last = readReport(targetDir, names[2]!);
  t.match(last, { status: 'finished', exitCode: 0, checkpoint: { advanced: true }, failures: [] });

  const verify = await runCli(['verify', '--config', config], { env });
  t.equal(verify.code, 0, verify.stderr.slice(-400));
  const verifyReport = readReport(targetDir, runsOf(targetDir)[3]!);
  t.match(verifyReport, { command: 'verify', pipeline: 'verify', exitCode: 0 });
});

t.test(`only the newest ${RUN_REPORTS_KEPT} reports are kept; a read-only run writes none where there is no .rcbs/`, async (t) => {
  const dir = t.testdir();
  const runs = path.join(dir, '.rcbs', 'runs');
  await mkdir(runs, { recursive: true });
  const base = Date.UTC(2026, 0, 1);
  for (let i = 0; i < RUN_REPORTS_KEPT + 4; i++) await writeFile(path.join(runs, runReportName(base + i * 1000, 1)), '{}');
  const file = await writeRunReport(dir, base + 10_000_000, { exitCode: 0 }, { createState: false });
  t.ok(file && existsSync(file));
  const left = (await readdir(runs)).sort();
  t.equal(left.length, RUN_REPORTS_KEPT);
  t.equal(left[left.length - 1], path.basename(file!), 'the newest is kept');
  t.notOk(left.includes(runReportName(base, 1)), 'the oldest went');

  const elsewhere = t.testdir();
  t.equal(await writeRunReport(elsewhere, base, {}, { createState: false }), undefined);
  t.notOk(existsSync(path.join(elsewhere, '.rcbs')), 'no state created by a read-only run');
});
