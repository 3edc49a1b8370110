// End-to-end fixture for running the real CLI against a sandbox: starts one
// (real HTTP GWS, real s3rver), writes its config.properties into the test's
// folder, and runs `node dist/cli.js` with the sandbox's credentials and nothing
// of the developer's environment. S3 is reached through the recording HTTP proxy
// of backup-run.ts, so a test can count every S3 request rcbs makes. GWS requests
// are recorded from the sandbox's own onRequest hook.
//
// Expectations come from the sandbox's data, never from rcbs: specJsonPath()
// derives SPEC §5's path for a recording independently of src/store.
//
// API (kept small and stable; the media-path tests may use it too):
//   withSandbox(t, { sandbox?, config? }) → { sandbox, dir, targetDir, configPath,
//     env, gwsRequests, s3Requests(), run(args, extraEnv?) }

import fg from 'fast-glob';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startSandbox, type GwsRequestInfo, type Sandbox, type SandboxOptions, type SandboxRecording } from '../../src/sandbox/index.js';
import { startS3Proxy, type S3Proxy } from './backup-run.js';
import { cleanEnv, runCli, type CliResult } from './cli.js';

interface TestLike {
  teardown(fn: () => unknown): void;
  testdir(): string;
}

export interface SandboxRunOptions {
  /** startSandbox options; recordings default to 20. */
  sandbox?: SandboxOptions;
  /** Extra config.properties keys (metadataOnly, gwsPageSize, rcbsInstanceId…). */
  config?: Record<string, string | number | boolean>;
  /** targetDir below the test folder (default `backup`). */
  targetName?: string;
}

export interface SandboxRun {
  sandbox: Sandbox;
  /** The test's own folder (t.testdir()), holding config.properties and the targetDir. */
  dir: string;
  targetDir: string;
  configPath: string;
  /** The environment every run gets: sandbox credentials only. */
  env: NodeJS.ProcessEnv;
  /** Every GWS request answered since the start, in order (route, query, status). */
  gwsRequests: GwsRequestInfo[];
  /** Every S3 request rcbs made (method, key, status). */
  s3Requests(): S3Proxy['requests'];
  /** Runs the built CLI in `dir` with `env` plus `extraEnv`. */
  run(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<CliResult>;
}

export async function withSandbox(t: TestLike, options: SandboxRunOptions = {}): Promise<SandboxRun> {
  const dir = t.testdir();
  const sandbox = await startSandbox({ recordings: 20, ...options.sandbox });
  t.teardown(() => sandbox.close());
  const gwsRequests: GwsRequestInfo[] = [];
  // The query object is live in the server: keep a copy.
  sandbox.gws.onRequest((info) => gwsRequests.push({ ...info, query: new URLSearchParams(info.query) }));
  const proxy = await startS3Proxy(t, sandbox.s3Endpoint, sandbox.bucket);
  const targetDir = path.join(dir, options.targetName ?? 'backup');
  const configPath = path.join(dir, 'config.properties');
  const text = sandbox.configProperties(targetDir, options.config ?? {}).replace(/^s3Endpoint = .*$/m, `s3Endpoint = ${proxy.endpoint}`);
  await writeFile(configPath, text);
  const env = cleanEnv(sandbox.env());
  return {
    sandbox,
    dir,
    targetDir,
    configPath,
    env,
    gwsRequests,
    s3Requests: () => proxy.requests,
    run: (args, extraEnv = {}) => runCli(args, { cwd: dir, env: { ...env, ...extraEnv } }),
  };
}

/** GWS time (2015-09-01T16:42:59.000+0000) to epoch ms. */
export function gwsTimeMs(value: unknown): number {
  const ms = Date.parse(String(value).replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  if (Number.isNaN(ms)) throw new Error(`not a GWS time: ${String(value)}`);
  return ms;
}

/** SPEC §5: <tenant of its media files>/<yyyy/MM/dd/HH of startTime, UTC>/<id>.json (plain names only). */
export function specJsonPath(r: SandboxRecording): string {
  const files = r.recording.mediaFiles as Array<Record<string, unknown>>;
  const d = new Date(gwsTimeMs(r.recording.startTime));
  const two = (n: number) => String(n).padStart(2, '0');
  return [String(files[0]!.tenant), String(d.getUTCFullYear()), two(d.getUTCMonth() + 1), two(d.getUTCDate()), two(d.getUTCHours()), `${r.id}.json`].join('/');
}

/** Every file below `root` (relative, forward slashes) with its mtime in ms; `.rcbs/` included unless `skipState`. */
export async function filesWithMtime(root: string, skipState = false): Promise<Map<string, number>> {
  const entries = await fg('**/*', { cwd: root, dot: true, onlyFiles: true, stats: true, ignore: skipState ? ['.rcbs/**'] : [] });
  return new Map(entries.map((e) => [e.path, e.stats!.mtimeMs] as [string, number]).sort(([a], [b]) => a.localeCompare(b)));
}

/** The `json-writer: metadata files written=… rewritten=… unchanged=…` tally of a run's stderr. */
export function jsonWriterTally(stderr: string): Record<string, number> | undefined {
  const m = /json-writer: metadata files ((?:\w+=\d+ ?)+)/.exec(stderr);
  if (!m) return undefined;
  return Object.fromEntries(m[1]!.trim().split(' ').map((kv) => {
    const [k, v] = kv.split('=');
    return [k!, Number(v)];
  }));
}

/** The recordings a metadata export must write: every one with a safe id, tenant and media. */
export function exportable(sandbox: Sandbox): SandboxRecording[] {
  // wav-media is well formed: metadataOnly exports it even though its media type is not wanted.
  return sandbox.recordings.filter((r) => !r.odd || r.odd === 'wav-media');
}
