// The table of every config key: the guide's parameters (reference/rcbs-admin-guide.txt)
// and this tool's extensions (SPEC §3). One row says how a key is written, what it
// parses to, its default and what it means; load.ts validates with it and docs are
// generated from it (CONFIG_KEYS, configJsonSchema). Keys are case-sensitive, as in
// the original tool.

import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, parseDate, parseDuration, type Parsed } from './duration.js';
import { RcbsError } from '../errors.js';
import type { RcbsConfig } from './types.js';

export type ConfigValue = string | number | boolean | string[];

export type ConfigKeyType =
  | 'string' | 'url' | 'uri-path' | 'host' | 'port' | 'integer' | 'boolean' | 'enum'
  | 'duration' | 'date' | 'size' | 'regex' | 'template' | 'folder-format' | 'path' | 'path-list';

export interface ConfigKey {
  /** The key as written in config.properties, pipeline files and --set. */
  key: string;
  /** The RcbsConfig field it fills (decryptKey fills decryptKeys). */
  field: keyof RcbsConfig;
  type: ConfigKeyType;
  /** What is allowed, in words, for error messages and docs. */
  allowed: string;
  /** The default as an operator would write it; absent = not set. */
  default?: string;
  /** One line, from the guide where the guide has the key. */
  description: string;
  /** Only in this tool, not in the original RCBS. */
  extension?: boolean;
  parse(text: string): Parsed<ConfigValue>;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (reason: string): Parsed<never> => ({ ok: false, reason });

function integer(min: number, max: number): (text: string) => Parsed<number> {
  return (text) => {
    const value = text.trim();
    if (!/^\d+$/.test(value)) return bad(`an integer from ${min} to ${max}`);
    const n = Number(value);
    return n >= min && n <= max ? ok(n) : bad(`an integer from ${min} to ${max}`);
  };
}

function boolean(text: string): Parsed<boolean> {
  const value = text.trim().toLowerCase();
  if (value === 'true') return ok(true);
  if (value === 'false') return ok(false);
  return bad('true or false');
}

function oneOf<T extends string>(values: readonly T[]): (text: string) => Parsed<T> {
  return (text) => {
    const found = values.find((v) => v.toLowerCase() === text.trim().toLowerCase());
    return found ? ok(found) : bad(`one of ${values.join(', ')}`);
  };
}

function httpUrl(text: string): Parsed<string> {
  const value = text.trim();
  const allowed = 'an http:// or https:// URL';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return bad(allowed);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return bad(allowed);
  if (url.username || url.password) return bad(`${allowed} without user:password (credentials come from the environment: GWS_USERNAME/GWS_PASSWORD, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`);
  if (url.search || url.hash) return bad(`${allowed} without ?query or #fragment`);
  // Paths are appended to it ({gwsUriPrefix}{gwsRecordingsUri}): no trailing slash.
  return ok(value.replace(/\/+$/, ''));
}

function uriPath(text: string): Parsed<string> {
  const value = text.trim();
  return /^\/[^\s?#]*$/.test(value) ? ok(value) : bad('a path starting with / (no spaces, no ?query)');
}

/** awsProxyHost is a bare host in the guide, gwsProxyHost `http://host`: both forms work for both. */
function proxyHost(text: string): Parsed<string> {
  const value = text.trim().replace(/\/$/, '');
  const allowed = 'a host name or IP address, optionally with http:// or https://, without port or path';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  if (scheme && !/^https?$/i.test(scheme[1]!)) return bad(allowed);
  const authority = scheme ? value.slice(scheme[0].length) : value;
  if (authority.length === 0 || /[/?#\s]/.test(authority)) return bad(allowed);
  if (authority.includes('@')) return bad(`${allowed}, without user:password`);
  let url: URL;
  try {
    url = new URL(`http://${authority}`);
  } catch {
    return bad(allowed);
  }
  if (url.port || /:\d*$/.test(authority) && !authority.endsWith(']')) return bad(`${allowed} (put the port in the matching ...ProxyPort key)`);
  return ok(value);
}

/** Java patterns often start with (?i); JS has no inline flags on Node 20, so it becomes the i flag. */
export function compileMediaTypePattern(source: string): RegExp {
  const caseless = source.startsWith('(?i)');
  const body = caseless ? source.slice(4) : source;
  // Java's String.matches: the whole type must match, so audio/mp3 does not take audio/mp3x.
  return new RegExp(`^(?:${body})$`, caseless ? 'i' : '');
}

function regex(text: string): Parsed<string> {
  const value = text.trim();
  if (value.length === 0) return bad('a regular expression that is not empty, such as audio/mp3|video/mp4');
  try {
    compileMediaTypePattern(value);
    return ok(value);
  } catch (err) {
    // Report what JS says about the pattern as written, not about our ^(?:…)$ wrapper.
    let why = (err as Error).message;
    try {
      new RegExp(value.startsWith('(?i)') ? value.slice(4) : value);
    } catch (plain) {
      why = (plain as Error).message;
    }
    return bad(`a valid regular expression, such as audio/mp3|video/mp4 (${why.replace(/^Invalid regular expression: \/.*\/\w*: /, '')})`);
  }
}

function keyTemplate(text: string): Parsed<string> {
  const value = text.trim();
  const allowed = 'text with {field} placeholders, such as {keyPrefix}{mediaId}';
  // Every brace must open a {name} placeholder: a stray brace is a typo, not a key character.
  const stripped = value.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, '');
  if (value.length === 0 || /[{}]/.test(stripped)) return bad(allowed);
  return ok(value);
}

/** The tokens recordingFolderFormat knows (Java SimpleDateFormat letters, UTC). */
export const FOLDER_FORMAT_TOKENS = ['yyyy', 'MM', 'dd', 'HH', 'mm', 'ss'] as const;

function folderFormat(text: string): Parsed<string> {
  const value = text.trim();
  const allowed = `tokens ${FOLDER_FORMAT_TOKENS.join(' ')} joined by / and the literal characters - _ . and digits, such as yyyy/MM/dd/HH`;
  if (value.length === 0) return bad(allowed);
  if (value.includes('\\')) return bad(`${allowed}; use / (forward slash), not \\`);
  if (value.startsWith('/') || value.split('/').some((part) => part.length === 0)) return bad(`${allowed}; no leading /, no empty folder (//)`);
  if (value.split('/').some((part) => /^\.+$/.test(part))) return bad(`${allowed}; no . or .. folder`);
  for (const run of value.match(/([A-Za-z])\1*/g) ?? []) {
    if (!(FOLDER_FORMAT_TOKENS as readonly string[]).includes(run)) return bad(`${allowed}; "${run}" is not a known token`);
  }
  if (/[^A-Za-z0-9/_.-]/.test(value)) return bad(allowed);
  return ok(value);
}

function path(text: string): Parsed<string> {
  const value = text.trim();
  return value.length > 0 ? ok(value) : bad('a folder path');
}

function filePath(text: string): Parsed<string> {
  const value = text.trim();
  return value.length > 0 ? ok(value) : bad('a file path');
}

function pathList(text: string): Parsed<string[]> {
  const files = text.split(',').map((f) => f.trim()).filter((f) => f.length > 0);
  return files.length > 0 ? ok(files) : bad('one or more key file paths, separated by commas');
}

function s3Bucket(text: string): Parsed<string> {
  const value = text.trim();
  return /^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(value) ? ok(value) : bad('an S3 bucket name (letters, digits, . - _)');
}

function s3Region(text: string): Parsed<string> {
  const value = text.trim();
  return /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(value) ? ok(value) : bad('an AWS region such as eu-west-1');
}


const days = (t: string) => parseDuration(t, DAY_MS, 'days');
function stallTimeout(text: string): Parsed<number> {
  const parsed = parseDuration(text, SECOND_MS, 'seconds');
  // 0 would abort every transfer at once; below 100 ms a busy machine would look stalled.
  if (parsed.ok && parsed.value < 100) return bad('a whole number of seconds (>= 1) or an ISO-8601 duration of at least PT0.1S, such as PT30S');
  return parsed;
}
/** A byte size: a whole number of bytes, or with a binary unit (KiB, MiB, GiB; K, M, G mean the same). */
function byteSize(min: number, what: string): (text: string) => Parsed<number> {
  const allowed = `${what}: bytes, or a number with KiB, MiB or GiB (such as 16MiB), at least ${min}`;
  return (text) => {
    const m = /^(\d+)\s*(?:([KMG])(?:i?B)?|B)?$/i.exec(text.trim());
    if (!m) return bad(allowed);
    const n = Number(m[1]) * 1024 ** ({ K: 1, M: 2, G: 3 }[m[2]?.toUpperCase() as 'K' | 'M' | 'G'] ?? 0);
    return Number.isSafeInteger(n) && n >= min ? ok(n) : bad(allowed);
  };
}
const hours = (t: string) => parseDuration(t, HOUR_MS, 'hours');
function shardDuration(text: string): Parsed<number> {
  const parsed = days(text);
  // Below a minute a window would need absurd numbers of queries; 0 means one query for the window.
  if (parsed.ok && parsed.value !== 0 && parsed.value < MINUTE_MS) return bad('0 (no slicing), a whole number of days or an ISO-8601 duration of at least PT1M');
  return parsed;
}

export const CONFIG_KEYS: readonly ConfigKey[] = Object.freeze([
  // Mandatory (guide: "must be modified")
  { key: 'gwsUriPrefix', field: 'gwsUriPrefix', type: 'url', allowed: 'an http:// or https:// URL', description: 'URL prefix of Interaction Recording Web Services, where the recording metadata comes from (mandatory for the GWS source; provided by Genesys)', parse: httpUrl },
  { key: 'maxAge', field: 'maxAge', type: 'duration', allowed: 'a whole number of days (>= 0, 0 = any age) or an ISO-8601 duration', default: '2', description: 'Recordings newer than this are downloaded: days, or ISO-8601 (P7DT3H); 0 is any age', parse: days },
  { key: 'targetDir', field: 'targetDir', type: 'path', allowed: 'a folder path with / separators (UNC //server/share/path works)', default: 'target', description: 'Folder the recordings are downloaded to; use / on every OS; UNC //server/share/path works; relative = from the config file\'s folder', parse: path },
  // Proxies
  { key: 'awsProxyHost', field: 'awsProxyHost', type: 'host', allowed: 'a host name or IP address', description: 'Proxy host (name or IP) for Amazon S3; needs awsProxyPort', parse: proxyHost },
  { key: 'awsProxyPort', field: 'awsProxyPort', type: 'port', allowed: 'a port from 1 to 65535', description: 'Proxy port for awsProxyHost', parse: integer(1, 65535) },
  { key: 'gwsProxyHost', field: 'gwsProxyHost', type: 'host', allowed: 'a host, as http://proxyaddress or a bare name or IP', description: 'Proxy host for Interaction Recording Web Services, as http://proxyaddress; needs gwsProxyPort', parse: proxyHost },
  { key: 'gwsProxyPort', field: 'gwsProxyPort', type: 'port', allowed: 'a port from 1 to 65535', description: 'Proxy port for gwsProxyHost', parse: integer(1, 65535) },
  // Advanced (guide: "Show advanced parameters")
  { key: 'downloadMode', field: 'downloadMode', type: 'enum', allowed: 'single or multithread', default: 'multithread', description: 'multithread downloads numThreads media files in parallel; single one at a time', parse: oneOf(['single', 'multithread'] as const) },
  { key: 'encryptionFormat', field: 'encryptionFormat', type: 'enum', allowed: 'AES-128 or AES-256', default: 'AES-128', description: 'Cipher used when the tool itself encrypts: AES-128 or AES-256', parse: oneOf(['AES-128', 'AES-256'] as const) },
  { key: 'gwsRecordingsUri', field: 'gwsRecordingsUri', type: 'uri-path', allowed: 'a path starting with /', default: '/recordings', description: 'Path of the recording API under gwsUriPrefix; change only when Genesys says so', parse: uriPath },
  { key: 'gwsSettingsUri', field: 'gwsSettingsUri', type: 'uri-path', allowed: 'a path starting with /', default: '/me/settings/rcbs', description: 'Path of the settings API under gwsUriPrefix; change only when Genesys says so', parse: uriPath },
  { key: 'mediaTypePattern', field: 'mediaTypePattern', type: 'regex', allowed: 'a regular expression matched against the whole media type', default: 'audio/mp3|video/mp4', description: 'Regular expression on the whole media file type: which media are downloaded (audio\\/mp3 = MP3 only)', parse: regex },
  { key: 'metadataOnly', field: 'metadataOnly', type: 'boolean', allowed: 'true or false', default: 'false', description: 'true = metadata JSON only, no media (no S3 credentials needed)', parse: boolean },
  { key: 'minAge', field: 'minAge', type: 'duration', allowed: 'a whole number of days (>= 0) or an ISO-8601 duration such as PT30M', default: '0', description: 'Recordings older than this are downloaded: days, or ISO-8601 (PT30M); must be less than maxAge', parse: days },
  { key: 'minDate', field: 'minDate', type: 'date', allowed: 'YYYY-MM-DD (GMT) or epoch milliseconds', description: 'Absolute newest bound, used instead of minAge: YYYY-MM-DD (GMT) or epoch ms', parse: parseDate },
  { key: 'maxDate', field: 'maxDate', type: 'date', allowed: 'YYYY-MM-DD (GMT) or epoch milliseconds', description: 'Absolute oldest bound, used instead of maxAge and last_recording_endtime.txt: YYYY-MM-DD (GMT) or epoch ms', parse: parseDate },
  { key: 'numThreads', field: 'numThreads', type: 'integer', allowed: 'an integer from 1 to 1024', default: '4', description: 'Parallel transfers when downloadMode is multithread', parse: integer(1, 1024) },
  { key: 'overlap', field: 'overlap', type: 'duration', allowed: 'a whole number of hours (>= 0) or an ISO-8601 duration', default: '6', description: 'Time before the lower bound re-scanned on later runs to catch late media: hours, or ISO-8601 (P6D)', parse: hours },
  { key: 'rcbsInstanceId', field: 'rcbsInstanceId', type: 'integer', allowed: 'an integer from 0 to totalRcbsInstances - 1', description: 'This instance\'s id, 0 to totalRcbsInstances - 1, when several instances share the load', parse: integer(0, 1_000_000) },
  { key: 'totalRcbsInstances', field: 'totalRcbsInstances', type: 'integer', allowed: 'an integer from 1 to 1000000', description: 'How many instances share the load; used with rcbsInstanceId', parse: integer(1, 1_000_000) },
  { key: 'recordingFolderFormat', field: 'recordingFolderFormat', type: 'folder-format', allowed: 'tokens yyyy MM dd HH mm ss joined by /', default: 'yyyy/MM/dd/HH', description: 'Folders under the tenant, from the recording start time in UTC (yyyy/MM/dd/HH)', parse: folderFormat },
  { key: 'shardBy', field: 'shardBy', type: 'duration', allowed: 'a whole number of days or an ISO-8601 duration (0 = one query for the window)', default: '1', description: 'Length of each query to the recording API, in days or ISO-8601; ignored when the window is shorter', parse: shardDuration },
  { key: 'skipLastRecordingCheck', field: 'skipLastRecordingCheck', type: 'boolean', allowed: 'true or false', default: 'false', description: 'true = ignore last_recording_endtime.txt (no catch-up after missed runs, no overlap)', parse: boolean },
  { key: 'usePayloadSigning', field: 'usePayloadSigning', type: 'boolean', allowed: 'true or false', default: 'false', description: 'Sign request payloads for S3 (false is faster)', parse: boolean },
  // Extensions of this tool (SPEC §3)
  { key: 's3Bucket', field: 's3Bucket', type: 'string', allowed: 'an S3 bucket name', extension: true, description: 'S3 bucket of the media, overriding the settings API', parse: s3Bucket },
  { key: 's3Region', field: 's3Region', type: 'string', allowed: 'an AWS region such as eu-west-1', extension: true, description: 'S3 region, overriding the settings API', parse: s3Region },
  { key: 's3Endpoint', field: 's3Endpoint', type: 'url', allowed: 'an http:// or https:// URL', extension: true, description: 'URL of an S3-compatible endpoint, overriding the settings API', parse: httpUrl },
  { key: 's3ForcePathStyle', field: 's3ForcePathStyle', type: 'boolean', allowed: 'true or false', extension: true, description: 'Address the bucket in the path (S3-compatible servers) instead of the host name', parse: boolean },
  { key: 's3KeyTemplate', field: 's3KeyTemplate', type: 'template', allowed: 'text with {field} placeholders', default: '{keyPrefix}{mediaId}', extension: true, description: 'S3 key of a media file, from the settings and the media file fields', parse: keyTemplate },
  { key: 's3StallTimeout', field: 's3StallTimeout', type: 'duration', allowed: 'a whole number of seconds (>= 1) or an ISO-8601 duration such as PT30S', default: '30', extension: true, description: 'A download that receives no byte for this long is aborted and resumed with a Range request: seconds, or ISO-8601 (PT2M)', parse: stallTimeout },
  { key: 's3PartSize', field: 's3PartSize', type: 'size', allowed: 'bytes, or a number with KiB, MiB or GiB (such as 8MiB), at least 64KiB', extension: true, description: 'Size of each ranged GET when a large object is fetched in parallel parts (see s3PartThreshold); unset: 64MiB / numThreads in whole MiB, from 2MiB to 8MiB (smaller parts at a higher numThreads leave less to check after the last byte)', parse: byteSize(64 * 1024, 'a part size') },
  { key: 's3PartThreshold', field: 's3PartThreshold', type: 'size', allowed: 'bytes, or a number with KiB, MiB or GiB (such as 64MiB); 0 = never split', extension: true, description: 'Objects at least this large are fetched as parallel ranged GETs of s3PartSize into one temp file, still checked as a whole; 0 = one GET per object; unset: 64MiB from a far store (25 ms or more to answer an object\'s first GET, S3 over a network), one GET per object from a near one (this machine, the LAN)', parse: byteSize(0, 'a size') },
  { key: 'restoreArchivedDays', field: 'restoreArchivedDays', type: 'integer', allowed: 'an integer from 1 to 3650', extension: true, description: 'For media S3 holds in an archive tier (Glacier, Deep Archive): ask S3 to restore them (RestoreObject, Bulk tier) for this many days; off unless set', parse: integer(1, 3650) },
  { key: 'gwsPageSize', field: 'gwsPageSize', type: 'integer', allowed: 'an integer from 1 to 10000', default: '100', extension: true, description: 'Recordings asked per page of the recording API', parse: integer(1, 10_000) },
  { key: 'gwsConcurrency', field: 'gwsConcurrency', type: 'integer', allowed: 'an integer from 1 to 64', default: '4', extension: true, description: 'Requests to the recording API in flight at once: time slices (shardBy) of the window queried at once, and pages fetched ahead within a slice when the API pages by offset; 1 = one page at a time, slices oldest first', parse: integer(1, 64) },
  { key: 'decryptDir', field: 'decryptDir', type: 'path', allowed: 'a folder path outside targetDir', extension: true, description: 'Where decrypted copies go (same relative paths); off when unset; never inside targetDir', parse: path },
  { key: 'caFile', field: 'caFile', type: 'path', allowed: 'a PEM file of CA certificates', extension: true, description: 'CA certificates (PEM) trusted in addition to the system\'s, for GWS and S3: a TLS-inspecting proxy\'s or a private CA; relative = from the config file\'s folder', parse: filePath },
  { key: 'decryptKey', field: 'decryptKeys', type: 'path-list', allowed: 'key file paths separated by commas', extension: true, description: 'Private key files (PEM, PKCS#8, PKCS#12) for decrypting, separated by commas', parse: pathList },
] satisfies ConfigKey[]);

const BY_KEY = new Map(CONFIG_KEYS.map((k) => [k.key, k]));

export function configKey(key: string): ConfigKey | undefined {
  return BY_KEY.get(key);
}

/**
 * The environment variable of a config key: RCBS_ + the key in UPPER_SNAKE, a `_`
 * before each capital that follows a lower-case letter or digit:
 * targetDir → RCBS_TARGET_DIR, gwsUriPrefix → RCBS_GWS_URI_PREFIX,
 * s3ForcePathStyle → RCBS_S3_FORCE_PATH_STYLE, totalRcbsInstances → RCBS_TOTAL_RCBS_INSTANCES.
 */
export function envNameOf(key: string): string {
  return 'RCBS_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known name closest to `name`, ignoring case (maxage → maxAge), with its distance. */
export function nearestName(name: string, names: readonly string[]): { name: string; distance: number } {
  let best = { name: names[0]!, distance: Infinity };
  for (const candidate of names) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < best.distance) best = { name: candidate, distance };
  }
  return best;
}

/** `; did you mean "backup"?` when a known name is close enough to be the one meant, else ''. */
export function didYouMean(name: string, names: readonly string[]): string {
  if (names.length === 0) return '';
  const nearest = nearestName(name, names);
  return nearest.distance <= Math.max(2, Math.floor(name.length / 3)) ? `; did you mean "${nearest.name}"?` : '';
}

/** "did you mean maxAge?" for an unknown key. */
export function unknownKeyHint(name: string): string {
  const nearest = nearestName(name, CONFIG_KEYS.map((k) => k.key));
  if (nearest.distance === 0) return `keys are case-sensitive: did you mean ${nearest.name}?`;
  if (nearest.distance <= Math.max(2, Math.floor(name.length / 3))) return `did you mean ${nearest.name}?`;
  return `the nearest known key is ${nearest.name}`;
}

/** JSON Schema of a pipeline file's `config` object, generated from the table. */
export function configJsonSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) {
    const types =
      k.type === 'boolean' ? ['boolean', 'string']
      : k.type === 'port' || k.type === 'integer' ? ['integer', 'string']
      : k.type === 'duration' || k.type === 'date' || k.type === 'size' ? ['integer', 'string']
      : k.type === 'path-list' ? ['string', 'array']
      : ['string'];
    properties[k.key] = { type: types, description: `${k.description}. Allowed: ${k.allowed}.${k.default !== undefined ? ` Default: ${k.default}.` : ''}` };
  }
  return { type: 'object', additionalProperties: false, properties };
}

/** One invalid setting, as RCBS_CONFIG_INVALID lists it. `value` is already safe to print. */
export interface ConfigProblem {
  key: string;
  value: string;
  allowed: string;
  /** Where the value came from: "config.properties line 4", "--set", "env RCBS_MAX_AGE"… */
  source: string;
}

const SECRET_KEY = /pass|secret|token|credential|private/i;
const SECRET_ENV_NAMES = ['GWS_PASSWORD', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'RCBS_KEY_PASSPHRASE'];

/** A value as it may appear in a message: never a secret, never a screenful. */
export function printableValue(key: string, value: string, env: NodeJS.ProcessEnv = process.env): string {
  if (SECRET_KEY.test(key)) return '[REDACTED]';
  for (const name of SECRET_ENV_NAMES) {
    const secret = env[name];
    if (secret && secret.length >= 4 && value.includes(secret)) return '[REDACTED]';
  }
  // user:password@ in a URL
  const safe = value.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1[REDACTED]@');
  return safe.length > 200 ? `${safe.slice(0, 200)}…` : safe;
}

/** The one error every config problem ends in: each line says key=value, what is allowed, and where it came from. */
export function configInvalidError(problems: ConfigProblem[], heading = 'the configuration is invalid', warnings: readonly string[] = []): RcbsError {
  const lines = problems.map((p) => `  - ${p.key}=${p.value}: ${p.allowed} (from ${p.source})`);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  // Warnings (a misspelt key…) often explain the problem: keep them in the one message.
  const notes = warnings.length > 0 ? `\nAlso:\n${warnings.map((w) => `  - ${w}`).join('\n')}` : '';
  return new RcbsError('RCBS_CONFIG_INVALID', `${heading} (${count}):\n${lines.join('\n')}${notes}\nFix each value where it came from and run again.`, { problems, warnings });
}

/** The key table as Markdown (docs/config.md), with the environment variable of each key. */
export function renderConfigKeysMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = CONFIG_KEYS.map((k) =>
    `| \`${k.key}\`${k.extension ? ' (rcbs)' : ''} | ${cell(k.description)} | ${cell(k.allowed)} | ${k.default === undefined ? '—' : `\`${cell(k.default)}\``} | \`${envNameOf(k.key)}\` |`,
  );
  return [
    '| key | meaning | allowed | default | environment |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
