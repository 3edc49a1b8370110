// Pins what `rcbs validate` and `rcbs run` say about a wrong pipeline (issue 14):
// every problem at once, config and pipeline together (a config error used to hide
// the pipeline's); each names the offending value and the nearest known component,
// option or value; a component's own checks (a regex that does not compile, a path
// template that leaves its folder) are reported at load, exit 2, before any work;
// `rcbs run backp` suggests `backup`.

import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';

t.test('rcbs run backp suggests backup', async (t) => {
  const run = await runCli(['run', 'backp']);
  t.equal(run.code, 2);
  t.match(run.stderr, /no pipeline "backp"; did you mean "backup"\?/);
});

t.test('validate lists config and pipeline problems together, each with its value and a suggestion', async (t) => {
  const dir = t.testdir();
  const config = path.join(dir, 'config.properties');
  writeFileSync(config, 'targetDir = ./target\nnumThreads = 0\n');
  const file = path.join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({
    name: 'bad',
    description: 'x',
    source: { use: 'backup-dir' },
    transforms: [
      { use: 'filtr', with: { field: 'a', equals: 1 } },
      { use: 'filter', with: { all: [{ field: 'parameters.agentId', regex: '([a-z' }, { field: 'size', gte: 'tomorrow' }] } },
      { use: 's3-download' },
    ],
    sinks: [{ use: 'file', with: { format: 'cvs', path: 'out/{tenant}/../../x.csv', colour: 'red' } }],
  }));
  const run = await runCli(['validate', file, '--config', config]);
  t.equal(run.code, 2);
  const stderr = run.stderr;
  t.match(stderr, /numThreads/, 'the config problem');
  t.match(stderr, /\/transforms\/0\/use: must be equal to one of the allowed values: .* \(got "filtr"; did you mean "filter"\?\)/);
  t.match(stderr, /\/transforms\/2\/use: .*\(got "s3-download"\) \("s3-download" is a sink, not a transform\)/);
  t.match(stderr, /\/sinks\/0\/with\/format: must be equal to one of the allowed values: ndjson, csv \(got "cvs"; did you mean "csv"\?\)/);
  t.match(stderr, /\/sinks\/0\/with: must NOT have additional properties \(colour; known: format, path, gzip\)/);
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');

  // With the shape fixed, the components' own checks speak (with the config fixed too).
  writeFileSync(config, 'targetDir = ./target\n');
  writeFileSync(file, JSON.stringify({
    name: 'bad',
    description: 'x',
    source: { use: 'backup-dir' },
    transforms: [{ use: 'filter', with: { all: [{ field: 'parameters.agentId', regex: '([a-z' }, { field: 'size', gte: 'tomorrow', eqauls: 3 }] } }],
    sinks: [{ use: 'file', with: { format: 'csv', path: 'out/{tenant}/../../x.csv' } }],
  }));
  const again = await runCli(['validate', file, '--config', config]);
  t.equal(again.code, 2);
  t.match(again.stderr, /\/transforms\/0\/with\/all\/0\/regex: "\(\[a-z" is not a valid regular expression/);
  t.match(again.stderr, /\/transforms\/0\/with\/all\/1\/gte: must be a number or a time .*"tomorrow"/);
  t.match(again.stderr, /\/transforms\/0\/with\/all\/1\/eqauls: unknown test "eqauls"; did you mean "equals"\?/);
  t.match(again.stderr, /\/sinks\/0\/with\/path: "out\/\{tenant\}\/\.\.\/\.\.\/x\.csv" (leaves its folder|has an empty, "\." or "\.\." folder)/);
  const run2 = await runCli(['run', file, '--config', config]);
  t.equal(run2.code, 2, 'run refuses it the same way, before any work');
});

t.test('the packaged export pipelines validate', async (t) => {
  for (const [name, sets] of [['calls-csv', []], ['agent-calls', ['--set', 'agent=alice']]] as const) {
    const run = await runCli(['validate', name, '--set', 'targetDir=/tmp', ...sets]);
    t.equal(run.code, 0, `${name}\n${run.stderr}`);
  }
  const gws = await runCli(['validate', 'calls-csv', '--set', 'from=gws-recordings', '--set', 'gzip=true', '--set', 'gwsUriPrefix=https://gws.example/api/v2']);
  t.equal(gws.code, 0, gws.stderr);
  t.match(gws.stdout, /gws-recordings → dedupe → select → file/);
  const wrong = await runCli(['validate', 'calls-csv', '--set', 'from=gws']);
  t.equal(wrong.code, 2);
  t.match(wrong.stderr, /\/source\/use: .*\(got "gws"/);
});
