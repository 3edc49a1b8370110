// Runs the built CLI (dist/cli.js, made by `npm run build`, which `npm test` runs
// first) as a real child process: exit code, stdout and stderr as a user sees them.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | Buffer;
  /** Called once the process is spawned (e.g. to send it a signal later). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Environment without the developer's own credentials and proxies, so tests never pick them up, and
 * without tap's NODE_OPTIONS loaders: the CLI under test is the built dist/cli.js, and
 * the TypeScript loader makes every spawned CLI about twice as slow to start. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|GWS_|RCBS_|JOB_COMPLETION_INDEX|AWS_BATCH_JOB_ARRAY_INDEX|NODE_OPTIONS$|_TAPJS_PROCESSINFO)/.test(k)) continue;
    // A developer's proxy must not carry the tests' local traffic.
    if (/^(https?|no|all)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_DISABLED: 'true', ...extra };
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env: options.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on('error', () => {}); // the CLI may exit before reading all input
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
    options.onSpawn?.(child);
  });
}
