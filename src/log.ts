// Logging to stderr only (stdout is for NDJSON data). Every line, human or JSON,
// passes through `redact`, the single place that removes secrets: values of the
// secret environment variables and anything that looks like a credential in a
// URL, header or key=value pair.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'human' | 'json';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Environment variables whose values are secrets wherever they appear. */
export const SECRET_ENV_VARS = [
  'GWS_PASSWORD',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'RCBS_KEY_PASSPHRASE',
] as const;

const extraSecrets = new Set<string>();

/** Registers a secret value learned at run time (a passphrase read from a file…). */
export function addSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) extraSecrets.add(value);
}

function secretValues(): string[] {
  const values = new Set(extraSecrets);
  for (const name of SECRET_ENV_VARS) {
    const v = process.env[name];
    if (v && v.length >= 4) values.add(v);
  }
  // Longest first so a secret containing another is replaced whole.
  return [...values].sort((a, b) => b.length - a.length);
}

const PATTERNS: Array<[RegExp, string]> = [
  // user:password@ in URLs
  [/(\b[a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi, '$1$2:[REDACTED]@'],
  // Authorization headers and bearer/basic tokens
  [/\b(authorization|proxy-authorization)(["']?\s*[:=]\s*["']?)(basic|bearer|aws4-hmac-sha256)?\s*[^"',\s}]+/gi, '$1$2[REDACTED]'],
  // key=value / "key": "value" for secret-looking keys
  [/\b(password|passphrase|secret|secretAccessKey|sessionToken|token|X-Amz-Signature|X-Amz-Security-Token|Signature)(["']?\s*[:=]\s*["']?)([^"'&,\s}]+)/gi, '$1$2[REDACTED]'],
];

export function redact(text: string): string {
  let out = text;
  for (const secret of secretValues()) {
    if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
  }
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  write?: (line: string) => void;
  fields?: Record<string, unknown>;
}

function formatValue(value: unknown): string {
  // Control characters (NUL, ESC…) from the data are quoted and escaped, never sent raw to a terminal.
  if (typeof value === 'string') return /[\s"=\u0000-\u001f\u007f-\u009f]/.test(value) ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value);
}

function serialisable(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { message: v.message, code: (v as { code?: unknown }).code } : v;
  }
  return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = LEVELS[options.level ?? 'info'];
  const format = options.format ?? 'human';
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const base = options.fields ?? {};

  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < min) return;
    const all = { ...base, ...fields };
    let line: string;
    if (format === 'json') {
      line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...serialisable(all) });
    } else {
      const extras = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(' ');
      line = `rcbs ${level}: ${msg}${extras ? ' ' + extras : ''}`;
    }
    write(redact(line));
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything, for tests of components that need one. */
export const silentLogger: Logger = createLogger({ write: () => {} });
