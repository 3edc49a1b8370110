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

export interface DecryptCommandOptions {
  keys: string[];
  out: string;
  passphraseFile?: string;
  /** The encrypted backup's targetDir: --out may not be inside it. */
  refuseInside?: string;
  /** Aborted on SIGINT/SIGTERM: the file in progress is removed, no other starts. */
  signal?: AbortSignal;
}

interface Job {
  input: string;
  output: string;
}

async function planJobs(inputs: string[], out: string): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) throw new RcbsError('RCBS_INPUT_MISSING', `${input}: no such file or folder (is the share mounted?)`, { path: input });
    if (info.isDirectory()) {
      if (isInside(out, input)) throw new RcbsError('RCBS_USAGE', `--out ${out} is inside the encrypted folder ${input}: choose a folder outside the backup`);
      // Temp files start with a dot, so the default `dot: false` never lists them.
      const files = await fg('**/*.bin', { cwd: input, ignore: ['.rcbs/**'], onlyFiles: true });
      for (const rel of files.sort()) jobs.push({ input: path.join(input, rel), output: path.join(out, decryptedName(rel)) });
    } else {
      jobs.push({ input, output: path.join(out, decryptedName(path.basename(input))) });
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
  for (const job of plan.jobs) {
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
    try {
      if (path.resolve(job.input) === path.resolve(job.output)) {
        throw new RcbsError('RCBS_USAGE', 'the output would replace the input: use another --out folder');
      }
      bytes += await decryptFile(job.input, job.output, plan.identities, opts.signal, log);
      decrypted++;
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
  if (plan.jobs.length === 0) log.warn('no .bin files found to decrypt', { inputs: inputs.join(', ') });
  const notStarted = plan.jobs.length - decrypted - failed.length - (interrupted ? 1 : 0);
  log.info(
    `decrypted ${decrypted} file(s), ${bytes} bytes, to ${opts.out}${failed.length ? `; ${failed.length} failed` : ''}${interrupted ? `; interrupted, ${Math.max(0, notStarted)} not started` : ''}`,
  );
  if (interrupted) return 130;
  return failed.length > 0 ? 1 : 0;
}
