// Pins the command line a user meets first: the original's `-config` spellings
// (single dash, en dash from the guide's typography) run pipeline `backup`;
// help lists every command; `pipelines` lists the packaged ones; `validate`
// exits 0 on a good pipeline and 2 with JSON paths on a bad one; unknown
// commands and missing files are usage errors (exit 2), never stack traces.

import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { normaliseArgv } from '../src/cli.js';
import { runCli } from './helpers/cli.js';

t.test('the original spellings of -config run pipeline backup', async (t) => {
  t.same(normaliseArgv(['-config', 'c.properties']), ['run', 'backup', '--config', 'c.properties']);
  t.same(normaliseArgv(['--config', 'c.properties']), ['run', 'backup', '--config', 'c.properties']);
  t.same(normaliseArgv(['\u2013config', 'c.properties']), ['run', 'backup', '--config', 'c.properties']);
  t.same(normaliseArgv(['-config=c.properties']), ['run', 'backup', '--config=c.properties']);
  t.same(normaliseArgv(['run', 'x', '--config', 'c']), ['run', 'x', '--config', 'c'], 'other commands untouched');
});

t.test('help, pipelines, version', async (t) => {
  const help = await runCli(['--help']);
  t.equal(help.code, 0);
  for (const command of ['run', 'pipelines', 'validate', 'decrypt', 'verify', 'find', 'sandbox']) t.match(help.stdout, new RegExp(`\\n  ${command} `), `help lists ${command}`);
  t.match(help.stdout, /Exit codes/);
  const list = await runCli(['pipelines']);
  t.equal(list.code, 0);
  for (const name of ['backup', 'metadata-export', 'decrypt', 'verify']) t.match(list.stdout, new RegExp(`^${name} +\\S`, 'm'));
  t.equal(list.stderr, '', 'nothing on stderr');
  t.match((await runCli(['--version'])).stdout, /^\d+\.\d+\.\d+/);
});

t.test('validate: 0 for a good pipeline, 2 with JSON paths for a bad one', async (t) => {
  const dir = t.testdir();
  const config = path.join(dir, 'config.properties');
  writeFileSync(config, 'gwsUriPrefix = https://gws.example/api/v2\ntargetDir = ./target\n');
  const good = await runCli(['validate', 'backup', '--config', config]);
  t.equal(good.code, 0, good.stderr);
  t.match(good.stdout, /valid \(gws-recordings → validate → media-type → shard → dedupe → s3-download → json-writer → decrypt\)/);

  const bad = path.join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ name: 'Bad Name', description: 'x', source: { use: 'ndjson', with: { path: 3 } }, transforms: [{ use: 's3-download' }], sinks: [] }));
  const result = await runCli(['validate', bad, '--config', config]);
  t.equal(result.code, 2);
  t.match(result.stderr, /RCBS_PIPELINE_INVALID/);
  t.match(result.stderr, /\/name: must match pattern/);
  t.match(result.stderr, /\/sinks: must NOT have fewer than 1 items/);
  t.match(result.stderr, /\/transforms\/0\/use: must be equal to one of the allowed values/);
  t.match(result.stderr, /\/source\/with\/path: must be string/);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
});

t.test('usage errors exit 2', async (t) => {
  t.equal((await runCli(['bogus'])).code, 2);
  t.equal((await runCli(['run'])).code, 2);
  const missing = await runCli(['-config', '/nonexistent/config.properties']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /\/nonexistent\/config\.properties/);
  const nopipe = await runCli(['run', 'no-such-pipeline']);
  t.equal(nopipe.code, 2);
  t.match(nopipe.stderr, /RCBS_PIPELINE_NOT_FOUND.*|no pipeline "no-such-pipeline"/);
});
