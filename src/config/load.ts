// Settings precedence (SPEC §3), later wins:
//   packaged defaults < config.properties < pipeline file `config` < environment < --set
// Every layer is text until the end, then each key's final value is parsed once
// by its row in keys.ts; every problem of every key is collected and thrown as ONE
// RCBS_CONFIG_INVALID naming key, value, what is allowed and where it came from.
// The result is deep-frozen: code downstream never re-checks or mutates it.
//
// Environment names: RCBS_ + the key in UPPER_SNAKE (keys.ts envNameOf):
// RCBS_TARGET_DIR, RCBS_MAX_AGE, RCBS_GWS_URI_PREFIX, RCBS_TOTAL_RCBS_INSTANCES…
// An empty variable counts as unset (containers often define them empty).
// An empty value elsewhere (`awsProxyHost =`, `--set awsProxyHost=`) means "back to
// the default", so a later layer can clear an earlier one.
//
// Credentials come from GWS_USERNAME, GWS_PASSWORD, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN only, never from a config layer, and
// never land in the config object.
//
// Relative paths (targetDir, decryptDir, decryptKey): from config.properties they
// are resolved against the file's folder, as the original tool ran from its
// installation folder with `targetDir = <Installation Directory>/target`; from the
// pipeline config, the environment and --set they are resolved against the current
// folder, where the operator typed them. The default `target` follows the config
// file (or the current folder without one). UNC paths (//server/share) are kept as
// written: path.resolve would collapse the leading `//`.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RcbsError } from '../errors.js';
import { addSecret } from '../log.js';
import { isInside } from '../cms/paths.js';
import { DEFAULT_CONFIG } from './defaults.js';
import { deepFreeze } from './freeze.js';
import { instanceProblems } from './instance.js';
import {
  CONFIG_KEYS, configInvalidError, configKey, envNameOf, nearestName, printableValue, unknownKeyHint,
  type ConfigKey, type ConfigProblem, type ConfigValue,
} from './keys.js';
import { parseProperties } from './properties.js';
import type { Credentials, RcbsConfig } from './types.js';

export interface LoadConfigInput {
  configFile?: string;
  pipelineConfig?: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  sets: string[];
  /** Folder relative paths from the environment and --set start at; default process.cwd(). */
  cwd?: string;
}

export interface LoadedConfig {
  config: Readonly<RcbsConfig>;
  credentials: Readonly<Credentials>;
  warnings: string[];
  /** Where each key's value came from ("defaults", "config.properties line 3", "--set"…). */
  sources: Readonly<Record<string, string>>;
}

interface Setting {
  text: string;
  source: string;
  /** Folder a relative path in this setting is resolved against. */
  baseDir: string;
  /** The text as written in config.properties, before escapes (to spot C:\target). */
  rawText?: string;
}

const CREDENTIAL_VARS = ['GWS_USERNAME', 'GWS_PASSWORD', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];
const CREDENTIAL_LIKE = /pass|secret|token|credential|access_?key|username/i;

function ignoredKeyWarning(key: string, where: string): string {
  if (CREDENTIAL_VARS.includes(key.toUpperCase()) || CREDENTIAL_LIKE.test(key)) {
    return `${where}: ${key} is ignored: credentials come only from the environment (${CREDENTIAL_VARS.join(', ')})`;
  }
  return `${where}: unknown key ${key} is ignored; ${unknownKeyHint(key)}`;
}

async function readConfigFile(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message;
    throw new RcbsError('RCBS_CONFIG_READ', `cannot read config file ${file}: ${why}. Check the path given to --config (relative paths start at ${process.cwd()}).`, { path: file, code }, { cause: err });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Not UTF-8: Java's Properties.load(InputStream) reads ISO-8859-1, so a file
    // written for the original tool with accented characters reads the same here.
    return bytes.toString('latin1');
  }
}

function pipelineText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  return undefined;
}

function parseSet(entry: string): { key: string; value: string } | undefined {
  const at = entry.indexOf('=');
  if (at <= 0) return undefined;
  return { key: entry.slice(0, at).trim(), value: entry.slice(at + 1) };
}

/** A path setting made absolute with forward slashes; UNC kept; a Windows drive path only on Windows. */
function resolveConfigPath(value: string, baseDir: string, platform: NodeJS.Platform = process.platform): { path: string } | { reason: string } {
  if (/^(\/\/|\\\\)[^/\\]/.test(value)) return { path: value.replace(/\\/g, '/') };
  if (/^[A-Za-z]:([^/\\]|$)/.test(value)) return { reason: 'an absolute path: a drive letter needs a slash after it (C:/target)' };
  if (/^[A-Za-z]:[/\\]/.test(value)) {
    if (platform !== 'win32') return { reason: `a path this ${platform} machine can use: ${value.slice(0, 2)} is a Windows drive` };
    return { path: path.win32.resolve(value).replace(/\\/g, '/') };
  }
  const resolved = platform === 'win32' ? path.win32.resolve(baseDir, value) : path.posix.resolve(baseDir, value);
  return { path: resolved.replace(/\\/g, '/') };
}

export async function loadConfig(input: LoadConfigInput): Promise<LoadedConfig> {
  const cwd = input.cwd ?? process.cwd();
  const env = input.env;
  const warnings: string[] = [];
  const problems: ConfigProblem[] = [];
  const settings = new Map<string, Setting>();
  const configDir = input.configFile ? path.dirname(path.resolve(cwd, input.configFile)) : cwd;

  // Layer 1: config.properties
  if (input.configFile) {
    const fileName = path.basename(input.configFile);
    const text = await readConfigFile(path.resolve(cwd, input.configFile));
    const { entries, errors } = parseProperties(text);
    const badLines = new Set(errors.map((e) => e.line));
    for (const error of errors) {
      const entry = entries.find((e) => e.line === error.line);
      problems.push({ key: error.key || `line ${error.line}`, value: printableValue(error.key, entry?.rawValue.trim() ?? '', env), allowed: error.message, source: `${fileName} line ${error.line}` });
    }
    const seen = new Map<string, number>();
    for (const entry of entries) {
      if (badLines.has(entry.line)) continue;
      const where = `${fileName} line ${entry.line}`;
      if (!configKey(entry.key)) {
        warnings.push(ignoredKeyWarning(entry.key, where));
        continue;
      }
      const earlier = seen.get(entry.key);
      if (earlier !== undefined) warnings.push(`${where}: ${entry.key} is set again (first on line ${earlier}); line ${entry.line} wins`);
      seen.set(entry.key, entry.line);
      settings.set(entry.key, { text: entry.value, source: where, baseDir: configDir, rawText: entry.rawValue });
    }
  }

  // Layer 2: the pipeline file's `config` object
  for (const [key, value] of Object.entries(input.pipelineConfig ?? {})) {
    if (!configKey(key)) {
      warnings.push(ignoredKeyWarning(key, 'pipeline file config'));
      continue;
    }
    const text = pipelineText(value);
    if (text === undefined) {
      problems.push({ key, value: printableValue(key, JSON.stringify(value) ?? String(value), env), allowed: 'a string, number or boolean', source: 'pipeline file config' });
      continue;
    }
    settings.set(key, { text, source: 'pipeline file config', baseDir: cwd });
  }

  // Layer 3: the environment
  const knownEnvNames = CONFIG_KEYS.map((k) => envNameOf(k.key));
  for (const def of CONFIG_KEYS) {
    const name = envNameOf(def.key);
    const value = env[name];
    if (value !== undefined && value !== '') settings.set(def.key, { text: value, source: `env ${name}`, baseDir: cwd });
  }
  for (const name of Object.keys(env)) {
    if (!name.startsWith('RCBS_') || knownEnvNames.includes(name)) continue;
    // Other RCBS_ variables exist (RCBS_TOTAL_INSTANCES, RCBS_KEY_PASSPHRASE…): only near-misses are typos.
    const nearest = nearestName(name, knownEnvNames);
    if (nearest.distance > 0 && nearest.distance <= 2) warnings.push(`env ${name} is not a config variable and is ignored; did you mean ${nearest.name}?`);
  }

  // Layer 4: --set key=value. A typo here is an error, not a warning: the operator
  // asked for this very setting on the command line and would run without it.
  for (const entry of input.sets) {
    const set = parseSet(entry);
    if (!set) {
      problems.push({ key: entry.trim() || '(empty)', value: '(no value)', allowed: '--set takes key=value, such as --set maxAge=7', source: '--set' });
      continue;
    }
    if (!configKey(set.key)) {
      problems.push({ key: set.key, value: printableValue(set.key, set.value, env), allowed: `a known key; ${unknownKeyHint(set.key)}`, source: '--set' });
      continue;
    }
    settings.set(set.key, { text: set.value, source: '--set', baseDir: cwd });
  }

  // Parse each key's final value.
  const config: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  // Each key's final text as written (or its default), for cross-key messages.
  const written: Record<string, string> = {};
  const valid = new Set<string>();
  for (const def of CONFIG_KEYS) {
    const setting = settings.get(def.key);
    const fallback = (DEFAULT_CONFIG as unknown as Record<string, unknown>)[def.field];
    sources[def.key] = setting?.source ?? 'defaults';
    written[def.key] = setting?.text.trim() || (def.default ?? '');
    if (!setting || setting.text.trim() === '') {
      config[def.field] = Array.isArray(fallback) ? [...fallback] : fallback;
      if (fallback !== undefined && def.type === 'path') config[def.field] = resolvedPath(def, String(fallback), { text: String(fallback), source: 'defaults', baseDir: configDir });
      valid.add(def.key);
      continue;
    }
    const value = setting.text.trim();
    const parsed = def.parse(value);
    if (!parsed.ok) {
      problems.push({ key: def.key, value: printableValue(def.key, value, env), allowed: parsed.reason, source: setting.source });
      continue;
    }
    config[def.field] = def.type === 'path' || def.type === 'path-list' ? resolvedPath(def, parsed.value, setting) : parsed.value;
    if (config[def.field] !== undefined) valid.add(def.key);
  }

  function resolvedPath(def: ConfigKey, value: ConfigValue, setting: Setting): ConfigValue | undefined {
    // In config.properties a backslash is an escape: C:\target arrives as C:target.
    if (setting.rawText?.includes('\\')) {
      problems.push({ key: def.key, value: printableValue(def.key, setting.rawText.trim(), env), allowed: 'paths with / (forward slash) on every OS: in config.properties \\ is an escape character, so C:\\target reads as C:target; write C:/target', source: setting.source });
      return undefined;
    }
    const list = Array.isArray(value) ? value : [String(value)];
    const out: string[] = [];
    for (const item of list) {
      const resolved = resolveConfigPath(item, setting.baseDir);
      if ('reason' in resolved) {
        problems.push({ key: def.key, value: printableValue(def.key, item, env), allowed: resolved.reason, source: setting.source });
        return undefined;
      }
      out.push(resolved.path);
    }
    return Array.isArray(value) ? out : out[0];
  }

  crossChecks(config as Partial<RcbsConfig>, valid, sources, written, problems, env);

  if (problems.length > 0) throw configInvalidError(problems, undefined, warnings);

  const credentials: Credentials = {};
  const credential = (name: string) => (env[name] ? env[name] : undefined);
  if (credential('GWS_USERNAME')) credentials.gwsUsername = credential('GWS_USERNAME');
  if (credential('GWS_PASSWORD')) credentials.gwsPassword = credential('GWS_PASSWORD');
  if (credential('AWS_ACCESS_KEY_ID')) credentials.awsAccessKeyId = credential('AWS_ACCESS_KEY_ID');
  if (credential('AWS_SECRET_ACCESS_KEY')) credentials.awsSecretAccessKey = credential('AWS_SECRET_ACCESS_KEY');
  if (credential('AWS_SESSION_TOKEN')) credentials.awsSessionToken = credential('AWS_SESSION_TOKEN');
  // The logger redacts process.env's secrets; these may come from another env object.
  addSecret(credentials.gwsPassword);
  addSecret(credentials.awsSecretAccessKey);
  addSecret(credentials.awsSessionToken);

  return {
    config: deepFreeze(config as unknown as RcbsConfig),
    credentials: Object.freeze(credentials),
    warnings,
    sources: Object.freeze(sources),
  };
}

/** Rules between keys, checked only when the keys involved parsed. */
function crossChecks(config: Partial<RcbsConfig>, valid: Set<string>, sources: Record<string, string>, written: Record<string, string>, problems: ConfigProblem[], env: NodeJS.ProcessEnv): void {
  const both = (...keys: string[]) => keys.every((k) => valid.has(k));

  for (const [host, port] of [['awsProxyHost', 'awsProxyPort'], ['gwsProxyHost', 'gwsProxyPort']] as const) {
    if (!both(host, port)) continue;
    if (config[host] !== undefined && config[port] === undefined) {
      problems.push({ key: port, value: '(not set)', allowed: `required with ${host}=${printableValue(host, config[host]!, env)}`, source: sources[host]! });
    } else if (config[port] !== undefined && config[host] === undefined) {
      problems.push({ key: host, value: '(not set)', allowed: `required with ${port}=${config[port]}`, source: sources[port]! });
    }
  }

  if (both('minAge', 'maxAge') && config.minAge! > 0 && config.maxAge! > 0 && config.minAge! >= config.maxAge!) {
    problems.push({
      key: 'minAge',
      value: printableValue('minAge', written.minAge!, env),
      allowed: `less than maxAge (${printableValue('maxAge', written.maxAge!, env)} from ${sources.maxAge}): minAge is the newest age fetched, maxAge the oldest`,
      source: sources.minAge!,
    });
  }

  if (both('minDate', 'maxDate') && config.minDate !== undefined && config.maxDate !== undefined && config.minDate <= config.maxDate) {
    problems.push({
      key: 'minDate',
      value: written.minDate!,
      allowed: `later than maxDate (${written.maxDate} = ${new Date(config.maxDate).toISOString()}, from ${sources.maxDate}): minDate is the newest bound, maxDate the oldest`,
      source: sources.minDate!,
    });
  }

  if (both('decryptDir', 'targetDir') && config.decryptDir !== undefined && config.targetDir !== undefined) {
    if (isInside(config.decryptDir, config.targetDir) || isInside(config.targetDir, config.decryptDir)) {
      problems.push({
        key: 'decryptDir',
        value: config.decryptDir,
        allowed: `a folder outside targetDir (${config.targetDir}) and not containing it: decrypted media must never mix with the encrypted backup`,
        source: sources.decryptDir!,
      });
    }
  }

  if (both('rcbsInstanceId', 'totalRcbsInstances')) {
    const { instance, problems: found } = instanceProblems(config, env);
    for (const problem of found) {
      // instance.ts says "config <key>"; name the layer the key really came from.
      const configKeyName = /^config (\w+)$/.exec(problem.source)?.[1];
      problems.push({ ...problem, source: configKeyName ? sources[configKeyName] ?? problem.source : problem.source });
    }
    if (instance) {
      config.rcbsInstanceId = instance.id;
      config.totalRcbsInstances = instance.total;
    }
  }
}

/**
 * Throws RCBS_CONFIG_INVALID when any of `keys` is unset, saying why it is needed
 * (`requireKeys(config, ['gwsUriPrefix'], 'by the GWS source')`): a key can be
 * mandatory for one command and not another (rcbs decrypt needs no GWS).
 */
export function requireKeys(config: Readonly<RcbsConfig>, keys: readonly (keyof RcbsConfig)[], why: string): void {
  const missing = keys.filter((key) => {
    const value = config[key];
    return value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
  });
  if (missing.length === 0) return;
  const problems = missing.map((field) => {
    const key = CONFIG_KEYS.find((k) => k.field === field)?.key ?? field;
    return { key, value: '(not set)', allowed: `required ${why}: set it in config.properties, as ${envNameOf(key)}, or with --set ${key}=…`, source: 'defaults' };
  });
  throw configInvalidError(problems, `missing settings ${why}`);
}
