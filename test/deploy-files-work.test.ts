// Pins issue 13's "deploy files that work as written": every deploy/ YAML and JSON
// parses; the Kubernetes Jobs use the image built by the Dockerfile, restartPolicy
// Never and a podFailurePolicy that fails the Job at once on exit 2 (a config error
// was retried 8 times) while other exits are retried; the AWS Batch definition ends
// on exit 2 and retries the rest. Then the commands themselves are run as written,
// with only the placeholders filled in (paths, the install folder, the index)
// against a sandbox: the cron line from docs/scheduling.md (which called
// ./node_modules/.bin/rcbs, absent from a clone + npm ci: exit 127), the systemd
// unit's ExecStart, the Kubernetes args and the AWS Batch `sh -c` command. Each
// must exit 0; those with --log-format json must print JSON lines only, the
// summary last.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { startSandbox } from '../src/sandbox/index.js';
import { CLI, ROOT } from './helpers/cli.js';
import { cliEnv } from './helpers/backup-state.js';

const run = promisify(execFile);
const deploy = path.join(ROOT, 'deploy');

function deployFiles(dir = deploy): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? deployFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

interface PodSpec {
  restartPolicy: string;
  containers: Array<{ name: string; image: string; command: string[]; args: string[] }>;
}
interface JobSpec {
  backoffLimit: number;
  podFailurePolicy: { rules: Array<{ action: string; onExitCodes?: { containerName: string; operator: string; values: number[] } }> };
  template: { spec: PodSpec };
}

const parsed = new Map<string, unknown>();
t.test('every deploy/ YAML and JSON file parses', async (t) => {
  const files = deployFiles().filter((f) => /\.(ya?ml|json)$/.test(f));
  t.ok(files.length >= 3);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    t.type(doc, 'object', path.relative(ROOT, file));
    parsed.set(path.relative(deploy, file), doc);
  }
});

function jobsOf(): Array<[string, JobSpec]> {
  const job = parsed.get('kubernetes/indexed-job.yaml') as { spec: JobSpec };
  const cron = parsed.get('kubernetes/cronjob.yaml') as { spec: { jobTemplate: { spec: JobSpec } } };
  return [['indexed-job.yaml', job.spec], ['cronjob.yaml', cron.spec.jobTemplate.spec]];
}

t.test('Kubernetes: the rcbs image, restartPolicy Never, exit 2 fails the Job at once', async (t) => {
  for (const [name, spec] of jobsOf()) {
    const pod = spec.template.spec;
    t.equal(pod.restartPolicy, 'Never', `${name}: podFailurePolicy needs restartPolicy Never`);
    const container = pod.containers.find((c) => c.name === 'rcbs')!;
    t.match(container.image, /\/rcbs:/, `${name}: the image built from the Dockerfile`);
    t.same(container.command, ['rcbs']);
    const failJob = spec.podFailurePolicy.rules.find((r) => r.action === 'FailJob');
    t.match(failJob, { onExitCodes: { containerName: 'rcbs', operator: 'In', values: [2] } }, `${name}: exit 2 fails the Job`);
    t.notOk(spec.podFailurePolicy.rules.some((r) => r.action === 'FailJob' && r.onExitCodes?.values.some((v) => [1, 3, 4].includes(v))), `${name}: 1, 3, 4 are retried`);
    t.ok(spec.backoffLimit > 0);
  }
  const batch = parsed.get('aws-batch/job-definition.json') as { containerProperties: { image: string }; retryStrategy: { evaluateOnExit: Array<{ onExitCode: string; action: string }> } };
  t.match(batch.containerProperties.image, /\/rcbs:/);
  t.same(batch.retryStrategy.evaluateOnExit[0], { onExitCode: '2', action: 'EXIT' }, 'Batch: exit 2 ends the job');
  t.match(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'), /^FROM .* AS build$[^]*npm ci --omit=dev[^]*^USER node$/m, 'Dockerfile: multi-stage, production dependencies, non-root');
});

t.test('the documented commands run as written against a sandbox', async (t) => {
  const sandbox = await startSandbox({ recordings: 8, oddities: false, seed: 101 });
  t.teardown(() => sandbox.close());
  const dir = t.testdir({ etc: {}, backup: {}, bin: {} });
  const configPath = path.join(dir, 'etc', 'config.properties');
  writeFileSync(configPath, sandbox.configProperties(path.join(dir, 'backup', 'cron')));
  const env = cliEnv({ ...sandbox.env(), PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` });
  // The image puts `rcbs` on the PATH (a symlink to dist/cli.js, made executable: Dockerfile).
  writeFileSync(path.join(dir, 'bin', 'rcbs'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });

  const sh = async (what: string, command: string, extraEnv: NodeJS.ProcessEnv = {}) => {
    const result = await run('sh', ['-c', command], { env: { ...env, ...extraEnv }, cwd: dir }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    const code = 'code' in result ? result.code : 0;
    t.equal(code, 0, `${what} exits 0: ${command}\n${result.stderr.slice(-800)}`);
    return result.stderr;
  };
  const jsonOnly = (what: string, stderr: string) => {
    const lines = stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    t.match(lines.at(-1), { msg: 'summary', exitCode: 0 }, `${what}: JSON lines only, the summary last`);
  };

  // cron: the line as docs/scheduling.md prints it (after the credential lines).
  const docs = readFileSync(path.join(ROOT, 'docs', 'scheduling.md'), 'utf8');
  const cron = /^ {4}30 4,10,16,22 \* \* \* (.*)$/m.exec(docs)![1]!;
  t.notMatch(cron, /node_modules/, 'the cron line needs no node_modules/.bin');
  await sh('the cron line', cron.replace('<installation_folder>', ROOT).replace('/usr/bin/node', process.execPath).replace('-config config.properties', `-config ${configPath}`).replace('>> rcbs.log', `>> ${path.join(dir, 'rcbs.log')}`));
  t.match(readFileSync(path.join(dir, 'rcbs.log'), 'utf8'), /^\d{4}-\d\d-\d\dT[\d:.]+Z rcbs backup: finished/m, 'rcbs.log has the timestamped summary');

  // systemd: ExecStart of the unit file.
  const unit = readFileSync(path.join(deploy, 'systemd', 'rcbs.service'), 'utf8');
  const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!;
  t.match(execStart, /--log-format json/);
  const systemdTarget = path.join(dir, 'backup', 'systemd');
  jsonOnly('systemd', await sh('systemd ExecStart', `${execStart.replace('/usr/bin/node', process.execPath).replace('/opt/rcbs', ROOT).replace('/etc/rcbs/config.properties', configPath)} --set targetDir=${systemdTarget}`));

  // Kubernetes: command + args, $(JOB_COMPLETION_INDEX) expanded as the kubelet does.
  for (const [name, spec] of jobsOf()) {
    const container = spec.template.spec.containers[0]!;
    const args = [...container.command, ...container.args].map((a) => a.replace('/config/config.properties', configPath).replace('/backup/', `${dir}/backup/${name}-`).replace('$(JOB_COMPLETION_INDEX)', '2'));
    jsonOnly(name, await sh(name, args.map((a) => `'${a}'`).join(' '), { JOB_COMPLETION_INDEX: '2', RCBS_TOTAL_INSTANCES: '4' }));
  }

  // AWS Batch: the sh -c command, $AWS_BATCH_JOB_ARRAY_INDEX expanded by the shell.
  const batch = parsed.get('aws-batch/job-definition.json') as { containerProperties: { command: string[] } };
  const [shell, flag, script] = batch.containerProperties.command;
  t.same([shell, flag], ['sh', '-c']);
  jsonOnly('aws batch', await sh('the Batch command', script!.replace('/config/config.properties', configPath).replace('/backup/', `${dir}/backup/batch-`), { AWS_BATCH_JOB_ARRAY_INDEX: '1', RCBS_TOTAL_INSTANCES: '4' }));
  t.ok(readdirSync(path.join(dir, 'backup')).includes('batch-instance-1'), 'the index went into targetDir');
});
