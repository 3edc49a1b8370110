// Pins what `rcbs validate` and `rcbs run` say about a wrong pipeline (issue 14):
// every problem at once, config and pipeline together (a config error used to hide
// the pipeline's); each names the offending value and the nearest known component,
// option or value; a component's own checks (a regex that does not compile, a path
// template that leaves its folder) are reported at load, exit 2, before any work;
// `rcbs run backp` suggests `backup`.

import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanEnv, runCli } from './helpers/cli.js';
import { makeCa } from './helpers/tls-front.js';

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

// caFile used to be read only by the first connection that needed it: `validate` said
// "valid" and the scheduled run then stopped on it. It is read at load now when the
// pipeline talks to GWS or S3, AWS_CA_BUNDLE too when it downloads from S3 (only then).
t.test('validate reads caFile (and AWS_CA_BUNDLE for a pipeline that downloads)', async (t) => {
  const dir = t.testdir();
  const good = (await makeCa(dir, 'ca')).certPath;
  const empty = path.join(dir, 'empty.pem');
  writeFileSync(empty, 'not a certificate\n');
  const base = ['--set', 'targetDir=/tmp', '--set', 'gwsUriPrefix=https://gws.example/api/v2'];

  const missing = await runCli(['validate', 'backup', ...base, '--set', `caFile=${path.join(dir, 'nope.pem')}`]);
  t.equal(missing.code, 2, 'a caFile that is not there');
  t.match(missing.stderr, /caFile .*nope\.pem cannot be read \(ENOENT\)/);
  const notPem = await runCli(['validate', 'backup', ...base, '--set', `caFile=${empty}`]);
  t.equal(notPem.code, 2, 'a caFile with no certificate');
  t.match(notPem.stderr, /caFile .*empty\.pem holds no PEM certificate/);
  const ok = await runCli(['validate', 'backup', ...base, '--set', `caFile=${good}`]);
  t.equal(ok.code, 0, ok.stderr);
  const local = await runCli(['validate', 'verify', ...base, '--set', `caFile=${empty}`]);
  t.equal(local.code, 0, `verify stays on this machine: caFile is not its concern\n${local.stderr}`);

  const bundle = { ...cleanEnv(), AWS_CA_BUNDLE: path.join(dir, 'gone.pem') };
  const downloads = await runCli(['validate', 'backup', ...base], { env: bundle });
  t.equal(downloads.code, 2, 'the backup downloads from S3: AWS_CA_BUNDLE is read');
  t.match(downloads.stderr, /AWS_CA_BUNDLE .*gone\.pem cannot be read/);
  const metadata = await runCli(['validate', 'metadata-export', ...base], { env: bundle });
  t.equal(metadata.code, 0, `a metadata export never talks to S3\n${metadata.stderr}`);
});
