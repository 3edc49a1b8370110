// Sink `verify` (`rcbs verify`): checks a backup against its index. Every media
// file a recording JSON lists and the index knows must be on disk with the
// indexed size and MD5, and, when the download was proved by the object's own
// checksum (CRC64NVME, CRC32, CRC32C, SHA-1, SHA-256: SPEC §5), that checksum
// again, computed in the same pass; the method is shown per file and counted in
// the summary; every JSON must parse (the backup-dir source reports
// those that don't); at the end, index entries whose file is gone are "missing"
// and .bin files nobody indexed are "orphans". With decryptKeys set, each media
// file must also decrypt (to nowhere). Every problem is a failure: exit 1.
// An empty backup is not a passing backup (SPEC §2): a folder without `.rcbs/`
// (never backed up into, or the original tool's) is RCBS_INPUT_MISSING, exit 2,
// and a backup holding no recording at all fails (exit 1).

import { stat } from 'node:fs/promises';
import path from 'node:path';
import _ from '../pipeline/highland.js';
import { failRecord } from '../pipeline/outcome.js';
import { defineComponent, type ComponentEvents, type PipelineRecord, type RunContext } from '../pipeline/types.js';
import type { IndexEntry, Store } from '../store/types.js';
import { digestFile } from '../s3/object-check.js';
import { RcbsError, toRcbsError } from '../errors.js';
import { withOperationSignal } from '../pipeline/abort.js';
import { STATE_DIR } from '../store/index.js';

/** How an index entry's file was proved; lines from before the method was recorded say md5. */
function methodOf(entry: IndexEntry): string {
  return entry.verifiedBy ?? 'md5';
}

type Decryptor = (file: string, signal?: AbortSignal) => Promise<void>;

async function loadDecryptor(keys: readonly string[]): Promise<Decryptor | undefined> {
  if (keys.length === 0) return undefined;
  const { createDecryptCheck } = await import('../cms/check.js');
  return createDecryptCheck(keys);
}

/** A problem with a recording's file goes on its record (failRecord); one that no
 * recording lists (missing, orphan) is an item of its own (self.fail). */
function problem(mediaId: string, message: string) {
  return { code: 'RCBS_VERIFY_FAILED', message, mediaId };
}

async function checkMedia(store: Store, record: PipelineRecord, decrypt: Decryptor | undefined, context: RunContext, seen: Set<string>): Promise<void> {
  for (const media of record.media) {
    if (context.signal.aborted) return;
    if (!media.path) continue;
    seen.add(media.path);
    const entry = await store.getMedia(media.mediaId);
    const file = store.resolve(media.path);
    if (!entry) {
      failRecord(record, 'verify', problem(media.mediaId, `${media.path}: orphan (on disk but not in the index)`));
      continue;
    }
    if (entry.path !== media.path) {
      failRecord(record, 'verify', problem(media.mediaId, `${media.path}: the index has this media at ${entry.path}`));
      continue;
    }
    const size = (await stat(file)).size;
    if (size !== entry.size) {
      failRecord(record, 'verify', problem(media.mediaId, `${media.path}: corrupt (size ${size}, indexed ${entry.size})`));
      continue;
    }
    const method = methodOf(entry);
    const digests = await digestFile(file, entry.checksum !== undefined ? method : undefined);
    if (digests.md5 !== entry.md5) {
      failRecord(record, 'verify', problem(media.mediaId, `${media.path}: corrupt (MD5 ${digests.md5}, indexed ${entry.md5}; downloaded with ${method} check)`));
      continue;
    }
    if (digests.checksum !== undefined && digests.checksum !== entry.checksum) {
      failRecord(record, 'verify', problem(media.mediaId, `${media.path}: corrupt (${method.toUpperCase()} ${digests.checksum}, S3 said ${entry.checksum})`));
      continue;
    }
    if (decrypt) {
      try {
        await withOperationSignal(context.signal, (signal) => decrypt(file, signal));
      } catch (err) {
        const e = toRcbsError(err);
        if (e.code === 'RCBS_ABORTED') return;
        failRecord(record, 'verify', problem(media.mediaId, `${media.path}: does not decrypt (${e.code}: ${e.message})`));
        continue;
      }
    }
    media.verified = true;
    media.verifiedBy = method;
    context.log.debug('media file verified', { path: media.path, verifiedBy: method });
    context.progress({ files: 1, bytes: size });
  }
}

/** After every record: what the index has that is gone, and .bin files nobody indexed. */
async function checkLeftovers(store: Store, self: ComponentEvents, seen: Set<string>): Promise<void> {
  for await (const entry of store.allMedia()) {
    if (seen.has(entry.path)) continue;
    const size = await stat(store.resolve(entry.path)).then((s) => s.size, () => undefined);
    if (size === undefined) self.fail(problem(entry.mediaId, `${entry.path}: missing (indexed, not on disk)`));
    else if (size !== entry.size) self.fail(problem(entry.mediaId, `${entry.path}: corrupt (size ${size}, indexed ${entry.size}); no recording JSON lists it`));
    seen.add(entry.path);
  }
  // Loaded here: the registry imports every component, and a backup never walks the tree.
  const { default: fg } = await import('fast-glob');
  const onDisk = fg.stream('**/*.bin', { cwd: store.targetDir, ignore: ['.rcbs/**'], onlyFiles: true }) as AsyncIterable<string>;
  for await (const rel of onDisk) {
    if (!seen.has(rel)) self.fail(problem(path.posix.basename(rel, '.bin'), `${rel}: orphan (on disk but not in the index)`));
  }
}

export default defineComponent<Record<string, never>>({
  kind: 'sink',
  name: 'verify',
  description: 'Checks each media file against the index (exists, size, MD5), reports missing and orphan files; test-decrypts with decryptKeys.',
  options: { type: 'object', properties: {}, additionalProperties: false },
  async create(_options, context, self) {
    const stateDir = path.join(path.resolve(context.config.targetDir), STATE_DIR);
    if (!(await stat(stateDir).then((s) => s.isDirectory(), () => false))) {
      throw new RcbsError('RCBS_INPUT_MISSING', `${path.dirname(stateDir)} is not an rcbs backup (no .rcbs/ folder with its index): nothing to verify. Check targetDir or --target (is the share mounted?)`, { key: 'targetDir', value: path.dirname(stateDir) });
    }
    const decrypt = await loadDecryptor(context.config.decryptKeys);
    const seen = new Set<string>();
    let recordings = 0;
    return (records) =>
      records
        .map((record) => _(context.store().then(async (store) => {
          recordings++;
          if (record.status !== 'failed') await checkMedia(store, record, decrypt, context, seen);
          return record;
        })))
        .sequence()
        .through((stream: Highland.Stream<PipelineRecord>) =>
          stream.consume<PipelineRecord>((err, record, push, next) => {
            if (err || !_.isNil(record)) {
              push(err, record);
              return next();
            }
            context.store().then(async (store) => {
              await checkLeftovers(store, self, seen);
              if (recordings === 0 && seen.size === 0 && !context.signal.aborted) self.fail({ code: 'RCBS_VERIFY_FAILED', message: `${store.targetDir} holds no recording: an empty backup does not pass` });
            }).then(
              () => push(null, _.nil),
              (e: unknown) => {
                push(e as Error);
                push(null, _.nil);
              },
            );
          }),
        );
  },
});
