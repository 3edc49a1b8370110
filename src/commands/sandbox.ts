// `rcbs sandbox`: starts the local GWS + S3 (src/sandbox), writes config.properties,
// key.pem and cert.pem into a folder, prints on stdout how to point rcbs at it, and
// serves until SIGINT/SIGTERM. The credentials it prints are made up for this local
// sandbox, which is why printing them is fine here and nowhere else.

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RcbsError } from '../errors.js';
import type { Logger } from '../log.js';
import { PAGING_MODES, type PagingMode } from '../sandbox/gws.js';
import { startSandbox } from '../sandbox/index.js';

export interface SandboxCommandOptions {
  port?: number;
  recordings?: number;
  seed?: number;
  mode?: string;
  dir?: string;
  /** false (--no-media): no media objects in S3, metadata only. */
  media?: boolean;
  /** --page-latency: milliseconds GWS waits before answering each page of recordings. */
  pageLatency?: number;
}

/** POSIX shell single quoting, for the export lines. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function checkOptions(opts: SandboxCommandOptions): PagingMode | undefined {
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
    throw new RcbsError('RCBS_USAGE', `--port must be a port number from 0 to 65535 (0 = any free port), got ${opts.port}`, { key: 'port', value: opts.port });
  }
  if (opts.recordings !== undefined && (!Number.isInteger(opts.recordings) || opts.recordings < 0)) {
    throw new RcbsError('RCBS_USAGE', `--recordings must be a whole number of 0 or more, got ${opts.recordings}`, { key: 'recordings', value: opts.recordings });
  }
  if (opts.seed !== undefined && (!Number.isInteger(opts.seed) || opts.seed < 0)) {
    throw new RcbsError('RCBS_USAGE', `--seed must be a whole number of 0 or more, got ${opts.seed}`, { key: 'seed', value: opts.seed });
  }
  if (opts.pageLatency !== undefined && (!Number.isInteger(opts.pageLatency) || opts.pageLatency < 0)) {
    throw new RcbsError('RCBS_USAGE', `--page-latency must be a whole number of milliseconds, 0 or more, got ${opts.pageLatency}`, { key: 'pageLatency', value: opts.pageLatency });
  }
  if (opts.mode !== undefined && !(PAGING_MODES as readonly string[]).includes(opts.mode)) {
    throw new RcbsError('RCBS_USAGE', `--mode must be one of ${PAGING_MODES.join(', ')}, got "${opts.mode}"`, { key: 'mode', value: opts.mode });
  }
  return opts.mode as PagingMode | undefined;
}

/** Resolves on the first SIGINT/SIGTERM or when `signal` aborts. */
function stopRequested(signal?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    const onAbort = () => done('abort');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    if (signal?.aborted) return done('abort');
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function sandboxCommand(
  opts: SandboxCommandOptions,
  log: Logger,
  signal?: AbortSignal,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const mode = checkOptions(opts);
  const dir = opts.dir ? path.resolve(opts.dir) : await mkdtemp(path.join(os.tmpdir(), 'rcbs-sandbox-run-'));
  await mkdir(dir, { recursive: true });
  const started = Date.now();
  log.info('starting the sandbox: generating and encrypting recordings', { recordings: opts.recordings, seed: opts.seed });
  const sandbox = await startSandbox({
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.recordings !== undefined ? { recordings: opts.recordings } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(mode ? { mode } : {}),
    ...(opts.media === false ? { media: false } : {}),
    ...(opts.pageLatency ? { pageLatencyMs: opts.pageLatency } : {}),
  });
  try {
    const configPath = path.join(dir, 'config.properties');
    const keyPath = path.join(dir, 'key.pem');
    const certPath = path.join(dir, 'cert.pem');
    const targetDir = path.join(dir, 'backup');
    const decryptDir = path.join(dir, 'decrypted');
    await writeFile(configPath, sandbox.configProperties(targetDir, { decryptKey: keyPath }), { mode: 0o600 });
    await writeFile(keyPath, sandbox.keyPem, { mode: 0o600 });
    await writeFile(certPath, sandbox.certPem);

    const mediaCount = opts.media === false ? 0 : sandbox.recordings.reduce((n, r) => n + r.media.filter((m) => m.upload).length, 0);
    const odd = sandbox.recordings.filter((r) => r.odd).length;
    const exports = Object.entries(sandbox.env()).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
    out.write(
      [
        `# rcbs sandbox ready in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${sandbox.seed}, paging mode ${mode ?? 'links'})`,
        `#   GWS  ${sandbox.gwsUrl}${opts.pageLatency ? ` (each page of recordings answered after ${opts.pageLatency} ms)` : ''}`,
        `#   S3   ${sandbox.s3Endpoint}  bucket ${sandbox.bucket}, keys ${sandbox.keyPrefix}<mediaId>`,
        `#   ${sandbox.recordings.length - odd} recordings + ${odd} deliberately broken ones, ${mediaCount} encrypted media objects`,
        `#   files: ${configPath}`,
        `#          ${keyPath} (decryption key), ${certPath}`,
        '# The credentials below exist only in this local sandbox: printing them is fine.',
        ...exports,
        '# Then, in that shell:',
        `#   rcbs -config ${shellQuote(configPath)}`,
        `#   rcbs decrypt ${shellQuote(targetDir)} --key ${shellQuote(keyPath)} --out ${shellQuote(decryptDir)}`,
        '# Ctrl-C stops the sandbox (the folder above is kept).',
        '',
      ].join('\n'),
    );
    const why = await stopRequested(signal);
    log.info('stopping the sandbox', { reason: why, dir });
  } finally {
    await sandbox.close();
  }
}
