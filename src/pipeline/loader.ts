// Finds, reads and checks pipeline files (SPEC §6). A pipeline is checked once,
// completely: the file against schemas/pipeline.schema.json, then every step's
// component and its `with` options against that component's own schema, after
// ${config.key} / ${env.NAME} references are filled in, then each component's own
// checks (a regex that does not compile, a bad path template). All problems come back
// in one RCBS_PIPELINE_INVALID error, each with its JSON path, the offending value and
// the nearest known name; options are frozen.
//
// Pipeline parameters: a file may declare `"params": {"agent": {"description": …,
// "default": …}}` and use `${param.agent}` anywhere in its steps (a component name
// too), so one packaged pipeline serves many queries; `--set agent=alice` gives the
// value (commands/run.ts splits --set between params and config keys).

import { readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { RcbsError } from '../errors.js';
import type { RcbsConfig } from '../config/types.js';
import { deepFreeze } from '../config/freeze.js';
import { didYouMean } from '../config/keys.js';
import { componentKinds, componentNames, loadComponent } from './registry.js';
import type { ComponentDef, ComponentKind } from './types.js';
import { optionsValidatorName, PIPELINE_AJV_OPTIONS, validatorFor } from './validators.js';

export interface PipelineStep {
  use: string;
  with?: Record<string, unknown>;
}

export interface PipelineParam {
  description?: string;
  /** Used when --set does not give the parameter; without one, the parameter is required. */
  default?: string | number | boolean;
}

export interface PipelineFile {
  $schema?: string;
  name: string;
  description: string;
  params?: Record<string, PipelineParam>;
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

// Precompiled at build time when they are for these very schemas (validators.ts).
let pipelineValidator: ValidateFunction | undefined;
const optionValidators = new WeakMap<object, ValidateFunction>();

function validatePipelineShape(data: unknown): ErrorObject[] {
  pipelineValidator ??= validatorFor('pipeline', JSON.parse(readFileSync(path.join(SCHEMAS_DIR, 'pipeline.schema.json'), 'utf8')) as object, PIPELINE_AJV_OPTIONS);
  return pipelineValidator(data) ? [] : [...(pipelineValidator.errors ?? [])];
}

const shown = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
};

/** One readable line per Ajv error, naming the offending value and the nearest allowed one:
 * `/sinks/0/with: must NOT have additional properties (colour; did you mean "color"?)`. */
export function describeAjvError(error: ErrorObject, prefix = ''): string {
  const where = prefix + error.instancePath || '/';
  const params = error.params as Record<string, unknown>;
  let detail = '';
  if (params.additionalProperty !== undefined) {
    const known = Object.keys(((error.parentSchema ?? {}) as { properties?: object }).properties ?? {});
    detail = ` (${String(params.additionalProperty)}${didYouMean(String(params.additionalProperty), known)}${known.length ? `; known: ${known.join(', ')}` : ''})`;
  } else if (params.allowedValues !== undefined) {
    const allowed = (params.allowedValues as unknown[]).map(String);
    detail = `: ${allowed.join(', ')}`;
    if (error.data !== undefined) detail += ` (got ${shown(error.data)}${typeof error.data === 'string' ? didYouMean(error.data, allowed) : ''})`;
  } else if (error.data !== undefined && (error.data === null || typeof error.data !== 'object')) {
    detail = ` (got ${shown(error.data)})`;
  }
  return `${where}: ${error.message ?? 'is invalid'}${detail}`;
}

/** "s3-download is a sink, not a transform" when a name is used in the wrong place. */
function wrongKindHint(name: unknown, kind: ComponentKind): string {
  const other = componentKinds(String(name)).find((k) => k !== kind);
  return other ? ` ("${String(name)}" is a ${other}, not a ${kind})` : '';
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
    const files = await jsonFilesIn(dir);
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

/** The `*.json` files of one folder (not hidden ones; a link to a file counts), absolute; none
 * when the folder cannot be read. A readdir, not fast-glob: loading that cost every run ~30 ms. */
async function jsonFilesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    if (!entry.name.endsWith('.json') || entry.name.startsWith('.')) continue;
    const file = path.join(dir, entry.name);
    if (entry.isFile() || (entry.isSymbolicLink() && (await isFile(file)))) files.push(file);
  }
  return files;
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
    const known = (await listPipelines(userDir)).map((p) => p.name);
    throw new RcbsError('RCBS_PIPELINE_NOT_FOUND', `no pipeline "${nameOrFile}"${didYouMean(path.basename(nameOrFile, '.json'), known)} Give a pipeline file or one of: ${known.join(', ')}`, { pipeline: nameOrFile });
  }
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new RcbsError('RCBS_PIPELINE_INVALID', `pipeline file ${file} is not valid JSON: ${(err as Error).message}`, { path: file });
  }
  return { file: data as PipelineFile, path: file };
}

const STEP_USE = /^\/(source|transforms\/\d+|sinks\/\d+)\/use$/;

/** Shape-only check (before config is known): the pipeline schema. */
export function checkPipelineShape(loaded: LoadedPipeline): string[] {
  return validatePipelineShape(loaded.file).map((e) => {
    const line = describeAjvError(e);
    const at = STEP_USE.exec(e.instancePath);
    if (!at || e.keyword !== 'enum') return line;
    return line + wrongKindHint(e.data, at[1]!.startsWith('source') ? 'source' : at[1]!.startsWith('transforms') ? 'transform' : 'sink');
  });
}

const PARAM_REFERENCE = /\$\{param\.([A-Za-z_][A-Za-z0-9_-]*)\}/g;
const WHOLE_PARAM_REFERENCE = /^\$\{param\.([A-Za-z_][A-Za-z0-9_-]*)\}$/;

/** The parameter names a pipeline file declares. */
export function declaredParams(file: PipelineFile | undefined): string[] {
  const params = file?.params;
  return params !== null && typeof params === 'object' && !Array.isArray(params) ? Object.keys(params) : [];
}

/** A --set text as the type of the parameter's default (`--set gzip=true` for a boolean). */
function typedLike(example: unknown, text: string): unknown {
  if (typeof example === 'boolean' && /^(true|false)$/i.test(text.trim())) return text.trim().toLowerCase() === 'true';
  if (typeof example === 'number' && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  return text;
}

/** Fills ${param.name} in the steps (a whole-string reference takes the value's type). */
function fillParams(file: PipelineFile, given: Readonly<Record<string, string>>, problems: string[]): PipelineFile {
  const declared = declaredParams(file);
  const values: Record<string, unknown> = {};
  for (const name of declared) {
    const param = file.params![name];
    if (given[name] !== undefined) values[name] = typedLike(param?.default, given[name]!);
    else if (param && param.default !== undefined) values[name] = param.default;
  }
  const reported = new Set<string>();
  const lookup = (name: string, at: string): unknown => {
    if (name in values) return values[name];
    if (!reported.has(name)) {
      reported.add(name);
      problems.push(
        declared.includes(name)
          ? `${at}: pipeline parameter ${name} is not set: give it with --set ${name}=…${file.params![name]?.description ? ` (${file.params![name]!.description})` : ''}`
          : `${at}: \${param.${name}} is not a parameter of this pipeline${didYouMean(name, declared)}${declared.length ? ` (params: ${declared.join(', ')})` : ' (it declares no "params")'}`,
      );
    }
    return undefined;
  };
  const fill = (value: unknown, at: string): unknown => {
    if (typeof value === 'string') {
      const whole = WHOLE_PARAM_REFERENCE.exec(value);
      if (whole) return lookup(whole[1]!, at);
      return value.replace(PARAM_REFERENCE, (_m, name: string) => {
        const v = lookup(name, at);
        return v === undefined ? '' : String(v);
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => fill(v, `${at}/${i}`));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, `${at}/${k}`)]));
    return value;
  };
  return {
    ...file,
    source: fill(file.source, '/source') as PipelineStep,
    ...(file.transforms !== undefined ? { transforms: fill(file.transforms, '/transforms') as PipelineStep[] } : {}),
    sinks: fill(file.sinks, '/sinks') as PipelineStep[],
  };
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
export async function resolvePipeline(loaded: LoadedPipeline, config: Readonly<RcbsConfig>, env: NodeJS.ProcessEnv, params: Readonly<Record<string, string>> = {}): Promise<ResolvedStep[]> {
  const paramProblems: string[] = [];
  const file = loaded.file !== null && typeof loaded.file === 'object' && !Array.isArray(loaded.file) ? fillParams(loaded.file, params, paramProblems) : loaded.file;
  const problems = [...checkPipelineShape({ ...loaded, file }), ...paramProblems];
  const steps: Array<[ComponentKind, string, PipelineStep | undefined]> = [['source', '/source', file?.source]];
  (Array.isArray(file?.transforms) ? file.transforms : []).forEach((s, i) => steps.push(['transform', `/transforms/${i}`, s]));
  (Array.isArray(file?.sinks) ? file.sinks : []).forEach((s, i) => steps.push(['sink', `/sinks/${i}`, s]));

  // Loaded together: each a module or two the others' imports share (registry.ts).
  const components = await Promise.all(steps.map(([kind, , step]) => (typeof step?.use === 'string' ? loadComponent(kind, step.use) : undefined)));
  const resolved: ResolvedStep[] = [];
  for (const [i, [kind, at, step]] of steps.entries()) {
    if (!step || typeof step.use !== 'string') continue; // the shape check has reported it
    const component = components[i];
    if (!component) {
      // Shape errors already name unknown components via the enum; say it plainly once more only if not.
      if (!problems.some((p) => p.startsWith(`${at}/use`))) problems.push(`${at}/use: no ${kind} named "${step.use}"${didYouMean(step.use, componentNames(kind))}${wrongKindHint(step.use, kind)}`);
      continue;
    }
    const options = interpolate(step.with ?? {}, config, env, `${at}/with`, problems) as Record<string, unknown>;
    let validate = optionValidators.get(component);
    if (!validate) {
      validate = validatorFor(optionsValidatorName(component.kind, component.name), component.options as object, PIPELINE_AJV_OPTIONS);
      optionValidators.set(component, validate);
    }
    if (!validate(options)) {
      for (const e of validate.errors ?? []) problems.push(describeAjvError(e, `${at}/with`));
      continue;
    }
    const own = component.check?.(options) ?? [];
    if (own.length > 0) {
      for (const problem of own) problems.push(`${at}/with${problem}`);
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
