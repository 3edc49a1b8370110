// Pins that Ctrl-C ends a run reading NDJSON from a pipe whose writer is idle (SPEC §2,
// exit 130): the ndjson source lets go of its input when the run is interrupted instead of
// waiting for the next byte, which may never come (`producer | rcbs run fetch-media` with
// a producer that hangs). Before, the run waited on stdin until killed. The real CLI,
// spawned with a stdin pipe that stays open and silent.

import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'cli.js');

t.test('SIGINT while stdin is open and idle: exit 130 at once, with the summary', async (t) => {
  const dir = t.testdir({});
  const pipeline = path.join(dir, 'nd.json');
  writeFileSync(pipeline, JSON.stringify({ name: 'nd', description: 'stdin to stdout', source: { use: 'ndjson' }, sinks: [{ use: 'ndjson' }] }));
  const child = spawn(process.execPath, [CLI, 'run', pipeline, '--set', `targetDir=${path.join(dir, 'target')}`], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  let stderr = '';
  let stdout = '';
  const echoed = new Promise<void>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('"r1"')) resolve();
    });
  });
  const started = new Promise<void>((resolve) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes('running pipeline')) resolve();
    });
  });
  // One record first, so the source is surely reading when the signal comes.
  child.stdin.write('{"id":"r1"}\n');
  await started;
  await echoed;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  // Bounded, so the old behaviour (waiting on stdin for ever) fails here instead of at tap's timeout.
  const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(resolve, 15_000, 'hung').unref())]);
  t.equal(code, 130, stderr);
  t.match(stderr, /interrupted/);
});
