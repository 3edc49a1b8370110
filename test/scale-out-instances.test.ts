// Pins scale-out (SPEC §3 "Sharding across instances", §8; issue 5): N=3 rcbs
// processes started the way a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or an
// AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX) starts them, with
// RCBS_TOTAL_INSTANCES=3 and each its own targetDir, run at the same time
// against one GWS and S3: their sets are disjoint, together they are the
// complete byte-exact set (metadata and media), each recording sits on the
// instance fnv1a32(shard key) mod 3 names (the shard transform's own key
// function), and each instance writes its own checkpoint.
// If this broke, N pods would double-fetch or, worse, silently skip recordings.

import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startSandbox } from '../src/sandbox/index.js';
import { shardOf } from '../src/shard-hash.js';
import { shardKey } from '../src/transforms/shard.js';
import { ROOT, runCli } from './helpers/cli.js';
import { backupState, wantedMedia, cliEnv } from './helpers/backup-state.js';

const TOTAL = 3;

t.test('the deploy manifests pass the engine index and the total the way rcbs reads them', async (t) => {
  for (const file of ['deploy/kubernetes/indexed-job.yaml', 'deploy/kubernetes/cronjob.yaml']) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const completions = Number(/completions:\s*(\d+)/.exec(text)?.[1]);
    t.match(text, /completionMode: Indexed/, `${file}: an Indexed Job`);
    t.match(text, new RegExp(`RCBS_TOTAL_INSTANCES[\\s\\S]{0,40}value:\\s*"${completions}"`), `${file}: RCBS_TOTAL_INSTANCES equals completions (${completions})`);
    // $(VAR) in args is expanded by Kubernetes from the container's environment (no shell in between).
    t.match(text, /targetDir=\/backup\/instance-\$\(JOB_COMPLETION_INDEX\)/, `${file}: one targetDir per index, expanded by Kubernetes`);
  }
  const batch = JSON.parse(readFileSync(path.join(ROOT, 'deploy/aws-batch/job-definition.json'), 'utf8')) as { containerProperties: { command: string[]; environment: { name: string }[] } };
  t.match(batch.containerProperties.command.join(' '), /targetDir=\/backup\/instance-\$AWS_BATCH_JOB_ARRAY_INDEX/);
  t.ok(batch.containerProperties.environment.some((e) => e.name === 'RCBS_TOTAL_INSTANCES'), 'AWS Batch: RCBS_TOTAL_INSTANCES set');
});

for (const indexVar of ['JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX']) {
  t.test(`${TOTAL} instances from ${indexVar}: disjoint and together complete`, async (t) => {
    const sandbox = await startSandbox({ recordings: 15, oddities: false, seed: indexVar.length });
    t.teardown(() => sandbox.close());
    const dir = t.testdir();
    const runs = await Promise.all(
      Array.from({ length: TOTAL }, async (_, index) => {
        const targetDir = path.join(dir, `instance-${index}`);
        const config = path.join(dir, `config-${index}.properties`);
        writeFileSync(config, sandbox.configProperties(targetDir));
        const result = await runCli(['-config', config], { env: cliEnv({ ...sandbox.env(), [indexVar]: String(index), RCBS_TOTAL_INSTANCES: String(TOTAL) }) });
        return { index, targetDir, result };
      }),
    );
    const seenMedia = new Map<string, number>();
    const seenRecordings = new Map<string, number>();
    for (const { index, targetDir, result } of runs) {
      t.equal(result.code, 0, `instance ${index}: exit 0\n${result.stderr.slice(-1000)}`);
      // The key the shard transform uses with its default options (shard.ts).
      const mine = (id: string) => shardOf(shardKey(sandbox.recording(id)!.recording), TOTAL) === index;
      const state = backupState(targetDir, sandbox, mine);
      t.same(state.problems, [], `instance ${index}: byte-exact, index honest`);
      t.same(state.missing, [], `instance ${index}: every recording of its shard`);
      t.ok(state.checkpoint, `instance ${index}: its own checkpoint`);
      t.ok(state.recordings.size > 0, `instance ${index}: has work (${state.recordings.size} recordings)`);
      for (const id of state.recordings) {
        t.ok(mine(id), `instance ${index} holds ${id}, which fnv1a32(shard key) mod ${TOTAL} gives it`);
        seenRecordings.set(id, (seenRecordings.get(id) ?? 0) + 1);
      }
      for (const id of state.media) seenMedia.set(id, (seenMedia.get(id) ?? 0) + 1);
    }
    const all = wantedMedia(sandbox);
    t.same([...seenMedia.keys()].sort(), [...all.keys()].sort(), 'together: every media, byte-exact');
    t.same([...seenMedia.values()].filter((n) => n > 1), [], 'no media fetched by two instances');
    t.same([...seenRecordings.values()].filter((n) => n > 1), [], 'no recording written by two instances');
    t.equal(seenRecordings.size, new Set([...all.values()].map((m) => m.recordingId)).size, 'together: every recording’s metadata');
  });
}

t.test('a half-set instance (index without the total) is a config error, never "fetch everything"', async (t) => {
  const dir = t.testdir();
  const config = path.join(dir, 'config.properties');
  writeFileSync(config, `gwsUriPrefix = http://127.0.0.1:9/api/v2\ntargetDir = ${dir}/t\n`);
  const result = await runCli(['-config', config], { env: cliEnv({ JOB_COMPLETION_INDEX: '1', GWS_USERNAME: 'u', GWS_PASSWORD: 'p' }) });
  t.equal(result.code, 2, result.stderr);
  t.match(result.stderr, /RCBS_TOTAL_INSTANCES/);
  t.notMatch(result.stderr, /\n\s+at /);
});
