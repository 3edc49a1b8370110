// `rcbs decrypt <file or dir>… --key KEY… --out DIR` (SPEC §7): each .bin file is
// decrypted to DIR/<name without .bin>; a folder is walked for **/*.bin and keeps
// its layout. Files are streamed one after another; a file that fails is logged
// with its code and the others go on. Exit 0 all decrypted, 1 some failed,
// 2 usage or key problems or a missing input (nothing was attempted), 130
// interrupted: Ctrl-C/SIGTERM removes the file in progress (no plaintext temp file
// is left) and starts no other.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';
import { RcbsError, toRcbsError } from '../errors.js';
import type { Logger } from '../log.js';
import { decryptFile } from '../cms/file.js';
import { loadIdentities, readPassphrase, type Identity } from '../cms/keys.js';
import { decryptedName, isInside } from '../cms/paths.js';
import { formatBytes, type Progress } from '../pipeline/report.js';

export interface DecryptCommandOptions {
  keys: string[];
  out: string;
  passphraseFile?: string;
  /** The encrypted backup's targetDir: --out may not be inside it. */
  refuseInside?: string;
  /** Aborted on SIGINT/SIGTERM: the file in progress is removed, no other starts. */
  signal?: AbortSignal;
  /** The progress line (bytes read of the known total, files, rate, ETA). */
  progress?: Progress;
}

interface Job {
  input: string;
  output: string;
  /** Encrypted size: what the progress line counts. */
  size: number;
}

async function planJobs(inputs: string[], out: string): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) throw new RcbsError('RCBS_INPUT_MISSING', `${input}: no such file or folder (is the share mounted?)`, { path: input });
    if (info.isDirectory()) {
      if (isInside(out, input)) throw new RcbsError('RCBS_USAGE', `--out ${out} is inside the encrypted folder ${input}: choose a folder outside the backup`);
      // Temp files start with a dot, so the default `dot: false` never lists them.
      const files = await fg('**/*.bin', { cwd: input, ignore: ['.rcbs/**'], onlyFiles: true, stats: true });
      for (const file of files.sort((a, b) => (a.path < b.path ? -1 : 1))) {
        jobs.push({ input: path.join(input, file.path), output: path.join(out, decryptedName(file.path)), size: file.stats?.size ?? 0 });
      }
    } else {
      jobs.push({ input, output: path.join(out, decryptedName(path.basename(input))), size: info.isFile() ? info.size : 0 });
    }
  }
  return jobs;
}

async function prepare(inputs: string[], opts: DecryptCommandOptions): Promise<{ identities: Identity[]; jobs: Job[] }> {
  if (inputs.length === 0) throw new RcbsError('RCBS_USAGE', 'give one or more encrypted files or folders to decrypt');
  const out = path.resolve(opts.out);
  if (opts.refuseInside && isInside(out, opts.refuseInside)) {
    throw new RcbsError('RCBS_USAGE', `--out ${opts.out} is inside the backup folder ${opts.refuseInside}: decrypted media must live outside it`);
  }
  // The inputs first: a missing folder (an unmounted share) is named before any key is read.
  const jobs = await planJobs(inputs, out);
  const identities = await loadIdentities(opts.keys, { passphrase: await readPassphrase(opts.passphraseFile) });
  return { identities, jobs };
}

export async function decryptCommand(inputs: string[], opts: DecryptCommandOptions, log: Logger): Promise<number> {
  let plan: { identities: Identity[]; jobs: Job[] };
  try {
    plan = await prepare(inputs, opts);
  } catch (err) {
    const e = toRcbsError(err, 'RCBS_USAGE');
    log.error(e.message, { code: e.code });
    return e.code === 'RCBS_KEY_INVALID' || e.code === 'RCBS_USAGE' || e.code === 'RCBS_INPUT_MISSING' ? 2 : e.exitCode;
  }
  let decrypted = 0;
  let bytes = 0;
  const failed: string[] = [];
  let interrupted = false;
  const progress = opts.progress;
  progress?.update({ expectBytes: plan.jobs.reduce((n, job) => n + job.size, 0), planned: true });
  for (const job of plan.jobs) {
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
    try {
      if (path.resolve(job.input) === path.resolve(job.output)) {
        throw new RcbsError('RCBS_USAGE', 'the output would replace the input: use another --out folder');
      }
      bytes += await decryptFile(job.input, job.output, plan.identities, opts.signal, log, (read) => progress?.update({ bytes: read }));
      decrypted++;
      progress?.update({ files: 1 });
      log.debug('decrypted', { file: job.input, to: job.output });
    } catch (err) {
      const e = toRcbsError(err);
      if (e.code === 'RCBS_ABORTED') {
        interrupted = true;
        log.warn(`${job.input}: interrupted, its partial output was removed`, { file: job.input });
        break;
      }
      failed.push(job.input);
      log.error(`${job.input}: ${e.message}`, { code: e.code, file: job.input });
    }
  }
  progress?.stop();
  if (plan.jobs.length === 0) log.warn('no .bin files found to decrypt', { inputs: inputs.join(', ') });
  const notStarted = Math.max(0, plan.jobs.length - decrypted - failed.length - (interrupted ? 1 : 0));
  const exitCode = interrupted ? 130 : failed.length > 0 ? 1 : 0;
  log.summary(
    `rcbs decrypt: decrypted ${decrypted} file(s), ${formatBytes(bytes)} (${bytes} bytes), to ${opts.out}${failed.length ? `; ${failed.length} failed` : ''}${interrupted ? `; interrupted, ${notStarted} not started` : ''}`,
    { command: 'decrypt', status: interrupted ? 'interrupted' : failed.length > 0 ? 'finished with failures' : 'finished', exitCode, files: plan.jobs.length, decrypted, failed: failed.length, notStarted: interrupted ? notStarted : 0, bytes, out: opts.out, failures: failed.slice(0, 50) },
  );
  return exitCode;
}
