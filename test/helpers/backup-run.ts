// End-to-end fixture for the media path: a sandbox (real HTTP GWS, real s3rver
// with really encrypted objects) behind a recording HTTP proxy, a config.properties
// in the test's folder, and the expectations derived from the sandbox's own data
// (never from rcbs): which media must land where, with which bytes.
//
// The proxy sits between rcbs and s3rver at the HTTP level, so it sees every
// request on a keep-alive connection (the TCP fault proxy in s3rver.ts records one
// per connection). It forwards the Host header untouched, so SigV4 signatures made
// for the proxy's address still verify at s3rver. It can hold response bodies
// after N bytes until released: that is how a test catches rcbs mid-transfer
// without guessing at timings.

import fg from 'fast-glob';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startSandbox, type Sandbox, type SandboxMedia, type SandboxOptions, type SandboxRecording } from '../../src/sandbox/index.js';
import { cleanEnv, runCli, type CliOptions, type CliResult } from './cli.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface ProxiedS3Request {
  method: string;
  /** Object key, decoded (bucket stripped). */
  key: string;
  range?: string;
  status?: number;
  /** Response body bytes relayed to rcbs. */
  bodyBytes: number;
  /** True once the whole response went through. */
  complete: boolean;
}

export interface S3Proxy {
  endpoint: string;
  requests: ProxiedS3Request[];
  /** GET requests for objects (downloads), in arrival order. */
  gets(): ProxiedS3Request[];
  /**
   * From now on, GET responses number >= `fromGet` (0-based, counted over all GETs
   * seen by this proxy) relay `afterBytes` body bytes and then stall until release().
   */
  hold(afterBytes: number, fromGet?: number): void;
  /** Lets every stalled and future response through. */
  release(): void;
}

export async function startS3Proxy(t: Teardown, s3Endpoint: string, bucket: string): Promise<S3Proxy> {
  const target = new URL(s3Endpoint);
  const requests: ProxiedS3Request[] = [];
  let policy: { afterBytes: number; fromGet: number } | undefined;
  let released: { promise: Promise<void>; resolve: () => void } | undefined;
  let getCount = 0;

  const waitRelease = () => {
    if (!released) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      released = { promise, resolve };
    }
    return released.promise;
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const prefix = `/${bucket}/`;
    const key = decodeURIComponent(url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname);
    const rangeHeader = req.headers.range;
    const record: ProxiedS3Request = { method: req.method ?? 'GET', key, bodyBytes: 0, complete: false, ...(rangeHeader ? { range: rangeHeader } : {}) };
    requests.push(record);
    const getIndex = record.method === 'GET' ? getCount++ : -1;
    let clientGone = false;
    // Wakes this request's stalled relay (only this one) when rcbs goes away.
    const gone = new Promise<void>((resolve) =>
      res.on('close', () => {
        clientGone = true;
        resolve();
      }),
    );

    const upstreamReq = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstream) => {
        record.status = upstream.statusCode;
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        void (async () => {
          try {
            for await (const chunk of upstream as AsyncIterable<Buffer>) {
              let rest = chunk;
              while (rest.length > 0) {
                if (clientGone) throw new Error('client went away');
                let allowed = rest.length;
                if (policy && getIndex >= policy.fromGet) allowed = Math.min(allowed, policy.afterBytes - record.bodyBytes);
                if (allowed <= 0) {
                  await Promise.race([waitRelease(), gone]);
                  continue;
                }
                const part = rest.subarray(0, allowed);
                rest = rest.subarray(allowed);
                record.bodyBytes += part.length;
                if (!res.write(part)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
              }
            }
            res.end();
            record.complete = true;
          } catch {
            upstream.destroy();
            res.destroy();
          }
        })();
      },
    );
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    policy = undefined;
    released?.resolve();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    gets: () => requests.filter((r) => r.method === 'GET'),
    hold(afterBytes, fromGet = 0) {
      policy = { afterBytes, fromGet };
    },
    release() {
      policy = undefined;
      const r = released;
      released = undefined;
      r?.resolve();
    },
  };
}

export interface WantedMedia {
  recording: SandboxRecording;
  media: SandboxMedia;
  /** <tenant>/<yyyy/MM/dd/HH>/<mediaId>.bin, from the sandbox's data (SPEC §5). */
  relPath: string;
}

/** GWS time (2015-09-01T16:42:59.000+0000) to epoch ms. */
function gwsTimeMs(value: unknown): number {
  const ms = Date.parse(String(value).replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  if (Number.isNaN(ms)) throw new Error(`not a GWS time: ${String(value)}`);
  return ms;
}

/** <tenant of its media files>/<yyyy/MM/dd/HH of the recording's startTime, UTC> */
export function recordingFolder(r: SandboxRecording): string {
  const files = r.recording.mediaFiles as Array<Record<string, unknown>>;
  const tenant = String(files[0]!.tenant);
  const d = new Date(gwsTimeMs(r.recording.startTime));
  const two = (n: number) => String(n).padStart(2, '0');
  return [tenant, String(d.getUTCFullYear()), two(d.getUTCMonth() + 1), two(d.getUTCDate()), two(d.getUTCHours())].join('/');
}

/** Every media file the default backup must fetch: those of the well-formed recordings. */
export function wantedMedia(sandbox: Sandbox): WantedMedia[] {
  return sandbox.recordings
    .filter((r) => !r.odd)
    .flatMap((r) => r.media.map((media) => ({ recording: r, media, relPath: `${recordingFolder(r)}/${media.mediaId}.bin` })));
}

export function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** Every file below `dir` (relative, forward slashes, dot files too), `.rcbs/` excluded. */
export async function listFiles(dir: string): Promise<string[]> {
  return (await fg('**/*', { cwd: dir, dot: true, onlyFiles: true, ignore: ['.rcbs/**'] })).sort();
}

/** Temp files of atomic writes (`.<name>.<random>.part`) anywhere below `dir`, `.rcbs/` included. */
export async function tempFiles(dir: string): Promise<string[]> {
  return (await fg('**/*.part', { cwd: dir, dot: true, onlyFiles: true })).sort();
}

/** Resolves once `check` returns a value other than undefined; fails after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 20_000, state?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${state ? ` (${state()})` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface BackupFixture {
  sandbox: Sandbox;
  proxy: S3Proxy;
  dir: string;
  targetDir: string;
  configPath: string;
  wanted: WantedMedia[];
  /** The sandbox credentials, and nothing of the developer's. */
  env: NodeJS.ProcessEnv;
  /** Runs the built CLI with this fixture's environment, in its folder. */
  cli(args: string[], options?: CliOptions): Promise<CliResult>;
  /** `rcbs -config config.properties`, as the original was started. */
  backup(options?: CliOptions): Promise<CliResult>;
}

export interface FixtureOptions {
  sandbox?: SandboxOptions;
  /** Extra config.properties keys (decryptDir, metadataOnly…). */
  config?: Record<string, string | number | boolean>;
}

export async function startBackupFixture(t: Teardown & { testdir(): string }, options: FixtureOptions = {}): Promise<BackupFixture> {
  const dir = t.testdir();
  const sandbox = await startSandbox({ recordings: 12, ...options.sandbox });
  t.teardown(() => sandbox.close());
  const proxy = await startS3Proxy(t, sandbox.s3Endpoint, sandbox.bucket);
  const targetDir = path.join(dir, 'target');
  const configPath = path.join(dir, 'config.properties');
  const { decryptDir, decryptKey, ...rest } = options.config ?? {};
  const extra = decryptDir !== undefined ? { decryptDir: String(decryptDir), decryptKey: String(decryptKey ?? sandbox.keyPath) } : {};
  let text = sandbox.configProperties(targetDir, { ...extra, ...rest });
  // rcbs talks to S3 through the recording proxy.
  text = text.replace(/^s3Endpoint = .*$/m, `s3Endpoint = ${proxy.endpoint}`);
  await writeFile(configPath, text);
  const env = cleanEnv(sandbox.env());
  // A test that fails half-way must not leave a CLI child keeping the process alive.
  const children = new Set<ChildProcess>();
  t.teardown(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const cli = (args: string[], cliOptions: CliOptions = {}) =>
    runCli(args, {
      cwd: dir,
      env,
      ...cliOptions,
      onSpawn: (child) => {
        children.add(child);
        child.on('exit', () => children.delete(child));
        cliOptions.onSpawn?.(child);
      },
    });
  return {
    sandbox,
    proxy,
    dir,
    targetDir,
    configPath,
    wanted: wantedMedia(sandbox),
    env,
    cli,
    backup: (cliOptions) => cli(['-config', configPath], cliOptions),
  };
}

/** Which wanted media are missing or differ from their S3 object (empty = all byte-exact). */
export async function mismatchedMedia(targetDir: string, wanted: WantedMedia[]): Promise<string[]> {
  const bad: string[] = [];
  for (const w of wanted) {
    const data = await readFile(path.join(targetDir, w.relPath)).catch(() => undefined);
    if (!data) bad.push(`${w.relPath}: missing`);
    else if (data.length !== w.media.encryptedSize || md5(data) !== w.media.encryptedMd5) bad.push(`${w.relPath}: ${data.length} bytes, md5 ${md5(data)}, S3 has ${w.media.encryptedSize} bytes, md5 ${w.media.encryptedMd5}`);
  }
  return bad;
}
