// Pins sharding across instances (SPEC §3): N instances, each running `shard`
// with its own id, together keep every recording exactly once (disjoint and
// complete); the hash is FNV-1a 32-bit, pinned by test vectors so other tools
// can reproduce which instance owns a recording; the instance id also comes from
// a Kubernetes Indexed Job's JOB_COMPLETION_INDEX; a screen recording follows its
// call; with no instance set nothing is dropped. A changed hash would silently
// re-distribute every recording between instances, so it must fail here.

import t from 'tap';
import _ from 'highland';
import shard, { shardKey } from '../src/transforms/shard.js';
import { fnv1a32, shardOf } from '../src/shard-hash.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents, tallyRun } from '../src/pipeline/outcome.js';
import { configWith } from '../src/config/defaults.js';
import { newRecord, type PipelineRecord, type Recording } from '../src/pipeline/types.js';
import type { RcbsConfig } from '../src/config/types.js';

async function runShard(recordings: Recording[], config: Partial<RcbsConfig>, env: NodeJS.ProcessEnv = {}, options = {}) {
  const context = createRunContext({ config: configWith(config), env });
  const self = componentEvents('shard');
  const fn = await shard.create(options, context, self);
  const records = await fn(_(recordings.map(newRecord))).collect().toPromise(Promise) as PipelineRecord[];
  return { kept: records.map((r) => r.recording.id as string), records, self, context };
}

const ids = Array.from({ length: 1000 }, (_v, i) => `011AP643CSAPR4FKQGQE31TAES${String(i).padStart(4, '0')}`);

t.test('FNV-1a 32-bit test vectors', async (t) => {
  // The published FNV-1a vectors, and the guide's example recording id.
  t.equal(fnv1a32(''), 0x811c9dc5);
  t.equal(fnv1a32('a'), 0xe40c292c);
  t.equal(fnv1a32('foobar'), 0xbf9cf968);
  t.equal(fnv1a32('011AP643CSAPR4FKQGQE31TAES0001TH'), 0xe7f393ef);
  t.equal(shardOf('011AP643CSAPR4FKQGQE31TAES0001TH', 3), 2);
  // UTF-8 bytes, not UTF-16 code units.
  t.equal(fnv1a32('é'), 0x1e9de8c1);
});

t.test('3 instances over 1000 ids are disjoint and complete, and roughly even', async (t) => {
  const recordings = ids.map((id) => ({ id, mediaFiles: [] }));
  const seen = new Map<string, number>();
  for (let instance = 0; instance < 3; instance++) {
    const { kept, self, records } = await runShard(recordings, { rcbsInstanceId: instance, totalRcbsInstances: 3 });
    for (const id of kept) {
      t.notOk(seen.has(id), `${id} kept by instance ${seen.get(id)} and ${instance}`);
      seen.set(id, instance);
    }
    t.equal(self.dropped, 1000 - kept.length, 'the other instances\' recordings count as dropped');
    t.equal(tallyRun(records, [self]).dropped, self.dropped, 'counted as dropped (filtered), not failed or quarantined');
    t.ok(kept.length > 250 && kept.length < 420, `instance ${instance} keeps a fair share (${kept.length})`);
  }
  t.equal(seen.size, 1000, 'every recording is kept by one instance');
});

t.test('the instance id comes from JOB_COMPLETION_INDEX with RCBS_TOTAL_INSTANCES', async (t) => {
  const recordings = ids.slice(0, 100).map((id) => ({ id, mediaFiles: [] }));
  const fromEnv = await runShard(recordings, {}, { JOB_COMPLETION_INDEX: '1', RCBS_TOTAL_INSTANCES: '3' });
  const fromConfig = await runShard(recordings, { rcbsInstanceId: 1, totalRcbsInstances: 3 });
  t.same(fromEnv.kept, fromConfig.kept);
  t.same(fromEnv.kept, ids.slice(0, 100).filter((id) => shardOf(id, 3) === 1));
  t.ok(fromEnv.kept.length > 0 && fromEnv.kept.length < 100);
});

t.test('a half-set instance is a config error, not "fetch everything"', async (t) => {
  await t.rejects(runShard([], {}, { JOB_COMPLETION_INDEX: '1' }), { code: 'RCBS_CONFIG_INVALID' });
});

t.test('no instance set: every recording passes', async (t) => {
  const { kept, self } = await runShard(ids.slice(0, 50).map((id) => ({ id })), {});
  t.equal(kept.length, 50);
  t.equal(self.dropped, 0);
});

t.test('a screen recording is hashed on its own id; followCall keeps it with its call', async (t) => {
  // Find a screen id that, hashed on its own, would land elsewhere than its call.
  const call = ids[0]!;
  const screen = ids.find((id) => shardOf(id, 3) !== shardOf(call, 3))!;
  t.equal(shardKey({ id: screen, callRecordingId: call }), screen, 'SPEC §3: hash(recording id)');
  t.equal(shardKey({ id: screen, callRecordingId: call }, true), call);
  const owner = shardOf(call, 3);
  const own = await runShard([{ id: call }, { id: screen, callRecordingId: call }], { rcbsInstanceId: owner, totalRcbsInstances: 3 });
  t.same(own.kept, [call], 'by default the screen recording goes to the instance of its own id');
  const { kept } = await runShard([{ id: call }, { id: screen, callRecordingId: call }], { rcbsInstanceId: owner, totalRcbsInstances: 3 }, {}, { followCall: true });
  t.same(kept, [call, screen], 'followCall: true keeps the call and its screen recording together');
});
