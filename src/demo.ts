// `npm start`: the whole tool on one machine, with nothing to set up. Starts the
// sandbox (a local GWS + S3 with generated, really encrypted recordings), writes
// ./sandbox-backup/config.properties and the key beside it, runs the `backup`
// pipeline against it in-process (the same runCommand as `rcbs -config`), then
// `verify` with the key, prints where everything is and what to try next, stops
// the sandbox and exits with the backup's exit code (verify's when the backup was
// clean). The sandbox's deliberately broken recordings are quarantined, which the
// SPEC says is reported but does not fail a run.
//
// Running it again reuses the sandbox's clock, seed and key (./sandbox-backup/
// sandbox.json, key.pem, cert.pem): the same recordings come back, so the second
// run skips everything, as a real scheduled backup would.
//
// Options: --recordings N (or RCBS_DEMO_RECORDINGS; default 200), --seed N.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCommand, type RunIo } from './commands/run.js';
import { isRcbsError, toRcbsError } from './errors.js';
import { createLogger, sharedStderr } from './log.js';
import { startSandbox } from './sandbox/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const DEMO_DIR = 'sandbox-backup';

interface DemoState {
  now: number;
  seed: number;
}

function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(value)}`);
  return n;
}

async function readState(file: string): Promise<DemoState | undefined> {
  try {
    const state = JSON.parse(await readFile(file, 'utf8')) as Partial<DemoState>;
    return Number.isSafeInteger(state.now) && Number.isSafeInteger(state.seed) ? (state as DemoState) : undefined;
  } catch {
    return undefined;
  }
}

async function readIfThere(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

/** The caller's environment without credentials or rcbs settings of its own: the demo uses the sandbox's. */
function demoEnv(sandboxEnv: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(AWS_|GWS_|RCBS_)/.test(k)) env[k] = v;
  return { ...env, ...sandboxEnv };
}

export async function demo(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { recordings: { type: 'string' }, seed: { type: 'string' } }, strict: true });
  const recordings = wholeNumber('--recordings', values.recordings ?? process.env.RCBS_DEMO_RECORDINGS, 200);
  const out = (line = '') => process.stdout.write(line + '\n');
  const log = createLogger({ format: 'human', level: 'info' });

  const dir = path.resolve(DEMO_DIR);
  await mkdir(dir, { recursive: true });
  const statePath = path.join(dir, 'sandbox.json');
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  const configPath = path.join(dir, 'config.properties');
  const previous = await readState(statePath);
  const seed = wholeNumber('--seed', values.seed, previous?.seed ?? 1);
  // Same clock and seed as last time: the same recordings, so a rerun has nothing new.
  const state: DemoState = previous && previous.seed === seed ? previous : { now: Date.now(), seed };
  const keyPem = await readIfThere(keyPath);
  const certPem = await readIfThere(certPath);

  out(`rcbs demo: starting the sandbox (${recordings} recordings, seed ${seed}): a local GWS and S3 with really encrypted media…`);
  const sandbox = await startSandbox({
    recordings,
    seed,
    now: state.now,
    ...(keyPem && certPem ? { identity: { keyPem, certPem } } : {}),
  });
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('SIGINT'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await writeFile(keyPath, sandbox.keyPem, { mode: 0o600 });
    await writeFile(certPath, sandbox.certPem);
    await writeFile(statePath, JSON.stringify(state) + '\n');
    // Paths in config.properties are relative to its own folder, so the folder can be moved;
    // the commands printed below are relative to the current one.
    const rel = (name: string) => `./${DEMO_DIR}/${name}`;
    await writeFile(configPath, sandbox.configProperties('./target', { decryptDir: './decrypted', decryptKey: './key.pem' }), { mode: 0o600 });
    out(`  GWS ${sandbox.gwsUrl}   S3 ${sandbox.s3Endpoint} (bucket ${sandbox.bucket})`);
    out(`  config: ${rel('config.properties')}  (credentials: sandbox-only values, passed in the environment, not written anywhere)`);
    out();

    const io: RunIo = { stdin: process.stdin, stdout: process.stdout, stderr: sharedStderr(), env: demoEnv(sandbox.env()), signal: controller.signal, log };
    out('rcbs demo: backing up (pipeline backup: GWS metadata → S3 media → JSON beside it → decrypted copies)…');
    const backupCode = await runCommand('backup', { config: configPath }, io);
    if (backupCode === 130) return backupCode;
    out();
    out('rcbs demo: verifying the backup (sizes, MD5s, JSON, and that every file decrypts with the key)…');
    const verifyCode = await runCommand('verify', { config: configPath }, io);
    out();

    const cli = path.relative(process.cwd(), fileURLToPath(new URL('./cli.js', import.meta.url))) || 'dist/cli.js';
    const rcbs = `node ${cli}`;
    out(`rcbs demo: ${backupCode === 0 ? 'backup complete' : `backup finished with exit code ${backupCode}`}; verify ${verifyCode === 0 ? 'passed' : `exit code ${verifyCode}`}.`);
    out(`  encrypted media + metadata   ${rel('target')}/<tenant>/<yyyy/MM/dd/HH>/<mediaId>.bin and <recording id>.json`);
    out(`  state (index, quarantine)    ${rel('target')}/.rcbs/   (the sandbox's deliberately broken records are in quarantine.ndjson)`);
    out(`  decrypted media              ${rel('decrypted')}/`);
    out(`  private key                  ${rel('key.pem')}`);
    out();
    out('Try next (they work offline, on the files above; `npm link` gives you `rcbs` instead of the node command):');
    out(`  ${rcbs} find --target ${rel('target')} --tenant Environment --media-type audio/mp3`);
    out(`  ${rcbs} decrypt ${rel('target')} --key ${rel('key.pem')} --out ${rel('decrypted-again')}`);
    out(`  ${rcbs} verify --config ${rel('config.properties')}`);
    out('  npm start            again: the same sandbox comes back and everything is skipped');
    out(`  ${rcbs} sandbox      a sandbox that keeps running, to point your own config at`);
    return backupCode !== 0 ? backupCode : verifyCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sandbox.close();
  }
}

const invokedAs = process.argv[1] ?? '';
if (/(?:^|[\\/])demo\.(?:js|ts)$/.test(invokedAs)) {
  demo(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const error = isRcbsError(err) ? err : toRcbsError(err);
      process.stderr.write(`rcbs demo: ${error.message}\n`);
      process.exitCode = error.exitCode ?? 1;
    },
  );
}
