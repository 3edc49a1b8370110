// Pins the outcome of hostile pipeline files through the real CLI (SPEC §6; issue
// 5): not JSON, the wrong top-level shape, an unknown component, a component of
// the wrong kind, wrong option types, a bad $schema, a missing ${env.X}, an empty
// file. `rcbs validate <file>` and `rcbs run <file>` must both exit 2 naming the
// JSON path (or the variable / the parse position), print no stack trace, and
// `run` must write nothing into targetDir.

import t from 'tap';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliEnv } from './helpers/backup-state.js';

const good = {
  name: 'hostile',
  description: 'a pipeline to break',
  source: { use: 'gws-recordings' },
  transforms: [{ use: 'validate' }],
  sinks: [{ use: 'json-writer' }],
};

interface Row {
  name: string;
  body: string;
  stderr: RegExp;
}

const json = (v: unknown) => JSON.stringify(v);
const ROWS: Row[] = [
  { name: 'not JSON', body: '{ "name": "x", ', stderr: /JSON|parse|Unexpected/i },
  { name: '${env.X} that is not set', body: json({ ...good, source: { use: 'ndjson', with: { path: '${env.RCBS_TEST_UNSET_VARIABLE}' } } }), stderr: /RCBS_TEST_UNSET_VARIABLE/ },
  { name: 'a JSON array, not an object', body: '[1, 2, 3]', stderr: /must be object|object/ },
  { name: 'unknown source component', body: json({ ...good, source: { use: 'ftp-download' } }), stderr: /\/source\/use/ },
  { name: 'a sink used as a transform (wrong kind)', body: json({ ...good, transforms: [{ use: 's3-download' }] }), stderr: /\/transforms\/0\/use/ },
  { name: 'option of the wrong type', body: json({ ...good, source: { use: 'ndjson', with: { path: 3 } } }), stderr: /\/source\/with\/path: must be string/ },
  { name: 'unknown option', body: json({ ...good, sinks: [{ use: 'json-writer', with: { overwriteEverything: true } }] }), stderr: /\/sinks\/0\/with.*(additional|overwriteEverything)/ },
  { name: 'bad $schema', body: json({ $schema: 42, ...good }), stderr: /\$schema/ },
  { name: 'no sinks', body: json({ ...good, sinks: [] }), stderr: /\/sinks: must NOT have fewer than 1 items/ },
  { name: 'empty file', body: '', stderr: /JSON|empty|parse/i },
  { name: 'name with a path in it', body: json({ ...good, name: '../../etc/passwd' }), stderr: /\/name/ },
];

t.test('hostile pipeline files: validate and run exit 2 naming the problem', async (t) => {
  const dir = t.testdir();
  const config = path.join(dir, 'config.properties');
  writeFileSync(config, `gwsUriPrefix = http://127.0.0.1:9/api/v2\ntargetDir = ./t\nmetadataOnly = true\n`);
  const env = cliEnv({ GWS_USERNAME: 'u', GWS_PASSWORD: 'p' });
  for (let i = 0; i < ROWS.length; i += 3) {
    await Promise.all(
      ROWS.slice(i, i + 3).map(async (row, j) => {
        const rowDir = path.join(dir, `row-${i + j}`);
        mkdirSync(rowDir);
        const file = path.join(rowDir, 'pipeline.json');
        writeFileSync(file, row.body);
        // run goes through the same loader: checked on the first rows only, to keep the file fast.
        for (const command of i + j < 4 ? (['validate', 'run'] as const) : (['validate'] as const)) {
          const result = await runCli([command, file, '--config', config], { env, cwd: rowDir });
          t.equal(result.code, 2, `${command} ${row.name}: exit 2\n${result.stderr.slice(-600)}`);
          t.match(result.stderr, row.stderr, `${command} ${row.name}: names the problem`);
          t.match(result.stderr, /RCBS_PIPELINE_INVALID|RCBS_CONFIG_INVALID|RCBS_USAGE/, `${command} ${row.name}: coded`);
          t.notMatch(result.stderr, /\n\s+at /, `${command} ${row.name}: no stack trace`);
          t.notOk(existsSync(path.join(rowDir, 't')), `${command} ${row.name}: nothing written`);
        }
      }),
    );
  }
});
