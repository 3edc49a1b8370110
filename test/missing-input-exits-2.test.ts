// Pins SPEC §2 "a command given a folder or file that does not exist exits 2; an
// empty backup is not a passing backup" (issue 13): `rcbs verify` on an unmounted
// share used to exit 0 with "recordings 0", a green nightly check. Now verify, `run
// decrypt`, decrypt and find exit 2 with RCBS_INPUT_MISSING and a message naming
// the folder; verify on an existing folder that is not an rcbs backup (no .rcbs/)
// exits 2 too, and on an rcbs backup holding no recording at all fails (exit 1).
import t from 'tap';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliEnv } from './helpers/backup-state.js';

const dir = t.testdir({ empty: {}, initialised: { '.rcbs': {} }, 'key.pem': 'not needed before the folder check' });
const missing = path.join(dir, 'not-mounted', 'backup');
const env = cliEnv();

function jsonLines(stderr: string): Array<Record<string, unknown>> {
  return stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

t.test('verify: a missing targetDir exits 2', async (t) => {
  const run = await runCli(['verify', '--target', missing, '--log-format', 'json'], { env });
  t.equal(run.code, 2, run.stderr);
  t.ok(jsonLines(run.stderr).some((l) => l.level === 'error' && l.code === 'RCBS_INPUT_MISSING' && String(l.msg).includes(missing)), run.stderr);
});

t.test('verify: an existing folder that is not an rcbs backup exits 2', async (t) => {
  const run = await runCli(['verify', '--target', path.join(dir, 'empty')], { env });
  t.equal(run.code, 2, run.stderr);
  t.match(run.stderr, /is not an rcbs backup \(no \.rcbs\/ folder/);
});

t.test('verify: an rcbs backup holding no recording fails', async (t) => {
  const run = await runCli(['verify', '--target', path.join(dir, 'initialised')], { env });
  t.equal(run.code, 1, run.stderr);
  t.match(run.stderr, /holds no recording: an empty backup does not pass/);
});

t.test('run decrypt: a missing targetDir exits 2', async (t) => {
  mkdirSync(path.join(dir, 'plain'), { recursive: true });
  const run = await runCli(['run', 'decrypt', '--set', `targetDir=${missing}`, '--set', `decryptDir=${path.join(dir, 'plain')}`, '--set', `decryptKey=${path.join(dir, 'key.pem')}`], { env });
  t.equal(run.code, 2, run.stderr);
  t.match(run.stderr, /does not exist.*RCBS_INPUT_MISSING/);
});

t.test('decrypt: a missing input exits 2', async (t) => {
  const run = await runCli(['decrypt', missing, '--key', path.join(dir, 'key.pem'), '--out', path.join(dir, 'out')], { env });
  t.equal(run.code, 2, run.stderr);
  t.match(run.stderr, /no such file or folder.*RCBS_INPUT_MISSING/);
});

t.test('find: a missing targetDir exits 2', async (t) => {
  const run = await runCli(['find', '--target', missing, '--agent', 'a1'], { env });
  t.equal(run.code, 2, run.stderr);
  t.match(run.stderr, /does not exist or is not a folder.*RCBS_INPUT_MISSING/);
});
