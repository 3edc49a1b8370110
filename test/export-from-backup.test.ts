// Pins the exports people run against an existing backup, through the real CLI and
// the packaged pipelines (README "Compliance export"):
// - `backup-dir` honours the time window by stopTime, [maxDate, minDate) as GWS does,
//   when a window key is set, and walks the whole backup when none is (issue 14: it
//   used to ignore minDate/maxDate and export everything);
// - `calls-csv`: one row per media file with the SPEC'd columns, `path` filled for the
//   media that are on disk;
// - `agent-calls`: one agent's calls on one day, the agent given as a pipeline
//   parameter (`--set agent=…`); without it, exit 2 naming the parameter;
// - a backup folder that does not exist: exit 2 (SPEC §2), not an empty export.

import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { runCli } from './helpers/cli.js';
import { exportRecordings, type ExportRecording } from './helpers/export-data.js';

const START = Date.UTC(2026, 10, 1);

/** A backup in the SPEC §5 layout: <tenant>/yyyy/MM/dd/HH/<id>.json, the audio of every other recording on disk. */
function writeBackup(targetDir: string, recordings: ExportRecording[]): Set<string> {
  const onDisk = new Set<string>();
  recordings.forEach((r, i) => {
    const d = new Date(r.startTime.replace('+0000', 'Z'));
    const dir = path.join(targetDir, r.mediaFiles[0]!.tenant, d.toISOString().slice(0, 13).replace(/[-T]/g, '/'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${r.id}.json`), JSON.stringify(r, null, 2));
    if (i % 2 === 0) {
      writeFileSync(path.join(dir, `${r.mediaFiles[0]!.mediaId}.bin`), 'x'.repeat(10));
      onDisk.add(r.mediaFiles[0]!.mediaId);
    }
  });
  return onDisk;
}

const stopMs = (r: ExportRecording) => Date.parse(r.stopTime.replace('+0000', 'Z'));

t.test('calls-csv and agent-calls from a backup, windowed by stopTime', async (t) => {
  const dir = t.testdir();
  const targetDir = path.join(dir, 'backup');
  // 300 recordings over 3 days: 100 a day.
  const recordings = exportRecordings(300, START, 3);
  const onDisk = writeBackup(targetDir, recordings);
  const cli = (args: string[]) => runCli([...args, '--set', `targetDir=${targetDir}`], { cwd: dir });

  await t.test('no window key set: the whole backup', async (t) => {
    const run = await cli(['run', 'calls-csv', '--set', 'out=all.csv']);
    t.equal(run.code, 0, run.stderr);
    const rows = parse(readFileSync(path.join(dir, 'all.csv')), { columns: true }) as Array<Record<string, string>>;
    t.equal(rows.length, recordings.reduce((n, r) => n + r.mediaFiles.length, 0), 'one row per media file');
    t.same(Object.keys(rows[0]!), ['recordingId', 'startTime', 'stopTime', 'caller', 'dialed', 'agent', 'agentUserName', 'tenant', 'mediaId', 'type', 'duration', 'size', 'path']);
    const byMedia = new Map(rows.map((r) => [r.mediaId, r]));
    const r0 = recordings[0]!;
    t.same(byMedia.get(r0.mediaFiles[0]!.mediaId), {
      recordingId: r0.id, startTime: r0.startTime, stopTime: r0.stopTime, caller: r0.mediaFiles[0]!.parameters.ani, dialed: '4165550100',
      agent: r0.mediaFiles[0]!.parameters.agentId, agentUserName: 'agent0@example.com', tenant: 'Tenant_B', mediaId: 'm0-0', type: 'audio/mp3',
      duration: '', size: '1000', path: `Tenant_B/${r0.startTime.slice(0, 13).replace(/[-T]/g, '/')}/m0-0.bin`,
    });
    t.equal(rows.filter((r) => r.path !== '').length, onDisk.size, 'a path for exactly the media on disk');
  });

  await t.test('maxDate/minDate: stopTime in [maxDate, minDate)', async (t) => {
    const run = await cli(['run', 'calls-csv', '--set', 'out=day2.csv', '--set', 'maxDate=2026-11-02', '--set', 'minDate=2026-11-03']);
    t.equal(run.code, 0, run.stderr);
    const ids = new Set((parse(readFileSync(path.join(dir, 'day2.csv')), { columns: true }) as Array<Record<string, string>>).map((r) => r.recordingId));
    const wanted = recordings.filter((r) => stopMs(r) >= Date.UTC(2026, 10, 2) && stopMs(r) < Date.UTC(2026, 10, 3)).map((r) => r.id);
    t.ok(wanted.length > 90 && wanted.length < 110);
    t.same([...ids].sort(), wanted.sort());
    t.match(run.stderr, new RegExp(`backup-dir: ${wanted.length} recording\\(s\\) in the window, ${300 - wanted.length} outside it`));
  });

  await t.test("agent-calls: one agent's calls on one day", async (t) => {
    const run = await cli(['run', 'agent-calls', '--set', 'agent=agent3@example.com', '--set', 'maxDate=2026-11-02', '--set', 'minDate=2026-11-03', '--set', 'out=exports/agent3-2026-11-02.csv']);
    t.equal(run.code, 0, run.stderr);
    const rows = parse(readFileSync(path.join(dir, 'exports/agent3-2026-11-02.csv')), { columns: true }) as Array<Record<string, string>>;
    const wanted = recordings.filter((r) => stopMs(r) >= Date.UTC(2026, 10, 2) && stopMs(r) < Date.UTC(2026, 10, 3) && r.mediaFiles.some((m) => m.parameters.username === 'agent3@example.com'));
    t.ok(wanted.length > 5);
    t.same([...new Set(rows.map((r) => r.recordingId))].sort(), wanted.map((r) => r.id).sort());
    t.ok(rows.every((r) => r.agentUserName === 'agent3@example.com'));
    // The same agent by agentId works too.
    const byId = await cli(['run', 'agent-calls', '--set', `agent=${wanted[0]!.mediaFiles[0]!.parameters.agentId}`, '--set', 'maxDate=2026-11-02', '--set', 'minDate=2026-11-03', '--set', 'out=by-id.csv']);
    t.equal(byId.code, 0, byId.stderr);
    t.equal(readFileSync(path.join(dir, 'by-id.csv'), 'utf8'), readFileSync(path.join(dir, 'exports/agent3-2026-11-02.csv'), 'utf8'));
  });

  await t.test('agent-calls without an agent: exit 2 naming the parameter', async (t) => {
    const run = await cli(['run', 'agent-calls']);
    t.equal(run.code, 2);
    t.match(run.stderr, /pipeline parameter agent is not set: give it with --set agent=…/);
  });
});

t.test('a backup folder that does not exist: exit 2', async (t) => {
  const dir = t.testdir();
  const run = await runCli(['run', 'calls-csv', '--set', `targetDir=${path.join(dir, 'nowhere')}`], { cwd: dir });
  t.equal(run.code, 2, run.stderr);
  t.match(run.stderr, /backup folder .*nowhere does not exist.*RCBS_INPUT_MISSING/s);
});
