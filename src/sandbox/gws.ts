// The sandbox's GWS: node:http implementing SPEC §4 as the rcbs client expects it.
// - HTTP Basic auth with the configured pair; a wrong pair is 401 with statusCode 20.
//   A good login gets a JSESSIONID cookie, which alone authenticates later calls.
// - GET {prefix}/me/settings/rcbs → settings.s3 {bucket, region, keyPrefix, endpoint}.
// - GET {prefix}/recordings?startTime&endTime&limit&offset → recordings whose stopTime
//   is in [startTime, endTime), sorted by stopTime then id, paged by `mode`:
//   `links`  offset paging that also gives links.next, rotating absolute, path-absolute
//            and bare relative URLs (a client must resolve all three);
//   `offset` offset paging, no links;
//   `capped` ignores offset: every query returns its first min(limit, cap) matches,
//            the broken server the client must beat by splitting the time slice.
// - Latency per page of recordings (pageLatencyMs), each request delayed on its own; the
//   most requests open at once per route (peakInFlight), for concurrency tests.
// - Faults, for retry tests: latency, and a seeded share of requests answered 429
//   (Retry-After), 503, or a reset socket. One PRNG draw per request in arrival
//   order, so a sequential client sees the same faults for the same seed.
// Every body has statusCode; errors add statusMessage.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Recording } from '../pipeline/types.js';
import { seededRandom } from './data.js';

export type PagingMode = 'links' | 'offset' | 'capped';
export const PAGING_MODES: readonly PagingMode[] = ['links', 'offset', 'capped'];

export interface GwsFaults {
  /** Delay before every answer. */
  latencyMs?: number;
  /** Shares of requests (0..1) answered 429, 503, or with a reset socket. */
  rate429?: number;
  rate503?: number;
  rateReset?: number;
  /** Retry-After sent with 429 (seconds); default 0. */
  retryAfterSeconds?: number;
  /** Seed of the fault PRNG; default 1. */
  seed?: number;
  /** Routes that get faults (e.g. ['/recordings']); default every route. */
  routes?: string[];
}

export interface GwsS3Settings {
  bucket: string;
  region: string;
  keyPrefix: string;
  endpoint?: string;
}

export interface ServedRecording {
  recording: Recording;
  stopTimeMs: number;
}

export interface SandboxGwsOptions {
  /** 0 = any free port. */
  port?: number;
  /** gwsUriPrefix path; default /api/v2. */
  prefix?: string;
  settingsUri?: string;
  recordingsUri?: string;
  username: string;
  password: string;
  s3: GwsS3Settings;
  /** Read on every query, so recordings added or changed later are served. */
  recordings: () => Iterable<ServedRecording>;
  mode?: PagingMode;
  /** capped mode: never more than this many recordings per query. */
  cap?: number;
  faults?: GwsFaults;
  /** Delay before answering each page of recordings (not the settings), each request on its own:
   * a server that is slow per page, so concurrent slices can be measured. */
  pageLatencyMs?: number;
}

export interface GwsRequestInfo {
  method: string;
  /** The route after the prefix, e.g. /recordings ('' when outside the prefix). */
  route: string;
  query: URLSearchParams;
  /** HTTP status answered, or 'reset' when the socket was destroyed. */
  status: number | 'reset';
  /** recordings returned (GET /recordings with status 200). */
  count?: number;
}

export interface SandboxGws {
  /** The gwsUriPrefix: http://127.0.0.1:<port>/api/v2 */
  readonly url: string;
  readonly port: number;
  /** Requests seen on a route (e.g. '/recordings'), or on all routes. */
  requestCount(route?: string): number;
  /** The most requests on a route that were open at once (received, not yet answered or closed). */
  peakInFlight(route: string): number;
  /** Called after each request is answered; returns an unsubscribe function. */
  onRequest(listener: (info: GwsRequestInfo) => void): () => void;
  /** Changes paging or faults for the following requests. */
  configure(changes: { mode?: PagingMode; cap?: number; faults?: GwsFaults }): void;
  close(): Promise<void>;
}

type Body = Record<string, unknown> & { statusCode: number };

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sessionCookie(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === 'JSESSIONID') return value.join('=');
  }
  return undefined;
}

/** An integer query parameter, its default when absent, or an error message. */
function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number | string {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) return `${name} must be an integer, got "${raw.slice(0, 40)}"`;
  const value = Number(raw);
  if (value < min || value > max) return `${name} must be between ${min} and ${max}, got ${value}`;
  return value;
}

export const MAX_PAGE_LIMIT = 10_000;

export async function startSandboxGws(options: SandboxGwsOptions): Promise<SandboxGws> {
  const prefix = (options.prefix ?? '/api/v2').replace(/\/+$/, '');
  const settingsUri = options.settingsUri ?? '/me/settings/rcbs';
  const recordingsUri = options.recordingsUri ?? '/recordings';
  let mode: PagingMode = options.mode ?? 'links';
  let cap = options.cap ?? Number.POSITIVE_INFINITY;
  let faults: GwsFaults = options.faults ?? {};
  let faultRandom = seededRandom(faults.seed ?? 1);
  const sessions = new Set<string>();
  const counts = new Map<string, number>();
  const open = new Map<string, number>();
  const peaks = new Map<string, number>();
  const listeners = new Set<(info: GwsRequestInfo) => void>();

  const notify = (info: GwsRequestInfo) => {
    for (const listener of listeners) listener(info);
  };

  const send = (res: ServerResponse, status: number, body: Body, headers: Record<string, string | string[]> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  // The served recordings sorted by stopTime then id, sorted again only when the set changes
  // (another array, or one that grew or shrank): sorting on every page made paging quadratic.
  // A recording's stopTimeMs must not change in place (none does: late media keep it).
  let index: { served: Iterable<ServedRecording>; length: number; sorted: ServedRecording[] } | undefined;
  const sortedRecordings = (): ServedRecording[] => {
    const served = options.recordings();
    const length = Array.isArray(served) ? served.length : -1;
    if (index && index.served === served && length >= 0 && index.length === length) return index.sorted;
    const sorted = [...served].sort(byStopTimeThenId);
    index = { served, length, sorted };
    return sorted;
  };

  const recordingsPage = (req: IncomingMessage, url: URL): { status: number; body: Body } => {
    const q = url.searchParams;
    const startTime = intParam(q, 'startTime', 0, 0);
    const endTime = intParam(q, 'endTime', Number.MAX_SAFE_INTEGER, 0);
    const limit = intParam(q, 'limit', 100, 1, MAX_PAGE_LIMIT);
    const offset = intParam(q, 'offset', 0, 0);
    const problem = [startTime, endTime, limit, offset].find((v): v is string => typeof v === 'string');
    if (problem !== undefined) return { status: 400, body: { statusCode: 10, statusMessage: `Validation error: ${problem}` } };
    const [start, end, size, from] = [startTime, endTime, limit, offset] as number[] as [number, number, number, number];

    // The window is [first, last) of the sorted recordings: two binary searches, not a scan.
    const sorted = sortedRecordings();
    const first = firstStoppedAtOrAfter(sorted, start);
    const last = Math.max(first, firstStoppedAtOrAfter(sorted, end));

    if (mode === 'capped') {
      return { status: 200, body: { statusCode: 0, recordings: sorted.slice(first, Math.min(last, first + Math.min(size, cap))).map((r) => r.recording) } };
    }
    const page = sorted.slice(Math.min(last, first + from), Math.min(last, first + from + size)).map((r) => r.recording);
    const body: Body = { statusCode: 0, recordings: page };
    if (mode === 'links' && from + size < last - first) {
      const next = new URLSearchParams(q);
      next.set('offset', String(from + size));
      next.set('limit', String(size));
      const pageNumber = Math.floor(from / size);
      const path = url.pathname;
      // Rotate the three forms real servers use, so a client must resolve each.
      const forms = [`http://${req.headers.host}${path}?${next}`, `${path}?${next}`, `${path.slice(path.lastIndexOf('/') + 1)}?${next}`];
      body.links = { next: forms[pageNumber % 3] };
    }
    return { status: 200, body };
  };

  const routeOf = (url: URL) => (url.pathname.startsWith(prefix + '/') ? url.pathname.slice(prefix.length) : '');

  const handle = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const route = routeOf(url);
    counts.set(route, (counts.get(route) ?? 0) + 1);
    const info: GwsRequestInfo = { method: req.method ?? 'GET', route, query: url.searchParams, status: 200 };
    const answer = (status: number, body: Body, headers?: Record<string, string | string[]>) => {
      info.status = status;
      send(res, status, body, headers);
      notify(info);
    };

    if (!faults.routes || faults.routes.includes(route)) {
      const draw = faultRandom();
      const r429 = faults.rate429 ?? 0;
      const r503 = r429 + (faults.rate503 ?? 0);
      const rReset = r503 + (faults.rateReset ?? 0);
      if (draw < r429) return answer(429, { statusCode: 4, statusMessage: 'Too many requests: slow down and retry' }, { 'retry-after': String(faults.retryAfterSeconds ?? 0) });
      if (draw < r503) return answer(503, { statusCode: 4, statusMessage: 'Service unavailable: retry later' });
      if (draw < rReset) {
        info.status = 'reset';
        req.socket.destroy();
        return notify(info);
      }
    }

    // Auth: a Basic header is always checked (a wrong one fails even with a session);
    // without one, a known JSESSIONID is enough.
    const basic = basicCredentials(req.headers.authorization);
    const session = sessionCookie(req.headers.cookie);
    let authenticated: boolean;
    if (req.headers.authorization !== undefined) {
      authenticated = basic !== undefined && sameSecret(basic.username, options.username) && sameSecret(basic.password, options.password);
    } else {
      authenticated = session !== undefined && sessions.has(session);
    }
    if (!authenticated) {
      return answer(401, { statusCode: 20, statusMessage: 'Not authenticated: wrong or missing username/password' }, { 'www-authenticate': 'Basic realm="GWS sandbox"' });
    }
    const headers: Record<string, string | string[]> = {};
    if (session === undefined || !sessions.has(session)) {
      const id = randomBytes(16).toString('hex').toUpperCase();
      sessions.add(id);
      headers['set-cookie'] = [`JSESSIONID=${id}; Path=${prefix || '/'}; HttpOnly`];
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return answer(405, { statusCode: 10, statusMessage: `Validation error: ${req.method} is not allowed on ${url.pathname}; use GET` }, { ...headers, allow: 'GET' });
    }
    if (route === settingsUri) {
      const s3: Record<string, string> = { bucket: options.s3.bucket, region: options.s3.region, keyPrefix: options.s3.keyPrefix };
      if (options.s3.endpoint) s3.endpoint = options.s3.endpoint;
      return answer(200, { statusCode: 0, settings: { s3 } }, headers);
    }
    if (route === recordingsUri) {
      const { status, body } = recordingsPage(req, url);
      if (status === 200) info.count = (body.recordings as unknown[]).length;
      return answer(status, body, headers);
    }
    return answer(404, { statusCode: 6, statusMessage: `Not found: ${url.pathname}` }, headers);
  };

  const server = createServer((req, res) => {
    // The request body (none expected) is drained so keep-alive works.
    req.resume();
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const route = routeOf(url);
    open.set(route, (open.get(route) ?? 0) + 1);
    peaks.set(route, Math.max(peaks.get(route) ?? 0, open.get(route)!));
    res.once('close', () => open.set(route, open.get(route)! - 1));
    const latency = (faults.latencyMs ?? 0) + (route === recordingsUri ? (options.pageLatencyMs ?? 0) : 0);
    if (latency > 0) setTimeout(() => handle(req, res, url), latency);
    else handle(req, res, url);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    port,
    requestCount(route) {
      if (route !== undefined) return counts.get(route) ?? 0;
      let total = 0;
      for (const n of counts.values()) total += n;
      return total;
    },
    peakInFlight(route) {
      return peaks.get(route) ?? 0;
    },
    onRequest(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    configure(changes) {
      if (changes.mode !== undefined) mode = changes.mode;
      if (changes.cap !== undefined) cap = changes.cap;
      if (changes.faults !== undefined) {
        faults = changes.faults;
        faultRandom = seededRandom(faults.seed ?? 1);
      }
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function idOf(r: ServedRecording): string {
  const id = r.recording.id;
  return typeof id === 'string' ? id : '';
}

// What String.prototype.localeCompare does without arguments, without building a collator per call.
const ids = new Intl.Collator();

function byStopTimeThenId(a: ServedRecording, b: ServedRecording): number {
  return a.stopTimeMs - b.stopTimeMs || ids.compare(idOf(a), idOf(b));
}

/** Index of the first recording (sorted by stopTime) that stopped at or after `time`. */
function firstStoppedAtOrAfter(sorted: readonly ServedRecording[], time: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]!.stopTimeMs < time) low = middle + 1;
    else high = middle;
  }
  return low;
}
