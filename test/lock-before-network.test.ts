// Pins SPEC §5 "a second one exits 3 at once": the lock is taken before any
// component talks to GWS or S3, so a held lock wins over an unreachable GWS
// (which would otherwise cost a full retry cycle and end in exit 1).

import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, cleanEnv } from './helpers/cli.js';

t.test('a held lock gives exit 3 before any network call', async (t) => {
  const dir = t.testdir();
  const target = path.join(dir, 'target');
  mkdirSync(path.join(target, '.rcbs'), { recursive: true });
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.teardown(() => holder.kill());
  writeFileSync(path.join(target, '.rcbs', 'lock'), JSON.stringify({ pid: holder.pid, host: os.hostname(), startedAt: Date.now() }));
  const config = path.join(dir, 'config.properties');
  // Port 9 (discard) refuses connections: GWS is unreachable.
  writeFileSync(config, `gwsUriPrefix = http://127.0.0.1:9/api/v2\ntargetDir = ${target}\n`);
  const started = Date.now();
  const result = await runCli(['-config', config], { env: cleanEnv({ GWS_USERNAME: 'u', GWS_PASSWORD: 'p4ssw0rd', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 's3cr3tkey' }) });
  t.equal(result.code, 3, result.stderr);
  t.match(result.stderr, new RegExp(`pid ${holder.pid} on host ${os.hostname()}`));
  t.notMatch(result.stderr, /GWS request failed/, 'GWS was never called');
  t.ok(Date.now() - started < 10_000, 'at once, not after a retry cycle');
});
