// Pins issue 13's log items (SPEC §2 "machine-readable outcome"):
// - `--log-format json`: every stderr line is one JSON object, parsed one by one,
//   the summary last ("msg":"summary" with the totals and the exit code), also for
//   an interrupted run (the "SIGTERM received" line is JSON) and for a run that
//   could not start (config error: a summary with exit code 2). Before, the summary
//   table, "SIGTERM received" and blank lines came out as plain text.
// - `--quiet`: warnings, errors and the summary only.
// - human lines carry an ISO-8601 timestamp when stderr is not a terminal.
// - on a terminal (a real pseudo-terminal through `script`): a log line clears the
//   progress line first and the progress line is redrawn below it; no log text is
//   glued to a progress line, no stray characters remain from a longer one.
// - the ETA only once every piece of work and its size are known and the rate has
//   been measured (it said 4.9 s at the 5 s mark of a 42 s run): none before.
// - a folder decrypt has a progress line too.
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { startBackupFixture, tempFiles, until } from './helpers/backup-run.js';
import { CLI, runCli } from './helpers/cli.js';
import { cliEnv } from './helpers/backup-state.js';
import { estimateRemainingMs } from '../src/pipeline/report.js';

function jsonLines(stderr: string): Array<Record<string, unknown>> {
  const lines = stderr.split('\n');
  t.equal(lines.pop(), '', 'stderr ends with a newline');
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`stderr line ${i + 1} is not JSON: ${JSON.stringify(line)}`);
    }
  });
}

t.test('--log-format json: JSON lines only, the summary last', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 6, seed: 91 } });
  const run = await f.cli(['-config', f.configPath, '--log-format', 'json']);
  t.equal(run.code, 0, run.stderr);
  const lines = jsonLines(run.stderr);
  t.ok(lines.length > 3);
  for (const line of lines) t.match(line, { time: /^\d{4}-\d\d-\d\dT/, level: /^(debug|info|warn|error)$/, msg: String });
  const summary = lines.at(-1)!;
  t.match(summary, { msg: 'summary', level: 'info', pipeline: 'backup', status: 'finished', exitCode: 0, totals: { failed: 0 } });
  t.equal((summary.totals as { downloaded: number }).downloaded, f.wanted.length, 'the totals count what was downloaded');
  t.ok(Array.isArray(summary.components));
  t.match(summary.checkpoint, { advanced: true, lastRecordingEndTime: Number }, 'the checkpoint moved');
  t.equal(lines.filter((l) => l.msg === 'summary').length, 1, 'one summary');
});

t.test('--log-format json: SIGTERM mid-run gives JSON lines and an interrupted summary', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 6, seed: 92 } });
  f.proxy.hold(300);
  let child: import('node:child_process').ChildProcess | undefined;
  const running = f.cli(['-config', f.configPath, '--log-format', 'json'], { onSpawn: (c) => (child = c) });
  await until('transfers to be under way', async () => ((await tempFiles(f.targetDir)).length > 0 ? true : undefined));
  child!.kill('SIGTERM');
  const run = await running;
  f.proxy.release();
  t.equal(run.code, 130, run.stderr);
  const lines = jsonLines(run.stderr);
  t.ok(lines.some((l) => l.level === 'warn' && l.msg === 'SIGTERM received, stopping' && l.signal === 'SIGTERM'), 'the signal line is JSON');
  t.match(lines.at(-1), { msg: 'summary', status: 'interrupted', exitCode: 130 });
});

t.test('--log-format json: a run that cannot start still ends with a summary', async (t) => {
  const dir = t.testdir({ 'config.properties': 'targetDir = /tmp/x\nnumThreads = many\n' });
  const run = await runCli(['-config', path.join(dir, 'config.properties'), '--log-format', 'json'], { env: cliEnv() });
  t.equal(run.code, 2, run.stderr);
  const lines = jsonLines(run.stderr);
  t.match(lines.at(-2), { level: 'error', code: 'RCBS_CONFIG_INVALID' });
  t.match(lines.at(-1), { msg: 'summary', status: 'failed', exitCode: 2, error: { code: 'RCBS_CONFIG_INVALID' } });
});

t.test('--quiet: warnings, errors and the summary only; human lines are timestamped off a terminal', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 6, seed: 93 } });
  const loud = await f.cli(['-config', f.configPath]);
  t.equal(loud.code, 0, loud.stderr);
  const logLines = loud.stderr.split('\n').filter((l) => / rcbs (debug|info|warn|error): /.test(` ${l}`) || /rcbs (info|warn|error):/.test(l));
  t.ok(logLines.length > 2);
  for (const line of logLines) t.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z rcbs (info|warn|error): /, 'timestamped');
  t.match(loud.stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z rcbs backup: finished in /m, 'the summary starts with a timestamp too');

  const quiet = await f.cli(['-config', f.configPath, '--quiet']);
  t.equal(quiet.code, 0, quiet.stderr);
  t.notMatch(quiet.stderr, /rcbs info:/, 'no info lines');
  t.match(quiet.stderr, /rcbs backup: finished in[^]*skipped\s+\d+/, 'the summary table');

  const quietJson = await f.cli(['-config', f.configPath, '-q', '--log-format', 'json']);
  const lines = jsonLines(quietJson.stderr);
  t.ok(lines.slice(0, -1).every((l) => l.level === 'warn' || l.level === 'error'), 'only warnings and errors before the summary');
  t.match(lines.at(-1), { msg: 'summary', exitCode: 0 });
});

/** What a terminal shows for `raw`: \r returns to column 0, CSI K erases to the end, text overwrites. */
function screenLines(raw: string): string[] {
  const out: string[] = [];
  for (const line of raw.replace(/\r\n/g, '\n').split('\n')) {
    let cells: string[] = [];
    let col = 0;
    for (let i = 0; i < line.length; i++) {
      if (line[i] === '\r') col = 0;
      else if (line.startsWith('\x1b[K', i)) {
        cells = cells.slice(0, col);
        i += 2;
      } else {
        cells[col++] = line[i]!;
      }
    }
    out.push(cells.join(''));
  }
  return out;
}

t.test('on a terminal: log lines never mix with the progress line', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 8, seed: 94, mediaSize: { min: 200_000, max: 400_000 } } });
  f.proxy.hold(100_000);
  // A real pseudo-terminal: `script` runs the CLI with stdin, stdout and stderr on a pty, 100 columns.
  const command = `stty cols 100; exec ${process.execPath} ${CLI} -config ${f.configPath}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: f.dir, env: f.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let raw = '';
  const progressShown = new Promise<void>((resolve) =>
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      raw += d;
      if (/\rrecordings \d+ {2}files/.test(raw)) resolve();
    }),
  );
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  await progressShown;
  f.proxy.release();
  t.equal(await closed, 0, raw);
  t.match(raw, /\rrecordings \d+ {2}files \d+/, 'the progress line was drawn');
  t.match(raw, /\r\x1b\[Krcbs info: /, 'a log line clears the progress line first');
  t.match(raw, /rcbs info: [^\n]*\n\rrecordings /, 'the progress line is drawn again below a log line');
  const screen = screenLines(raw);
  for (const line of screen.filter((l) => /rcbs (info|warn|error):/.test(l))) {
    t.match(line, /^rcbs (info|warn|error): /, 'a log line starts at column 0 (no timestamp on a terminal)');
    t.notMatch(line, /ETA/, 'no progress text glued to a log line');
  }
  for (const line of screen.filter((l) => l.startsWith('recordings '))) {
    t.match(line, /^recordings \d+ {2}files \d+ {2}[\d.]+ [KMG]?i?B(?: of [\d.]+ [KMG]?i?B)? {2}[\d.]+ [KMG]?i?B\/s {2}ETA (-|[\d.]+ m?s|\d+ min \d+ s)$/, 'a whole progress line, nothing left over from a longer one');
    t.ok(line.length < 100, 'cut to the terminal width');
  }
  t.ok(screen.some((l) => /^rcbs backup: finished in/.test(l)), 'the summary on its own line');
});

t.test('ETA: none until every piece of work is known and the rate measured', async (t) => {
  const base = { bytes: 5_000_000, expected: 42_000_000, rate: 1_000_000 };
  t.equal(estimateRemainingMs({ ...base, planned: false, measuredMs: 5_000 }), undefined, 'work still coming in: no ETA');
  t.equal(estimateRemainingMs({ ...base, planned: true, measuredMs: 1_000 }), undefined, 'rate measured for too short a time');
  t.equal(estimateRemainingMs({ ...base, bytes: 100_000, planned: true, measuredMs: 5_000 }), undefined, 'too little done');
  t.equal(estimateRemainingMs({ ...base, planned: true, measuredMs: 5_000 }), 37_000, '37 MB left at 1 MB/s: 37 s');
  t.equal(estimateRemainingMs({ ...base, bytes: 42_000_000, planned: true, measuredMs: 40_000 }), undefined, 'done: no ETA');
});

t.test('a folder decrypt shows a progress line with the known total and an ETA field', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 4, seed: 95 } });
  const backup = await f.backup();
  t.equal(backup.code, 0, backup.stderr);
  const key = path.join(f.dir, 'key.pem');
  writeFileSync(key, f.sandbox.keyPem);
  const run = await runCli(['decrypt', f.targetDir, '--key', key, '--out', path.join(f.dir, 'plain'), '--progress'], { env: f.env });
  t.equal(run.code, 0, run.stderr);
  t.match(run.stderr, /\rfiles \d+ {2}[\d.]+ [KMG]?i?B of [\d.]+ [KMG]?i?B {2}[\d.]+ [KMG]?i?B\/s {2}ETA /, 'files, bytes of the total, rate, ETA');
  t.match(run.stderr, /rcbs decrypt: decrypted \d+ file\(s\)/, 'and its summary');
});
