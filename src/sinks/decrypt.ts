// Sink `decrypt`: for each media file that is on disk (downloaded now, or skipped
// as already there) writes its plaintext to <decryptDir>/<same folders>/<mediaId>
// (owner-only, renamed into place only once fully decrypted and checked). A file
// already decrypted is left alone. A failure is that record's coded failure; the
// other records go on. Up to numThreads files decrypt at once, records in order.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import _ from '../pipeline/highland.js';
import { RcbsError, toRcbsError } from '../errors.js';
import { failRecord, interruptRecord, itemProblem } from '../pipeline/outcome.js';
import { defineComponent, type MediaOutcome, type PipelineRecord, type RunContext } from '../pipeline/types.js';
import { mediaFilesOf, mediaIdOf, recordingId, toInteger } from '../recording.js';
import { decryptFile } from '../cms/file.js';
import { withOperationSignal } from '../pipeline/abort.js';
import { loadIdentities, readPassphrase, type Identity } from '../cms/keys.js';
import { decryptedName, isInside } from '../cms/paths.js';
import type { RcbsConfig } from '../config/types.js';

interface Options {
  decryptDir?: string;
  keys?: string[];
}

const COMPONENT = 'decrypt';

async function hasContent(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isFile() && s.size > 0, () => false);
}

interface Target {
  targetDir: string;
  decryptDir: string;
  identities: Identity[];
}

async function decryptMedia(record: PipelineRecord, media: MediaOutcome, target: Target, context: RunContext): Promise<void> {
  const rel = media.path!;
  const input = path.isAbsolute(rel) ? rel : path.join(target.targetDir, rel);
  if (!isInside(input, target.targetDir)) throw new RcbsError('RCBS_UNSAFE_NAME', `the media path ${rel} is outside targetDir`);
  const outRel = decryptedName(path.isAbsolute(rel) ? path.relative(target.targetDir, rel) : rel).split(path.sep).join('/');
  const output = path.join(target.decryptDir, outRel);
  if (await hasContent(output)) {
    media.decrypted = outRel;
    return;
  }
  const size = await withOperationSignal(context.signal, (signal) => decryptFile(input, output, target.identities, signal, context.log));
  media.decrypted = outRel;
  media.decryptedNow = true;
  context.progress({ decrypted: 1 });
  // The metadata size may be the plaintext's (SPEC §5): a mismatch is worth a look, not a failure.
  const listed = mediaFilesOf(record.recording).find((m) => mediaIdOf(m) === media.mediaId);
  const expected = toInteger(listed?.size);
  if (expected !== undefined && expected !== size) {
    context.log.warn('decrypted size differs from the metadata size', { recordingId: recordingId(record.recording), mediaId: media.mediaId, decrypted: size, metadata: expected, file: outRel });
  }
}

function fail(record: PipelineRecord, media: MediaOutcome, err: unknown, context: RunContext): void {
  const e = toRcbsError(err);
  const id = recordingId(record.recording);
  // An interrupted decrypt removed its file in progress (a full decryptDir stops the
  // run): not a failure of this file, the next run does it.
  const problem = itemProblem(context, e);
  if (problem.code === 'RCBS_ABORTED') return interruptRecord(record);
  failRecord(record, COMPONENT, { ...problem, mediaId: media.mediaId });
  context.log.error(`decrypting ${media.path} failed: ${e.message}`, { code: e.code, recordingId: id, mediaId: media.mediaId });
}

async function decryptRecord(record: PipelineRecord, target: Target, context: RunContext): Promise<PipelineRecord> {
  for (const media of record.media) {
    if ((media.status !== 'downloaded' && media.status !== 'adopted' && media.status !== 'skipped') || !media.path) continue;
    if (context.signal.aborted) break;
    try {
      await decryptMedia(record, media, target, context);
    } catch (err) {
      fail(record, media, err, context);
    }
  }
  return record;
}

// With the pipeline (validate, --dry-run): a decryptDir needs a key, outside targetDir.
function checkConfig(options: Options, config: Readonly<RcbsConfig>): void {
  const decryptDir = options.decryptDir ?? config.decryptDir;
  if (!decryptDir) return;
  if (isInside(decryptDir, config.targetDir)) {
    throw new RcbsError('RCBS_CONFIG_INVALID', `decryptDir ${decryptDir} is inside targetDir ${config.targetDir}: decrypted media must live outside the encrypted backup`, { key: 'decryptDir', value: decryptDir });
  }
  if ((options.keys ?? config.decryptKeys).length === 0) {
    throw new RcbsError('RCBS_CONFIG_INVALID', `decryptDir ${decryptDir} is set but decryptKey is not: set decryptKey (the private key file(s), comma-separated) in config.properties, or with --set decryptKey=…, or remove decryptDir`, { key: 'decryptKey', value: '(not set)' });
  }
}

export default defineComponent<Options>({
  kind: 'sink',
  name: 'decrypt',
  description: 'Decrypts each media file on disk into decryptDir (same folders, no .bin, owner-only), openssl-compatibly; skips files already decrypted.',
  options: {
    type: 'object',
    properties: {
      decryptDir: { type: 'string', minLength: 1, description: 'folder for decrypted media (default: config decryptDir); never inside targetDir' },
      keys: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'private key files (default: config decryptKey)' },
    },
    additionalProperties: false,
  },
  checkConfig,
  async create(options, context) {
    const { config } = context;
    const decryptDir = options.decryptDir ?? config.decryptDir;
    if (!decryptDir || context.dryRun) return (records) => records;
    checkConfig(options, config);
    const keys = options.keys ?? config.decryptKeys;
    const identities = await loadIdentities(keys, { passphrase: await readPassphrase(undefined, context.env) });
    const target: Target = { targetDir: path.resolve(config.targetDir), decryptDir: path.resolve(decryptDir), identities };
    const concurrency = config.downloadMode === 'single' ? 1 : Math.max(1, config.numThreads);
    return (records) => records.map((record) => _(decryptRecord(record, target, context))).parallel(concurrency);
  },
});
