// The HTTP client for Genesys Interaction Recording Web Services (SPEC §4), on undici.
// One dispatcher per client: a keep-alive Agent, or a ProxyAgent when gwsProxyHost is
// set, tunnelling every request with CONNECT (SPEC §3: "HTTP CONNECT proxies"), for
// http and https GWS alike. Without gwsProxyHost, HTTPS_PROXY / HTTP_PROXY apply unless
// NO_PROXY names the host (src/net/env-proxy.ts), decided per origin. TLS trusts
// caFile on top of Node's roots (src/net/trust.ts); a refused certificate is
// RCBS_TLS_UNTRUSTED at once, never retried. Basic auth and a cookie jar on every
// call. Failures the retry policy names (429/5xx, resets, timeouts) and the body
// statusCodes that GWS_STATUS_CODES marks (4) are retried with backoff; a page body
// that breaks off midway is read again from the start, which is safe because the pager
// dedupes by id. Every error is an RcbsError whose message names the URL without
// credentials and says what to check.

import type { SecureContext } from 'node:tls';
import { Agent, buildConnector, ProxyAgent, type Dispatcher } from './undici.js';
import { WarmConnections } from './warm-connections.js';
import { CONNECT_TIMEOUT_MS, takeFirstGwsConnection, type FirstConnection } from './run-connections.js';
import { RcbsError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_RETRY, isRetryableError, retryDelay, type RetryPolicy } from '../retry.js';
import { CookieJar } from './cookies.js';
import { envProxy, envProxyFor, proxyAuthorization, routeMessage } from '../net/env-proxy.js';
import { trustedContext, trustSummary, untrustedCertificateError } from '../net/trust.js';
import type { RunContext } from '../pipeline/types.js';
import { operationSignal } from '../pipeline/abort.js';
import { onRunEnd } from '../pipeline/context.js';

export interface GwsClientOptions {
  /** gwsUriPrefix, e.g. https://example.com/api/v2, as the config validated it (SPEC §3). */
  uriPrefix: string;
  username?: string;
  password?: string;
  /** gwsProxyHost: `http://10.0.1.31` or just `10.0.1.31`. */
  proxyHost?: string;
  proxyPort?: number;
  /** caFile: CA certificates (PEM) trusted on top of Node's roots. */
  caFile?: string;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read (the run's environment). */
  env?: NodeJS.ProcessEnv;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Sockets kept open to GWS: at least one per recordings request in flight (gwsConcurrency). */
  connections?: number;
  retry?: RetryPolicy;
  /** Delay before retry number `attempt` (1 = first retry); tests pass a fast one. */
  retryDelayMs?: (attempt: number, retryAfter: string | undefined) => number;
  signal?: AbortSignal;
  log?: Logger;
}

/** Reads one response body; called again from scratch when the request is retried. */
export type BodyReader<T, R> = (body: AsyncIterable<Uint8Array>, url: string) => AsyncGenerator<T, R, undefined>;

/** A status worth another try; becomes RCBS_GWS_HTTP when the attempts run out. */
class RetryableStatus extends Error {
  constructor(
    readonly status: number,
    readonly retryAfter: string | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Largest error body read to find a statusMessage; the rest is dropped. */
const ERROR_BODY_LIMIT = 64 * 1024;

export class GwsClient {
  readonly uriPrefix: string;
  /** gwsProxyHost's ProxyAgent, or the direct Agent. */
  readonly #dispatcher: Dispatcher;
  /** Without gwsProxyHost: one ProxyAgent per proxy the environment names, made on first use. */
  readonly #envProxies = new Map<string, Dispatcher>();
  readonly #env: NodeJS.ProcessEnv | undefined;
  readonly #tls: { secureContext: SecureContext } | undefined;
  readonly #connections: number;
  /** The direct Agent's connector. */
  readonly #warm: WarmConnections;
  /** What GWS connections trust, for a refused certificate's message. */
  readonly #trusted: string;
  readonly #routed = new Set<string>();
  readonly #jar = new CookieJar();
  readonly #authorization: string | undefined;
  readonly #username: string | undefined;
  readonly #retry: RetryPolicy;
  readonly #delay: (attempt: number, retryAfter: string | undefined) => number;
  readonly #headersTimeout: number;
  readonly #bodyTimeout: number;
  readonly #signal: AbortSignal | undefined;
  readonly #log: Logger;

  constructor(options: GwsClientOptions) {
    this.uriPrefix = options.uriPrefix;
    this.#username = options.username;
    if (options.username !== undefined || options.password !== undefined) {
      const pair = `${options.username ?? ''}:${options.password ?? ''}`;
      this.#authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
    }
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#delay = options.retryDelayMs ?? ((attempt, retryAfter) => retryDelay(this.#retry, attempt, retryAfter));
    this.#headersTimeout = options.headersTimeoutMs ?? 30_000;
    this.#bodyTimeout = options.bodyTimeoutMs ?? 60_000;
    this.#signal = options.signal;
    this.#log = options.log ?? silentLogger;
    const connections = (this.#connections = options.connections ?? 4);
    const secureContext = trustedContext(options.caFile, options.env ?? process.env, 'gws');
    this.#tls = secureContext ? { secureContext } : undefined;
    this.#trusted = trustSummary(options.caFile, options.env ?? process.env, 'gws');
    // undici's own connector (Agent's default: 10 s to connect, TLS sessions reused), under
    // one that can open connections ahead of their requests.
    this.#warm = new WarmConnections(buildConnector({ timeout: CONNECT_TIMEOUT_MS, ...this.#tls }));
    const proxy = proxyUri(options.proxyHost, options.proxyPort);
    // The keys win over the environment: with gwsProxyHost set, *_PROXY is not read.
    this.#env = proxy ? undefined : options.env ?? process.env;
    // A malformed HTTPS_PROXY is a config error now, not at the first request.
    if (this.#env) envProxy(new URL(this.uriPrefix).protocol, this.#env);
    this.#dispatcher = proxy
      ? new ProxyAgent({ uri: proxy, proxyTunnel: true, connections, keepAliveTimeout: 30_000, ...(this.#tls ? { requestTls: this.#tls } : {}) })
      : new Agent({ connections, keepAliveTimeout: 30_000, connect: this.#warm.connect });
  }

  /** `n` requests will go out together soon (the first pages of the window's slices): their
   * connections open as soon as one to GWS is up, while the settings call is out
   * (src/gws/warm-connections.ts). Not through a proxy. */
  expectRequests(n: number): void {
    this.#warm.expect(n);
  }

  /** Takes a connection dialled before the client (src/gws/run-connections.ts) as its first
   * direct one; closes it if the client has one open already. */
  adoptFirstConnection(first: FirstConnection): void {
    if (!this.#warm.openFirst(first.params, first.connector)) first.close();
  }

  /** The dispatcher for a URL: gwsProxyHost's, else the environment's proxy for it, else direct. */
  #dispatcherFor(url: URL): Dispatcher {
    if (!this.#env) return this.#dispatcher;
    const found = envProxyFor(url, this.#env);
    // Once per host, and only when the environment names a proxy at all.
    if (!this.#routed.has(url.host)) {
      this.#routed.add(url.host);
      if (envProxy(url.protocol, this.#env)) this.#log.info(routeMessage('GWS', url.host, found));
    }
    if (!found) return this.#dispatcher;
    let dispatcher = this.#envProxies.get(found.url.href);
    if (!dispatcher) {
      const authorization = proxyAuthorization(found.url);
      const uri = new URL(found.url.href);
      uri.username = '';
      uri.password = '';
      dispatcher = new ProxyAgent({
        uri: uri.href,
        ...(authorization ? { token: authorization } : {}),
        proxyTunnel: true,
        connections: this.#connections,
        keepAliveTimeout: 30_000,
        ...(this.#tls ? { requestTls: this.#tls } : {}),
      });
      this.#envProxies.set(found.url.href, dispatcher);
    }
    return dispatcher;
  }

  /** The absolute URL of an API path under gwsUriPrefix, with query parameters. */
  url(path: string, query: Record<string, string | number> = {}): URL {
    const url = new URL(this.uriPrefix.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`));
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
    return url;
  }

  /** The run's abort signal, if any. */
  get signal(): AbortSignal | undefined {
    return this.#signal;
  }

  /**
   * GETs `url` and hands the body to `read`, retrying per the policy. `signal` (default:
   * the client's) ends the request and any retry wait; the paging passes one that also
   * fires when another slice of the window failed.
   */
  async *stream<T, R>(url: URL, read: BodyReader<T, R>, signal: AbortSignal | undefined = this.#signal): AsyncGenerator<T, R, undefined> {
    const shown = displayUrl(url);
    for (let attempt = 1; ; attempt++) {
      let phase: 'connect' | 'body' = 'connect';
      // Its own signal (src/pipeline/abort.ts): the run's signal keeps one listener however many requests run.
      const request = signal ? operationSignal(signal) : undefined;
      try {
        const body = await this.#open(url, shown, request?.signal);
        phase = 'body';
        return yield* read(body, shown);
      } catch (err) {
        if (signal?.aborted) throw abortedError(shown);
        // The same certificate would be refused on every try.
        const untrusted = untrustedCertificateError(err, 'gws', url.host, this.#trusted);
        if (untrusted) throw untrusted;
        const retryAfter = err instanceof RetryableStatus ? err.retryAfter : undefined;
        if (!this.#isRetryable(err) || attempt > this.#retry.maxRetries) throw this.#finalError(err, phase, shown, attempt);
        const waitMs = this.#delay(attempt, retryAfter);
        this.#log.warn('GWS request failed, retrying', { url: shown, attempt, of: this.#retry.maxRetries + 1, waitMs: Math.round(waitMs), reason: describe(err) });
        await delay(waitMs, undefined, { signal }).catch(() => {
          throw abortedError(shown);
        });
      } finally {
        request?.release();
      }
    }
  }

  /** GETs a small JSON document (settings) and checks its statusCode. */
  async json(url: URL): Promise<Record<string, unknown>> {
    const reader = async function* (body: AsyncIterable<Uint8Array>, shown: string): AsyncGenerator<never, Record<string, unknown>> {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk));
      const text = Buffer.concat(chunks).toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw badBody(shown, `is not valid JSON (${(err as Error).message})`, text);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badBody(shown, 'is not a JSON object', text);
      const document = parsed as Record<string, unknown>;
      checkStatusCode(document.statusCode, document.statusMessage, shown);
      return document;
    };
    const generator = this.stream(url, reader);
    const result = await generator.next();
    // undici takes a kept-alive socket back a full turn of the event loop after its answer
    // ended (setImmediate in its client-h1). Returned after that turn, the request made next
    // (the first recordings page) goes on this connection instead of opening another one:
    // a round trip less over a WAN (test/gws-run-client.test.ts).
    await new Promise<void>((resolve) => setImmediate(resolve));
    return result.value as Record<string, unknown>;
  }

  #closed: Promise<void> | undefined;

  /** Closes the connections once requests in flight are done; closing again waits for the same. */
  close(): Promise<void> {
    this.#warm.close();
    return (this.#closed ??= Promise.all(this.#dispatchers().map((d) => d.close())).then(() => {}));
  }

  /** Ends the connections and any request in flight now (a run that failed or stopped). */
  async destroy(): Promise<void> {
    this.#closed ??= Promise.resolve();
    this.#warm.close();
    await Promise.all(this.#dispatchers().map((d) => d.destroy().catch(() => {})));
  }

  /** The client's own dispatcher and those made for the environment's proxies. */
  #dispatchers(): Dispatcher[] {
    return [this.#dispatcher, ...this.#envProxies.values()];
  }

  async #open(url: URL, shown: string, signal: AbortSignal | undefined): Promise<AsyncIterable<Uint8Array>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#authorization) headers.authorization = this.#authorization;
    const cookie = this.#jar.header(url);
    if (cookie) headers.cookie = cookie;
    const response = await this.#dispatcherFor(url).request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers,
      headersTimeout: this.#headersTimeout,
      bodyTimeout: this.#bodyTimeout,
      signal,
    });
    this.#jar.store(url, response.headers['set-cookie']);
    const status = response.statusCode;
    if (status >= 200 && status < 300) return response.body;
    const retryAfter = headerValue(response.headers['retry-after']);
    if (this.#retry.statusCodes.includes(status)) {
      await response.body.dump().catch(() => {});
      throw new RetryableStatus(status, retryAfter);
    }
    const errorBody = await readLimited(response.body);
    if (status === 401 || status === 403) throw this.#authError(shown, `HTTP ${status}`);
    const message = statusMessageOf(errorBody);
    throw new RcbsError(
      'RCBS_GWS_HTTP',
      `GWS answered HTTP ${status} to GET ${shown}${message ? `: ${message}` : ''}. ` +
        (status === 404 ? 'Check gwsUriPrefix, gwsRecordingsUri and gwsSettingsUri.' : 'Check the GWS service and the request.'),
      { url: shown, status },
    );
  }

  #authError(shown: string, why: string): RcbsError {
    return authError(shown, why, this.#username);
  }

  #isRetryable(err: unknown): boolean {
    if (err instanceof RetryableStatus) return true;
    // A body statusCode: GWS_STATUS_CODES says (only 4, internal error, today).
    if (err instanceof RcbsError) return err.details.statusCode !== undefined && gwsStatusRule(err.details.statusCode).retry;
    return isRetryableError(this.#retry, err);
  }

  #finalError(err: unknown, phase: 'connect' | 'body', shown: string, attempts: number): RcbsError {
    if (err instanceof RetryableStatus) {
      return new RcbsError(
        'RCBS_GWS_HTTP',
        `GWS answered HTTP ${err.status} to GET ${shown} on all ${attempts} attempts; the service is overloaded or down. Try again later.`,
        { url: shown, status: err.status, attempts },
      );
    }
    if (err instanceof RcbsError) return err;
    if (phase === 'body') {
      return new RcbsError(
        'RCBS_GWS_BAD_BODY',
        `the answer of GWS to GET ${shown} broke off before its end (${describe(err)}), ${attempts} attempt(s). Check the network or proxy between rcbs and GWS.`,
        { url: shown, attempts },
        { cause: err },
      );
    }
    return new RcbsError(
      'RCBS_GWS_UNREACHABLE',
      `could not reach GWS at ${shown} (${describe(err)}) after ${attempts} attempt(s). Check gwsUriPrefix, the network, and ${this.#proxySettings(shown)}.`,
      { url: shown, attempts },
      { cause: err },
    );
  }

  /** Which proxy settings an unreachable GWS points at: the variable in use, or the keys. */
  #proxySettings(shown: string): string {
    const found = this.#env ? envProxyFor(new URL(shown), this.#env) : undefined;
    return found ? `the proxy ${found.shown} from ${found.variable} (its address, credentials) or NO_PROXY` : 'gwsProxyHost/gwsProxyPort (or HTTPS_PROXY) if a proxy is needed';
  }
}

/** A client configured from the run: config, credentials, logger and abort signal. The
 * config was validated once at load (a URL) and the component's requiresConfig made sure
 * gwsUriPrefix is set: nothing here checks it again. */
export function createGwsClient(context: RunContext, overrides: Partial<GwsClientOptions> = {}): GwsClient {
  const { config, credentials } = context;
  return new GwsClient({
    uriPrefix: config.gwsUriPrefix,
    username: credentials.gwsUsername,
    password: credentials.gwsPassword,
    proxyHost: config.gwsProxyHost,
    proxyPort: config.gwsProxyPort,
    connections: Math.max(4, config.gwsConcurrency),
    caFile: config.caFile,
    env: context.env,
    signal: context.signal,
    log: context.log,
    ...overrides,
  });
}

const runClients = new WeakMap<RunContext, GwsClient>();

/**
 * The run's one GWS client, for the settings call and the gws-recordings source alike,
 * closed when the run ends. The recordings pages then go out with the session cookie
 * the settings call was given (SPEC §4: cookies kept between calls) and the first of
 * them on its open connection: a round trip less before the first page than on a
 * connection of its own (BENCHMARKS.md).
 */
export function runGwsClient(context: RunContext): GwsClient {
  let client = runClients.get(context);
  if (!client) {
    const created = (client = createGwsClient(context));
    runClients.set(context, created);
    // The connection a component's prepare dialled while this code loaded.
    const first = takeFirstGwsConnection(context);
    if (first) created.adoptFirstConnection(first);
    // A run that failed or stopped does not wait for a request still in flight (a GWS
    // that never answers would hold it until the headers timeout).
    onRunEnd(context, (complete) => (complete ? created.close() : created.destroy()).catch(() => {}));
  }
  return client;
}

/** What rcbs does with one body statusCode: the error it becomes, whether another try may help. */
export interface GwsStatusRule {
  /** SPEC §4's name for the code, shown in the message. */
  meaning: string;
  error: Extract<ErrorCode, 'RCBS_GWS_AUTH' | 'RCBS_GWS_FORBIDDEN' | 'RCBS_GWS_STATUS'>;
  retry: boolean;
  /** What the operator can do, after the message. */
  advice?: string;
}

const FORBIDDEN_ADVICE = 'The account in GWS_USERNAME lacks permission for recordings: ask the tenant administrator to grant it.';

/**
 * SPEC §4's body statusCodes as data (STYLE.md: policy is data). 0 is OK; a code not
 * listed is RCBS_GWS_STATUS and not retried (OTHER_STATUS). Only 4, a server-side
 * failure, is worth another try; the others say something a retry will not change.
 */
export const GWS_STATUS_CODES: ReadonlyMap<number, GwsStatusRule> = new Map<number, GwsStatusRule>([
  [20, { meaning: 'not authenticated', error: 'RCBS_GWS_AUTH', retry: false }],
  [3, { meaning: 'forbidden', error: 'RCBS_GWS_FORBIDDEN', retry: false, advice: FORBIDDEN_ADVICE }],
  [5, { meaning: 'no permission', error: 'RCBS_GWS_FORBIDDEN', retry: false, advice: FORBIDDEN_ADVICE }],
  [6, { meaning: 'not found', error: 'RCBS_GWS_STATUS', retry: false, advice: 'Check gwsUriPrefix, gwsRecordingsUri and gwsSettingsUri.' }],
  [4, { meaning: 'internal error', error: 'RCBS_GWS_STATUS', retry: true, advice: 'GWS failed on its side on every attempt; try again later.' }],
  [10, { meaning: 'validation error', error: 'RCBS_GWS_STATUS', retry: false }],
]);
const OTHER_STATUS: GwsStatusRule = { meaning: 'not a code SPEC §4 lists', error: 'RCBS_GWS_STATUS', retry: false };

/** The rule for a statusCode as the body gave it (a number, or digits in a string). */
export function gwsStatusRule(statusCode: unknown): GwsStatusRule {
  return (typeof statusCode === 'number' && GWS_STATUS_CODES.get(statusCode)) || OTHER_STATUS;
}

/** Maps a body's statusCode (SPEC §4) to an error by GWS_STATUS_CODES; 0 or absent passes. */
export function checkStatusCode(statusCode: unknown, statusMessage: unknown, shown: string, username?: string): void {
  if (statusCode === undefined || statusCode === null) return;
  const code = typeof statusCode === 'string' && /^-?\d+$/.test(statusCode.trim()) ? Number(statusCode) : statusCode;
  if (code === 0) return;
  const message = typeof statusMessage === 'string' && statusMessage.length > 0 ? statusMessage : undefined;
  const rule = gwsStatusRule(code);
  const what = `statusCode ${String(code)}, ${rule.meaning}${message ? ` ("${message}")` : ''}`;
  if (rule.error === 'RCBS_GWS_AUTH') throw authError(shown, what, username);
  throw new RcbsError(rule.error, `GWS answered GET ${shown} with ${what}.${rule.advice ? ` ${rule.advice}` : ''}`, {
    url: shown,
    statusCode: code,
    statusMessage: message,
  });
}

export function badBody(shown: string, what: string, sample?: string): RcbsError {
  const start = sample === undefined ? '' : ` It starts with: ${JSON.stringify(sample.slice(0, 80))}.`;
  return new RcbsError('RCBS_GWS_BAD_BODY', `the answer of GWS to GET ${shown} ${what}.${start} Check gwsUriPrefix points at Interaction Recording Web Services.`, {
    url: shown,
  });
}

function abortedError(shown: string): RcbsError {
  return new RcbsError('RCBS_ABORTED', `interrupted while querying GWS (${shown})`, { url: shown });
}

function authError(shown: string, why: string, username: string | undefined): RcbsError {
  const who = username ? `the account "${username}" in GWS_USERNAME` : 'GWS_USERNAME (not set)';
  return new RcbsError(
    'RCBS_GWS_AUTH',
    `GWS refused the credentials for GET ${shown} (${why}). Check ${who} and GWS_PASSWORD: the tenant administrator account, as username@customer_tenant.com.`,
    { url: shown },
  );
}

/** gwsProxyHost may come with or without a scheme (the guide shows `http://10.0.1.31`). */
export function proxyUri(host: string | undefined, port: number | undefined): string | undefined {
  if (!host) {
    if (port !== undefined) {
      throw new RcbsError('RCBS_CONFIG_INVALID', `gwsProxyPort is ${port} but gwsProxyHost is not set: set both, or neither.`, { key: 'gwsProxyHost' });
    }
    return undefined;
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `http://${host}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new RcbsError('RCBS_CONFIG_INVALID', `gwsProxyHost "${host}" is not a host name, IP address or http:// URL.`, { key: 'gwsProxyHost', value: host });
  }
  if (port !== undefined) url.port = String(port);
  return url.origin;
}

/** The URL as it may be printed: no user:password. */
export function displayUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function readLimited(body: AsyncIterable<Uint8Array> & { destroy?: () => void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(Buffer.from(chunk));
      size += chunk.byteLength;
      if (size >= ERROR_BODY_LIMIT) break;
    }
  } catch {
    // The status already says what went wrong; a broken error body adds nothing.
  }
  return Buffer.concat(chunks).toString('utf8');
}

function statusMessageOf(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { statusMessage?: unknown };
    return typeof parsed.statusMessage === 'string' ? parsed.statusMessage : undefined;
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  if (err instanceof RetryableStatus) return err.message;
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
