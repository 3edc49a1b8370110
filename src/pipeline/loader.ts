// Finds, reads and checks pipeline files (SPEC §6). A pipeline is checked once,
// completely: the file against schemas/pipeline.schema.json, then every step's
// component and its `with` options against that component's own schema, after
// ${config.key} / ${env.NAME} references are filled in. All problems come back in
// one RCBS_PIPELINE_INVALID error, each with its JSON path; options are frozen.

import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fg from 'fast-glob';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { RcbsError } from '../errors.js';
import type { RcbsConfig } from '../config/types.js';
import { deepFreeze } from '../config/freeze.js';
import { findComponent } from './registry.js';
import type { ComponentDef, ComponentKind } from './types.js';

export interface PipelineStep {
  use: string;
  with?: Record<string, unknown>;
}

export interface PipelineFile {
  $schema?: string;
  name: string;
  description: string;
  config?: Record<string, unknown>;
  source: PipelineStep;
  transforms?: PipelineStep[];
  sinks: PipelineStep[];
}

export interface LoadedPipeline {
  file: PipelineFile;
  /** Absolute path of the file it came from. */
  path: string;
}

export interface ResolvedStep {
  kind: ComponentKind;
  /** JSON path of the step in the file, e.g. /transforms/2. */
  at: string;
  component: ComponentDef<Record<string, unknown>>;
  options: Readonly<Record<string, unknown>>;
}

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PACKAGED_PIPELINES_DIR = path.join(packageRoot, 'pipelines');
export const SCHEMAS_DIR = path.join(packageRoot, 'schemas');

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false });
let pipelineValidator: ValidateFunction | undefined;
const optionValidators = new WeakMap<object, ValidateFunction>();

function validatePipelineShape(data: unknown): ErrorObject[] {
  pipelineValidator ??= ajv.compile(JSON.parse(readFileSync(path.join(SCHEMAS_DIR, 'pipeline.schema.json'), 'utf8')));
  return pipelineValidator(data) ? [] : [...(pipelineValidator.errors ?? [])];
}

/** One readable line per Ajv error: `/sinks/0/with: must NOT have additional properties (colour)`. */
export function describeAjvError(error: ErrorObject, prefix = ''): string {
  const where = prefix + error.instancePath || '/';
  const params = error.params as Record<string, unknown>;
  const detail =
    params.additionalProperty !== undefined ? ` (${String(params.additionalProperty)})`
    : params.allowedValues !== undefined ? `: ${(params.allowedValues as unknown[]).join(', ')}`
    : '';
  return `${where}: ${error.message ?? 'is invalid'}${detail}`;
}

export interface PipelineSummary {
  name: string;
  description: string;
  path: string;
  packaged: boolean;
}

/** Named pipelines: the packaged ones, overridden by name by those in the user's folder. */
export async function listPipelines(userDir?: string): Promise<PipelineSummary[]> {
  const byName = new Map<string, PipelineSummary>();
  const dirs: Array<[string, boolean]> = [[PACKAGED_PIPELINES_DIR, true]];
  if (userDir && path.resolve(userDir) !== PACKAGED_PIPELINES_DIR) dirs.push([path.resolve(userDir), false]);
  for (const [dir, packaged] of dirs) {
    const files = await fg('*.json', { cwd: dir, absolute: true, onlyFiles: true }).catch(() => [] as string[]);
    for (const file of files.sort()) {
      try {
        const data = JSON.parse(await readFile(file, 'utf8')) as Partial<PipelineFile>;
        const name = typeof data.name === 'string' ? data.name : path.basename(file, '.json');
        byName.set(name, { name, description: String(data.description ?? ''), path: file, packaged });
      } catch {
        byName.set(path.basename(file, '.json'), { name: path.basename(file, '.json'), description: '(not valid JSON: run `rcbs validate` on it)', path: file, packaged });
      }
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/** Reads a pipeline by name (user folder, then packaged) or by file path. Checks only that it is JSON. */
export async function readPipeline(nameOrFile: string, userDir?: string): Promise<LoadedPipeline> {
  let file: string | undefined;
  const looksLikePath = nameOrFile.includes('/') || nameOrFile.includes('\\') || nameOrFile.endsWith('.json');
  if (looksLikePath || (await isFile(nameOrFile))) {
    if (await isFile(nameOrFile)) file = path.resolve(nameOrFile);
  } else {
    file = (await listPipelines(userDir)).find((p) => p.name === nameOrFile)?.path;
  }
  if (!file) {
    const known = (await listPipelines(userDir)).map((p) => p.name).join(', ');
    throw new RcbsError('RCBS_PIPELINE_NOT_FOUND', `no pipeline "${nameOrFile}": give a pipeline file or one of: ${known}`, { pipeline: nameOrFile });
  }
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new RcbsError('RCBS_PIPELINE_INVALID', `pipeline file ${file} is not valid JSON: ${(err as Error).message}`, { path: file });
  }
  return { file: data as PipelineFile, path: file };
}

/** Shape-only check (before config is known): the pipeline schema. */
export function checkPipelineShape(loaded: LoadedPipeline): string[] {
  return validatePipelineShape(loaded.file).map((e) => describeAjvError(e));
}

const REFERENCE = /\$\{(config|env)\.([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_REFERENCE = /^\$\{(config|env)\.([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Fills ${config.key} and ${env.NAME}; a string that is only a reference takes the value's type. */
export function interpolate(value: unknown, config: Readonly<RcbsConfig>, env: NodeJS.ProcessEnv, at: string, problems: string[]): unknown {
  const lookup = (scope: string, key: string): unknown => {
    if (scope === 'env') {
      if (env[key] === undefined) problems.push(`${at}: environment variable ${key} is not set`);
      return env[key];
    }
    if (!(key in config)) problems.push(`${at}: unknown config key ${key}`);
    return (config as unknown as Record<string, unknown>)[key];
  };
  if (typeof value === 'string') {
    const whole = WHOLE_REFERENCE.exec(value);
    if (whole) return lookup(whole[1]!, whole[2]!);
    return value.replace(REFERENCE, (_m, scope: string, key: string) => {
      const v = lookup(scope, key);
      return v === undefined ? '' : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, config, env, `${at}/${i}`, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, config, env, `${at}/${k}`, problems)]));
  }
  return value;
}

/** Checks everything and returns the steps ready to create; throws one error listing every problem. */
export function resolvePipeline(loaded: LoadedPipeline, config: Readonly<RcbsConfig>, env: NodeJS.ProcessEnv): ResolvedStep[] {
  const problems = checkPipelineShape(loaded);
  const file = loaded.file;
  const steps: Array<[ComponentKind, string, PipelineStep | undefined]> = [['source', '/source', file?.source]];
  (Array.isArray(file?.transforms) ? file.transforms : []).forEach((s, i) => steps.push(['transform', `/transforms/${i}`, s]));
  (Array.isArray(file?.sinks) ? file.sinks : []).forEach((s, i) => steps.push(['sink', `/sinks/${i}`, s]));

  const resolved: ResolvedStep[] = [];
  for (const [kind, at, step] of steps) {
    if (!step || typeof step.use !== 'string') continue; // the shape check has reported it
    const component = findComponent(kind, step.use);
    if (!component) {
      // Shape errors already name unknown components via the enum; say it plainly once more only if not.
      if (!problems.some((p) => p.startsWith(`${at}/use`))) problems.push(`${at}/use: no ${kind} named "${step.use}"`);
      continue;
    }
    const options = interpolate(step.with ?? {}, config, env, `${at}/with`, problems) as Record<string, unknown>;
    let validate = optionValidators.get(component);
    if (!validate) {
      validate = ajv.compile(component.options);
      optionValidators.set(component, validate);
    }
    if (!validate(options)) {
      for (const e of validate.errors ?? []) problems.push(describeAjvError(e, `${at}/with`));
      continue;
    }
    resolved.push({ kind, at, component, options: deepFreeze(options) });
  }
  if (problems.length > 0) {
    throw new RcbsError(
      'RCBS_PIPELINE_INVALID',
      `pipeline ${loaded.path} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  - ${problems.join('\n  - ')}`,
      { path: loaded.path, problems },
    );
  }
  return resolved;
}
