// Pins SPEC §3/§8 sharding across instances end to end: three metadata exports
// with totalRcbsInstances=3 and rcbsInstanceId=0..2, each with its own targetDir,
// write disjoint sets of JSON files whose union is exactly the single-instance
// set, and each recording lands on the instance the documented hash names
// (fnv1a32 of the recording id mod total, computed here independently of
// src/shard-hash.ts; screen recordings too are hashed on their own id, as SPEC §3
// says). The same split must come from the engines' environment:
// Kubernetes' JOB_COMPLETION_INDEX with RCBS_TOTAL_INSTANCES.

import path from 'node:path';
import t from 'tap';
import { exportable, filesWithMtime, specJsonPath, withSandbox } from './helpers/sandbox-run.js';

const TOTAL = 3;

/** FNV-1a 32-bit over UTF-8, as README "Scale-out" documents it. */
function fnv1a32(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

t.test('three instances split the recordings disjointly and completely', async (t) => {
  const fx = await withSandbox(t, { sandbox: { recordings: 30, seed: 13 }, config: { metadataOnly: true } });
  const expected = exportable(fx.sandbox);
  const owner = new Map(expected.map((r) => [specJsonPath(r), fnv1a32(r.id!) % TOTAL]));
  t.same(new Set(owner.values()).size, TOTAL, 'the data set gives every instance some work');

  const ways: Array<{ name: string; run: (i: number, targetDir: string) => ReturnType<typeof fx.run> }> = [
    {
      name: 'config',
      run: (i, targetDir) => fx.run(['run', 'metadata-export', '--config', fx.configPath, '--set', `targetDir=${targetDir}`, '--set', `totalRcbsInstances=${TOTAL}`, '--set', `rcbsInstanceId=${i}`]),
    },
    {
      name: 'JOB_COMPLETION_INDEX',
      run: (i, targetDir) => fx.run(['run', 'metadata-export', '--config', fx.configPath, '--set', `targetDir=${targetDir}`], { JOB_COMPLETION_INDEX: String(i), RCBS_TOTAL_INSTANCES: String(TOTAL) }),
    },
  ];
  for (const way of ways) {
    const seen = new Map<string, number>();
    // The instances run at the same time, as an Indexed Job's pods do.
    const results = await Promise.all([0, 1, 2].map((i) => way.run(i, path.join(fx.dir, `${way.name}-${i}`))));
    for (let i = 0; i < TOTAL; i++) {
      t.equal(results[i]!.code, 0, `${way.name} instance ${i}: exit 0`, { stderr: results[i]!.stderr });
      const files = [...(await filesWithMtime(path.join(fx.dir, `${way.name}-${i}`), true)).keys()];
      t.ok(files.length > 0, `${way.name} instance ${i} wrote ${files.length} file(s)`);
      for (const rel of files) {
        t.notOk(seen.has(rel), `${way.name}: ${rel} written by one instance only`);
        seen.set(rel, i);
      }
    }
    t.same([...seen.keys()].sort(), [...owner.keys()].sort(), `${way.name}: the union is the whole set`);
    const misplaced = [...seen].filter(([rel, i]) => owner.get(rel) !== i);
    t.same(misplaced, [], `${way.name}: each recording on the instance fnv1a32(id or its call's id) mod ${TOTAL} names`);
  }
});
