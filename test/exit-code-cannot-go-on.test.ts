// Pins exit code 4 (SPEC §2): the run could not start or could not go on for a
// reason that is not one item's, with one clear message and no cascade of
// per-item errors, so a scheduler can tell "some recordings failed, retry them"
// (exit 1) from "nothing could run here" (exit 4). GWS that is not there, and a
// targetDir that cannot be created. (A full or read-only disk mid-run is pinned in
// reliability-disk-full-and-read-only.test.ts.) Real CLI, real sandbox.

import t from 'tap';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { startSandbox } from '../src/sandbox/index.js';
import { runCli } from './helpers/cli.js';
import { sandboxBackup } from './helpers/backup-state.js';

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test('GWS unreachable after retries: exit 4, one message, a run report that says why', async (t) => {
  const sandbox = await startSandbox({ recordings: 4, seed: 41 });
  t.teardown(() => sandbox.close());
  const port = await deadPort();
  const { targetDir, config, env } = sandboxBackup(t.testdir(), sandbox, {}, (text) => text.replace(/^gwsUriPrefix\s*=.*$/m, `gwsUriPrefix = http://127.0.0.1:${port}/api/v2`));
  const run = await runCli(['-config', config], { env });
  t.equal(run.code, 4, run.stderr.slice(-1000));
  t.match(run.stderr, /RCBS_GWS_UNREACHABLE/);
  t.match(run.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`), 'names what could not be reached');
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
  const runs = path.join(targetDir, '.rcbs', 'runs');
  const [report] = readdirSync(runs);
  t.match(JSON.parse(readFileSync(path.join(runs, report!), 'utf8')), { status: 'failed', exitCode: 4, error: { code: 'RCBS_GWS_UNREACHABLE' }, checkpoint: { advanced: false } });
  t.notOk(existsSync(path.join(targetDir, '.rcbs', 'last_recording_endtime.txt')));
});

t.test('a targetDir that cannot be created: exit 4 naming the folder, nothing written', async (t) => {
  const sandbox = await startSandbox({ recordings: 2, seed: 42 });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  // A file stands where a folder of the path should be.
  writeFileSync(path.join(dir, 'not-a-folder'), 'x');
  const targetDir = path.join(dir, 'not-a-folder', 'backup');
  const { config, env } = sandboxBackup(dir, sandbox, {}, (text) => text.replace(/^targetDir\s*=.*$/m, `targetDir = ${targetDir}`));
  const run = await runCli(['-config', config], { env });
  t.equal(run.code, 4, run.stderr.slice(-1000));
  t.match(run.stderr, /RCBS_TARGET_UNAVAILABLE/);
  t.match(run.stderr, /not-a-folder/);
  t.match(run.stderr, /a file stands where a folder is expected/);
  t.equal(sandbox.gws.requestCount(), 0, 'GWS was never asked: the run could not start');
});
