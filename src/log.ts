// Logging to stderr only (stdout is for NDJSON data). Every line, human or JSON,
// passes through `redact`, the single place that removes secrets: values of the
// secret environment variables and anything that looks like a credential in a
// URL, header or key=value pair.
//
// stderr is shared by the log lines and the one-line progress display (SPEC §2):
// `createStderr` owns both, so a log line first clears the progress line, is
// written whole, and the progress line is drawn again below it. With
// --log-format json every line is one JSON object, the run's summary included
// (last, "msg":"summary"); human lines carry a timestamp when stderr is not a
// terminal (a log file, journald without a TTY, a CI log).
//
// Hand-written rather than log-update: the display is one ASCII line cut to the
// terminal's width, which needs `\r`, the text and "erase to end of line" (CSI K);
// log-update's value is multi-line, ANSI-aware wrapping, and it brings 15 packages
// and hides the cursor through a signal-exit hook that adds its own SIGINT/SIGTERM
// listeners to a process whose stop protocol is those signals.

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
  /** The outcome, printed whatever the level (--quiet too): `text` for people (a table;
   * none: nothing more to say), `fields` as one JSON line `"msg":"summary"` with --log-format json. */
  summary(text: string | undefined, fields: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** stderr shared by log lines and the progress line (which it keeps below them). */
export interface Stderr {
  /** Writes one or more whole lines; the progress line, if shown, is cleared first and drawn again after. */
  line(text: string): void;
  /** Shows (or replaces) the progress line; undefined removes it. */
  status(text: string | undefined): void;
  readonly isTTY: boolean;
}

type StderrStream = Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean; columns?: number };

/** CSI K: erase from the cursor to the end of the line (a shorter update leaves nothing behind). */
const ERASE_TO_END = '\x1b[K';

export function createStderr(out: StderrStream = process.stderr): Stderr {
  let shown: string | undefined;
  const fit = (text: string) => {
    const width = out.columns ?? 0;
    // One column short: a line that fills the width would wrap on some terminals.
    return width > 1 && text.length >= width ? text.slice(0, width - 1) : text;
  };
  return {
    line(text) {
      out.write(shown === undefined ? `${text}\n` : `\r${ERASE_TO_END}${text}\n\r${shown}${ERASE_TO_END}`);
    },
    status(text) {
      if (text === undefined) {
        if (shown !== undefined) out.write(`\r${ERASE_TO_END}`);
        shown = undefined;
        return;
      }
      shown = fit(text);
      out.write(`\r${shown}${ERASE_TO_END}`);
    },
    get isTTY() {
      return Boolean(out.isTTY);
    },
  };
}

/** The process's stderr, shared by every logger and the progress line. */
let processStderr: Stderr | undefined;
export function sharedStderr(): Stderr {
  processStderr ??= createStderr(process.stderr);
  return processStderr;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where whole lines go (default: the shared stderr, below which the progress line stays). */
  write?: (line: string) => void;
  fields?: Record<string, unknown>;
  /** Prefix human lines with an ISO-8601 time (default: when stderr is not a terminal). */
  timestamps?: boolean;
  now?: () => Date;
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
  const write = options.write ?? ((line: string) => sharedStderr().line(line));
  const timestamps = options.timestamps ?? (options.write === undefined && !sharedStderr().isTTY);
  const now = options.now ?? (() => new Date());
  const base = options.fields ?? {};
  const stamp = (line: string) => (timestamps ? `${now().toISOString()} ${line}` : line);

  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < min) return;
    const all = { ...base, ...fields };
    let line: string;
    if (format === 'json') {
      line = JSON.stringify({ time: now().toISOString(), level, msg, ...serialisable(all) });
    } else {
      const extras = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(' ');
      line = stamp(`rcbs ${level}: ${msg}${extras ? ' ' + extras : ''}`);
    }
    write(redact(line));
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    summary(text, fields) {
      if (format !== 'json' && text === undefined) return;
      const line = format === 'json' ? JSON.stringify({ time: now().toISOString(), level: 'info', msg: 'summary', ...serialisable({ ...base, ...fields }) }) : stamp(text!);
      write(redact(line));
    },
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything, for tests of components that need one. */
export const silentLogger: Logger = createLogger({ write: () => {} });
