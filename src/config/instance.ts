// Which share of the recordings this instance fetches (SPEC §3 "Sharding across
// instances"). The id and total come from rcbsInstanceId/totalRcbsInstances, or,
// when rcbsInstanceId is unset, from the engine that starts the instances:
//   - Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0..completions-1);
//   - AWS Batch array job:    AWS_BATCH_JOB_ARRAY_INDEX (0..size-1).
// Neither engine tells a pod/job how many siblings it has, so the total comes from
// RCBS_TOTAL_INSTANCES (set it to the Job's `completions` / the array `size`), or
// from totalRcbsInstances (config, or its env form RCBS_TOTAL_RCBS_INSTANCES).
// Anything half-set is an error, never a silent "fetch everything": N instances
// that each fetched everything would download every recording N times.

import { configInvalidError, type ConfigProblem } from './keys.js';
import type { RcbsConfig } from './types.js';

export interface ResolvedInstance {
  id: number;
  total: number;
  /** Where id and total came from, for logs and --dry-run. */
  source: string;
}

/** Engine variables carrying this instance's index, first match wins. */
export const INSTANCE_INDEX_VARS = ['JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX'] as const;
/** Variables carrying the number of instances when the index comes from the engine. */
export const INSTANCE_TOTAL_VARS = ['RCBS_TOTAL_INSTANCES', 'RCBS_TOTAL_RCBS_INSTANCES'] as const;

type InstanceConfig = Pick<RcbsConfig, 'rcbsInstanceId' | 'totalRcbsInstances'>;

function envInteger(env: NodeJS.ProcessEnv, names: readonly string[]): { name: string; raw: string; value?: number } | undefined {
  for (const name of names) {
    const raw = env[name]?.trim();
    if (raw) return { name, raw, value: /^\d+$/.test(raw) ? Number(raw) : undefined };
  }
  return undefined;
}

/** The resolution and every problem with it; `resolveInstance` throws on problems. */
export function instanceProblems(config: InstanceConfig, env: NodeJS.ProcessEnv): { instance?: ResolvedInstance; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const index = envInteger(env, INSTANCE_INDEX_VARS);
  const envTotal = envInteger(env, INSTANCE_TOTAL_VARS);
  const configId = config.rcbsInstanceId;
  const configTotal = config.totalRcbsInstances;

  let id: number | undefined;
  let idSource = '';
  if (configId !== undefined) {
    id = configId;
    idSource = 'rcbsInstanceId';
  } else if (index) {
    if (index.value === undefined) {
      problems.push({ key: index.name, value: index.raw, allowed: 'an integer >= 0 (set by the engine)', source: `env ${index.name}` });
    } else {
      id = index.value;
      idSource = `env ${index.name}`;
    }
  }

  let total: number | undefined;
  let totalSource = '';
  if (configTotal !== undefined) {
    total = configTotal;
    totalSource = 'totalRcbsInstances';
  } else if (envTotal) {
    if (envTotal.value === undefined || envTotal.value < 1) {
      problems.push({ key: envTotal.name, value: envTotal.raw, allowed: 'an integer >= 1: the number of instances', source: `env ${envTotal.name}` });
    } else {
      total = envTotal.value;
      totalSource = `env ${envTotal.name}`;
    }
  }

  if (problems.length > 0) return { problems };
  if (id === undefined && total === undefined) return { problems };
  if (id === undefined) {
    problems.push({
      key: 'rcbsInstanceId',
      value: '(not set)',
      allowed: `needed with ${totalSource}=${total}: set rcbsInstanceId to 0..${total! - 1}, or run under a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or an AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX)`,
      source: totalSource === 'totalRcbsInstances' ? 'config totalRcbsInstances' : totalSource,
    });
    return { problems };
  }
  if (total === undefined) {
    problems.push({
      key: 'totalRcbsInstances',
      value: '(not set)',
      allowed: `needed with ${idSource}=${id}: set totalRcbsInstances, or RCBS_TOTAL_INSTANCES to the number of instances (the Job's completions, the array size)`,
      source: idSource === 'rcbsInstanceId' ? 'config rcbsInstanceId' : idSource,
    });
    return { problems };
  }
  if (id >= total) {
    problems.push({
      key: idSource === 'rcbsInstanceId' ? 'rcbsInstanceId' : idSource.replace(/^env /, ''),
      value: String(id),
      allowed: `an instance id from 0 to ${total - 1} (${totalSource}=${total})`,
      source: idSource === 'rcbsInstanceId' ? 'config rcbsInstanceId' : idSource,
    });
    return { problems };
  }
  return { instance: { id, total, source: idSource === 'rcbsInstanceId' && totalSource === 'totalRcbsInstances' ? 'config rcbsInstanceId/totalRcbsInstances' : `${idSource}, ${totalSource}` }, problems };
}

/**
 * This instance's id and the number of instances, or undefined when the load is
 * not shared. Throws RCBS_CONFIG_INVALID when half of it is set or id >= total.
 */
export function resolveInstance(config: InstanceConfig, env: NodeJS.ProcessEnv): ResolvedInstance | undefined {
  const { instance, problems } = instanceProblems(config, env);
  if (problems.length > 0) throw configInvalidError(problems, 'the instance id and the number of instances do not fit together');
  return instance;
}
