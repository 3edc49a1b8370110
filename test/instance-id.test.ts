// Pins how an instance learns its share of the load (SPEC §3 "Sharding across
// instances", §8): from rcbsInstanceId/totalRcbsInstances, else from the engine
// that runs it (Kubernetes Indexed Job JOB_COMPLETION_INDEX, AWS Batch array
// AWS_BATCH_JOB_ARRAY_INDEX) with the total from RCBS_TOTAL_INSTANCES (or
// RCBS_TOTAL_RCBS_INSTANCES). Anything half-set is RCBS_CONFIG_INVALID, because
// an instance that silently kept everything would duplicate every download.

import t from 'tap';
import { resolveInstance } from '../src/config/instance.js';
import { loadConfig } from '../src/config/load.js';
import { RcbsError } from '../src/errors.js';

const none = {};

t.test('resolution table', async (t) => {
  const rows: Array<[string, { rcbsInstanceId?: number; totalRcbsInstances?: number }, NodeJS.ProcessEnv, { id: number; total: number; source: RegExp } | undefined]> = [
    ['nothing set: the load is not shared', none, {}, undefined],
    ['config keys', { rcbsInstanceId: 2, totalRcbsInstances: 4 }, {}, { id: 2, total: 4, source: /config rcbsInstanceId\/totalRcbsInstances/ }],
    ['config keys win over the engine', { rcbsInstanceId: 1, totalRcbsInstances: 4 }, { JOB_COMPLETION_INDEX: '3', RCBS_TOTAL_INSTANCES: '8' }, { id: 1, total: 4, source: /config/ }],
    ['Kubernetes Indexed Job', none, { JOB_COMPLETION_INDEX: '3', RCBS_TOTAL_INSTANCES: '5' }, { id: 3, total: 5, source: /env JOB_COMPLETION_INDEX, env RCBS_TOTAL_INSTANCES/ }],
    ['AWS Batch array job', none, { AWS_BATCH_JOB_ARRAY_INDEX: '0', RCBS_TOTAL_INSTANCES: '2' }, { id: 0, total: 2, source: /env AWS_BATCH_JOB_ARRAY_INDEX/ }],
    ['total from the generic RCBS_TOTAL_RCBS_INSTANCES', none, { AWS_BATCH_JOB_ARRAY_INDEX: '1', RCBS_TOTAL_RCBS_INSTANCES: '2' }, { id: 1, total: 2, source: /env RCBS_TOTAL_RCBS_INSTANCES/ }],
    ['engine index with the total in config', { totalRcbsInstances: 6 }, { JOB_COMPLETION_INDEX: '5' }, { id: 5, total: 6, source: /env JOB_COMPLETION_INDEX, totalRcbsInstances/ }],
    ['empty engine variables count as unset', none, { JOB_COMPLETION_INDEX: '', RCBS_TOTAL_INSTANCES: '' }, undefined],
  ];
  for (const [what, config, env, expected] of rows) {
    const got = resolveInstance(config, env);
    if (expected === undefined) {
      t.equal(got, undefined, what);
      continue;
    }
    t.equal(got?.id, expected.id, `${what}: id`);
    t.equal(got?.total, expected.total, `${what}: total`);
    t.match(got?.source, expected.source, `${what}: source`);
  }
});

t.test('half-set or out-of-range is RCBS_CONFIG_INVALID naming the variable', async (t) => {
  const rows: Array<[string, { rcbsInstanceId?: number; totalRcbsInstances?: number }, NodeJS.ProcessEnv, RegExp]> = [
    ['index without a total', none, { JOB_COMPLETION_INDEX: '2' }, /totalRcbsInstances=\(not set\): needed with env JOB_COMPLETION_INDEX=2: .*RCBS_TOTAL_INSTANCES/],
    ['index equal to the total', none, { AWS_BATCH_JOB_ARRAY_INDEX: '4', RCBS_TOTAL_INSTANCES: '4' }, /AWS_BATCH_JOB_ARRAY_INDEX=4: an instance id from 0 to 3/],
    ['total without an index', none, { RCBS_TOTAL_INSTANCES: '4' }, /rcbsInstanceId=\(not set\): needed with env RCBS_TOTAL_INSTANCES=4/],
    ['config id without a total', { rcbsInstanceId: 0 }, {}, /totalRcbsInstances=\(not set\)/],
    ['config total without an id', { totalRcbsInstances: 3 }, {}, /rcbsInstanceId=\(not set\): needed with totalRcbsInstances=3: set rcbsInstanceId to 0\.\.2/],
    ['config id >= total', { rcbsInstanceId: 3, totalRcbsInstances: 3 }, {}, /rcbsInstanceId=3: an instance id from 0 to 2/],
    ['index not a number', none, { JOB_COMPLETION_INDEX: 'two', RCBS_TOTAL_INSTANCES: '4' }, /JOB_COMPLETION_INDEX=two: an integer >= 0/],
    ['total zero', none, { JOB_COMPLETION_INDEX: '0', RCBS_TOTAL_INSTANCES: '0' }, /RCBS_TOTAL_INSTANCES=0: an integer >= 1/],
  ];
  for (const [what, config, env, message] of rows) {
    try {
      resolveInstance(config, env);
      t.fail(`${what}: should throw`);
    } catch (err) {
      t.ok(err instanceof RcbsError, what);
      t.equal((err as RcbsError).code, 'RCBS_CONFIG_INVALID', `${what}: code`);
      t.equal((err as RcbsError).exitCode, 2, `${what}: exit 2`);
      t.match((err as RcbsError).message, message, what);
    }
  }
});

t.test('loadConfig resolves the engine index into the config, and reports half-set engines', async (t) => {
  const { config } = await loadConfig({ env: { JOB_COMPLETION_INDEX: '2', RCBS_TOTAL_INSTANCES: '3' }, sets: [] });
  t.equal(config.rcbsInstanceId, 2);
  t.equal(config.totalRcbsInstances, 3);
  await t.rejects(loadConfig({ env: { JOB_COMPLETION_INDEX: '2' }, sets: [] }), { code: 'RCBS_CONFIG_INVALID', message: /JOB_COMPLETION_INDEX=2/ });
  await t.rejects(loadConfig({ env: {}, sets: ['totalRcbsInstances=4'] }), { code: 'RCBS_CONFIG_INVALID', message: /rcbsInstanceId=\(not set\).*\(from --set\)/ });
});
