// Pins two of issue 13's "found before anything runs" items:
// - decryptDir without decryptKey is a config error that `rcbs validate` and
//   `--dry-run` report (exit 2, RCBS_CONFIG_INVALID naming decryptKey), not a
//   failure found mid-run after the downloads (it used to surface only then, as
//   RCBS_KEY_INVALID "no private key given").
// - `rcbs run fetch-media` with stdin on a terminal says it waits for NDJSON on
//   stdin instead of sitting silent. Run through a real pseudo-terminal (`script`
//   from util-linux): the warning appears, then Ctrl-D ends the input and the run.
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startSandbox } from '../src/sandbox/index.js';
import { CLI, runCli } from './helpers/cli.js';
import { sandboxBackup } from './helpers/backup-state.js';

t.test('decryptDir without decryptKey: validate and --dry-run exit 2', async (t) => {
  const sandbox = await startSandbox({ recordings: 2, oddities: false, media: false });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  // The sandbox writes decryptDir with a key; this config has the folder alone.
  const { config, env } = sandboxBackup(dir, sandbox, {}, (text) => `${text}\ndecryptDir = ${path.join(dir, 'plain')}\n`);
  for (const args of [['validate', 'backup', '--config', config], ['run', 'backup', '--config', config, '--dry-run'], ['-config', config]]) {
    const run = await runCli(args, { env });
    t.equal(run.code, 2, `${args.join(' ')}\n${run.stderr}`);
    t.match(run.stderr, /decryptDir \S+ is set but decryptKey is not.*code=RCBS_CONFIG_INVALID/, args[0]);
    t.notMatch(run.stderr, /querying GWS/, 'found before any request');
  }
});

t.test('fetch-media with stdin on a terminal says it waits for NDJSON', async (t) => {
  const sandbox = await startSandbox({ recordings: 2, oddities: false });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  const { config, env } = sandboxBackup(dir, sandbox);
  const command = `${process.execPath} ${CLI} run fetch-media --config ${config}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const waiting = new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      if (/waiting for recordings as NDJSON on stdin/.test(output)) resolve();
    });
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  await waiting;
  child.stdin.write('\x04'); // Ctrl-D on the terminal: end of input
  t.equal(await closed, 0, output);
  t.match(output, /waiting for recordings as NDJSON on stdin \(one JSON object per line; Ctrl-D ends\)/);
  t.match(output, /rcbs fetch-media: finished/);
});

t.test('fetch-media with piped stdin prints no such hint', async (t) => {
  const sandbox = await startSandbox({ recordings: 2, oddities: false });
  t.teardown(() => sandbox.close());
  const { config, env } = sandboxBackup(t.testdir(), sandbox);
  const run = await runCli(['run', 'fetch-media', '--config', config], { env, input: '' });
  t.equal(run.code, 0, run.stderr);
  t.notMatch(run.stderr, /waiting for recordings/);
});
