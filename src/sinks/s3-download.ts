// Sink `s3-download`: streams each wanted media file from S3 to
// <targetDir>/<tenant>/<folder>/<mediaId>.bin (SPEC §5). Each file goes to a temp
// file beside its final name, is checked against the S3 object (length, ETag MD5 or
// object checksum), fsynced, renamed by the store and recorded in the index; a
// failed file is that media's coded failure and the rest go on. `concurrency`
// transfers are in flight across records (downloadMode single = 1, multithread =
// numThreads), and no more than twice that many records, or LOOK_AHEAD_RECORDS, are
// pulled ahead: the transfers waiting for a slot start largest first (SPEC §8).
//
// On abort (Ctrl-C) no new transfer starts, in-flight ones are cancelled and their
// temp files removed: an interrupted run leaves no partial file behind, and the next
// run fetches those media again (dedupe only skips what the index says is complete).
// A run killed outright (SIGKILL, power loss) leaves its temp files; the next run
// resumes them with a Range request and accepts the result only if the whole file
// matches the object's MD5 ETag (src/s3/transfer.ts), else fetches from zero.
// Objects of s3PartThreshold and more (unset: 64 MiB, from a far store only) come as
// parallel ranged GETs of s3PartSize (src/s3/parts.ts) on up to `concurrency` spare
// connections shared by the run (so at most 2 x concurrency GETs in flight); a killed
// run's finished parts are kept.
//
// A refused TLS certificate (RCBS_TLS_UNTRUSTED) is the same for every file, like a
// full target folder: it stops the run (context.stopRun, exit 4) with one message
// instead of failing each media file in turn.

import { stat } from 'node:fs/promises';
import _ from '../pipeline/highland.js';
import { RcbsError, toRcbsError } from '../errors.js';
import { withOperationSignal } from '../pipeline/abort.js';
import { archiveMedia, failMedia, itemProblem } from '../pipeline/outcome.js';
import { quarantineRecord } from '../pipeline/quarantine.js';
import { defineComponent, type ComponentEvents, type MediaOutcome, type PipelineRecord, type RunContext } from '../pipeline/types.js';
import { mediaFilesOf, mediaIdOf, recordingId, toInteger } from '../recording.js';
import type { Store } from '../store/types.js';
import { objectUrl, RUN_STOPPING_CODES } from '../s3/failure.js';
import { checkKeyTemplate, mediaKey, resolveS3Location, type S3Location } from '../s3/location.js';
import type { TransferRequest } from '../s3/transfer.js';
import { TransferSlots } from '../s3/transfer-slots.js';
import { folderWideError } from '../store/fs-errors.js';
import { trustSummary, untrustedCertificateError } from '../net/trust.js';

interface Options {
  /** Transfers in flight; overrides downloadMode/numThreads. */
  concurrency?: number;
}

const COMPONENT = 's3-download';
/** Records pulled ahead at least, whatever numThreads: largest first can only choose among
 * the transfers waiting, and with 2 x 4 records a large object met a little later started
 * late. Through the WAN model at numThreads 4 the link was full ~0.2 s sooner with 32
 * (10.22-10.24 s against 10.43-10.45 s, BENCHMARKS.md); a record is a few KB. */
export const LOOK_AHEAD_RECORDS = 32;

/** Progress is reported in batches: a 1 GiB file must not make a million progress calls. */
const PROGRESS_BYTES = 1 << 20;
const PROGRESS_MS = 200;

function progressReporter(context: RunContext): { add(bytes: number): void; flush(): void } {
  let pending = 0;
  let last = Date.now();
  const flush = () => {
    if (pending > 0) context.progress({ bytes: pending });
    pending = 0;
    last = Date.now();
  };
  return {
    add(bytes) {
      pending += bytes;
      if (pending >= PROGRESS_BYTES || Date.now() - last >= PROGRESS_MS) flush();
    },
    flush,
  };
}

/** The listed sizes of the media this record still needs (for the progress line's ETA). */
function bytesToFetch(record: PipelineRecord): number {
  const pending = record.media.length > 0 ? new Set(record.media.filter((m) => m.status === 'pending').map((m) => m.mediaId)) : undefined;
  let bytes = 0;
  for (const file of mediaFilesOf(record.recording)) {
    const id = mediaIdOf(file);
    if (id !== undefined && (!pending || pending.has(id))) bytes += toInteger(file.size) ?? 0;
  }
  return bytes;
}

/** Test seams: retry delays and socket timeouts. Not part of the pipeline options. */
export interface S3DownloadInternals {
  delayMs?: TransferRequest['delayMs'];
  socketTimeoutMs?: number;
}

/** The S3 location each run's prepare started to resolve, taken up by its create. */
const locations = new WeakMap<RunContext, Promise<S3Location>>();

function startLocating(context: RunContext): Promise<S3Location> {
  const locating = resolveS3Location(context);
  locating.catch(() => {}); // awaited by create, after the modules
  return locating;
}

export async function createS3Download(options: Options, context: RunContext, self: ComponentEvents, internals: S3DownloadInternals = {}) {
  const { config, log, signal } = context;
  const concurrency = options.concurrency ?? (config.downloadMode === 'single' ? 1 : config.numThreads);

  if (config.metadataOnly) {
    log.info('metadataOnly=true: s3-download passes records through without downloading media');
    return (records: Highland.Stream<PipelineRecord>) => records;
  }
  checkKeyTemplate(config.s3KeyTemplate);
  // The AWS SDK is loaded only by pipelines that download: it is ~25 MB and ~100 ms of
  // start-up that metadata-only, verify and decrypt runs do without.
  // The settings call (a round trip to GWS), started by prepare before any component was
  // created, is on its way while the SDK loads.
  const started = locations.get(context);
  locations.delete(context);
  const locating = started ?? startLocating(context);
  const [{ BucketClient, checkCredentials, createS3Client, warmUp }, { downloadObject }, { adoptIfSame }, { DEFAULT_PART_THRESHOLD, partSizeFor, StoreDistance }] = await Promise.all([import('../s3/client.js'), import('../s3/transfer.js'), import('../s3/adopt.js'), import('../s3/parts.js')]);
  const location: S3Location = await locating;
  // Connection budget (SPEC §8): `concurrency` transfers, and as many spare connections
  // again that the parts of large objects share (s3PartThreshold, src/s3/parts.ts).
  const partsOn = config.s3PartThreshold !== 0;
  const spare = new TransferSlots(concurrency);
  // Unset: parts only from a far store (src/s3/parts.ts storeIsFar).
  const partThreshold = config.s3PartThreshold === undefined ? { threshold: DEFAULT_PART_THRESHOLD, distance: new StoreDistance() } : { threshold: config.s3PartThreshold };
  let bucketClient: InstanceType<typeof BucketClient> | undefined;
  if (!context.dryRun) {
    bucketClient = new BucketClient(
      (region) => createS3Client(config, context.credentials, { ...location, region }, { concurrency: partsOn ? 2 * concurrency : concurrency, socketTimeoutMs: internals.socketTimeoutMs, log }, context.env),
      location.region,
      (from, to) => log.info(`the bucket ${location.bucket} is in region ${to}, not ${from}: following it`, { bucket: location.bucket, region: to, configured: from }),
    );
    await checkCredentials(bucketClient.client);
  }
  const slots = new TransferSlots(concurrency);
  const progress = progressReporter(context);

  const endpointHost = location.endpoint ? new URL(location.endpoint).host : `s3.${location.region}.amazonaws.com`;
  /** Failures that are the whole run's, not one file's (context.stopRun): credentials S3 rejects
   * (exit 2), S3 or its proxy unreachable (exit 4), the target folder, a refused certificate. */
  // What the certificate advice names as trusted: worked out once, not per failure.
  const s3Trusted = trustSummary(config.caFile, context.env, 's3');
  const runWide = (error: RcbsError) =>
    (RUN_STOPPING_CODES.includes(error.code) ? error : undefined) ?? folderWideError(error) ?? untrustedCertificateError(error, 's3', endpointHost, s3Trusted);

  const fail = (record: PipelineRecord, media: MediaOutcome, err: unknown) => {
    const error = toRcbsError(err, 'RCBS_S3_TRANSFER');
    if (error.code === 'RCBS_S3_ARCHIVED') {
      // An outcome of its own: listed apart, not retried, holds the checkpoint back.
      archiveMedia(record, media, COMPONENT, { code: error.code, message: error.message });
      log.warn('media file archived in S3: not downloaded', { recordingId: recordingId(record.recording), mediaId: media.mediaId, reason: error.message });
      return;
    }
    failMedia(record, media, COMPONENT, itemProblem(context, error, runWide));
    // Work the run stopped before is not a failure, and not worth a line per file.
    if (media.status === 'interrupted') return;
    log.error('media file not downloaded', { recordingId: recordingId(record.recording), mediaId: media.mediaId, code: error.code, reason: error.message });
  };

  /** restoreArchivedDays: asks S3 to restore an archived object; the outcome joins the media's message. */
  const restore = async (key: string, err: unknown): Promise<unknown> => {
    const error = toRcbsError(err);
    if (error.code !== 'RCBS_S3_ARCHIVED' || !config.restoreArchivedDays || !bucketClient) return err;
    const { requestRestore } = await import('../s3/restore.js');
    const storageClass = typeof error.details.storageClass === 'string' ? error.details.storageClass : undefined;
    try {
      const outcome = await requestRestore(bucketClient.client, { bucket: location.bucket, key }, config.restoreArchivedDays, storageClass, signal);
      log.info(outcome, { object: objectUrl({ bucket: location.bucket, key }), days: config.restoreArchivedDays, tier: 'Bulk' });
      return new RcbsError(error.code, `${error.message.replace(/: restore it first.*$/, '')}: ${outcome} (Bulk, ${config.restoreArchivedDays} days); the next run downloads it once restored`, error.details, { cause: err });
    } catch (restoreError) {
      log.warn('could not ask S3 to restore an archived object', { object: objectUrl({ bucket: location.bucket, key }), reason: (restoreError as Error).message });
      return err;
    }
  };

  /** A file proved to be its object (downloaded now, or adopted): into the index, then its outcome. */
  const landed = async (
    store: Store, record: PipelineRecord, media: MediaOutcome, relPath: string, status: 'downloaded' | 'adopted',
    proof: { bytes: number; md5: string; etag?: string; verifiedBy: string; checksum?: string },
  ) => {
    await store.recordMedia({
      recordingId: recordingId(record.recording) ?? '',
      mediaId: media.mediaId,
      path: relPath,
      size: proof.bytes,
      md5: proof.md5,
      ...(proof.etag !== undefined ? { etag: proof.etag } : {}),
      verifiedBy: proof.verifiedBy,
      ...(proof.checksum !== undefined ? { checksum: proof.checksum } : {}),
      completedAt: Date.now(),
    });
    media.status = status;
    media.path = relPath;
    media.bytes = proof.bytes;
    media.verifiedBy = proof.verifiedBy;
    context.progress({ files: 1 });
  };

  /** A file already at its final path that the index does not know (the original tool's
   * backup, a lost index) is adopted when it proves to be the object (src/s3/adopt.ts). */
  const adopt = async (store: Store, record: PipelineRecord, media: MediaOutcome, relPath: string, key: string): Promise<boolean> => {
    if (await store.getMedia(media.mediaId)) return false;
    const file = store.resolve(relPath);
    const found = await stat(file).then((s) => s.isFile(), () => false);
    if (!found) return false;
    const adoption = await adoptIfSame(bucketClient!.client, { bucket: location.bucket, key }, file, signal);
    if (!adoption.adopted) {
      log.info('a file at the final path was not adopted: downloading it again', { path: relPath, reason: adoption.reason });
      return false;
    }
    await landed(store, record, media, relPath, 'adopted', adoption);
    log.debug('media file adopted', { path: relPath, verifiedBy: adoption.verifiedBy });
    return true;
  };

  const download = async (store: Store, record: PipelineRecord, media: MediaOutcome, relPath: string, key: string) => {
    // GWS gives each media file's size (maybe the plaintext's: close enough to order by):
    // the largest waiting transfer starts first (SPEC §8).
    const sizeHint = toInteger(mediaFilesOf(record.recording).find((f) => mediaIdOf(f) === media.mediaId)?.size);
    await slots.run(async (handOff) => {
      // Queued work started after Ctrl-C is not started at all.
      if (signal.aborted) throw new RcbsError('RCBS_ABORTED', `interrupted before downloading ${objectUrl({ bucket: location.bucket, key })}`);
      // A temp file a killed run left behind is continued (and checked) rather than re-fetched.
      // Looked for while adopt looks at the final path (both only read): one wait, not two.
      const partialFound = store.findPartial(relPath);
      partialFound.catch(() => {}); // awaited below unless the file is adopted
      if (await adopt(store, record, media, relPath, key)) return;
      const partial = await partialFound;
      const write = await store.createAtomicWrite(relPath, undefined, partial ? { resumeFrom: partial.tempPath } : {});
      try {
        // Its own signal: the run's signal keeps one listener however many transfers run.
        const result = await withOperationSignal(signal, (transferSignal) => downloadObject({
          client: bucketClient!.client,
          followRegion: (region) => bucketClient!.follow(region),
          bucket: location.bucket,
          key,
          tempPath: write.tempPath,
          signal: transferSignal,
          log,
          onBytes: progress.add,
          resumeFrom: write.resumedBytes,
          stallTimeoutMs: config.s3StallTimeout,
          ...(partsOn ? { parts: { size: config.s3PartSize ?? partSizeFor(concurrency), ...partThreshold, spare }, handOff } : {}),
          ...(internals.delayMs ? { delayMs: internals.delayMs } : {}),
        }));
        // downloadObject fsynced the file before returning.
        await write.commit({ synced: true });
        progress.flush();
        await landed(store, record, media, relPath, 'downloaded', result);
        log.debug('media file downloaded', { object: objectUrl({ bucket: location.bucket, key }), path: relPath, bytes: result.bytes, verifiedBy: result.verifiedBy, resumes: result.resumes, ...(result.parts ? { parts: result.parts } : {}) });
      } catch (err) {
        // Stopped before the slot is handed on, so the transfer queued next does not start.
        const stop = runWide(toRcbsError(err, 'RCBS_S3_TRANSFER'));
        if (stop) context.stopRun(stop);
        // Never a final name for unverified bytes: the temp file goes.
        await write.abort();
        throw await restore(key, err);
      }
    }, sizeHint);
  };

  /** Resolves with the record to pass on, or undefined when it went to quarantine. */
  const processRecord = async (record: PipelineRecord): Promise<PipelineRecord | undefined> => {
    if (record.status === 'failed') return record;
    if (record.media.length === 0) {
      for (const file of mediaFilesOf(record.recording)) {
        const mediaId = mediaIdOf(file);
        if (mediaId) record.media.push({ mediaId, ...(typeof file.type === 'string' ? { type: file.type } : {}), status: 'pending' });
      }
    }
    const pending = record.media.filter((m) => m.status === 'pending');
    if (pending.length === 0) return record;

    const files = mediaFilesOf(record.recording);
    const keys = new Map<MediaOutcome, string>();
    for (const media of pending) {
      const file = files.find((f) => mediaIdOf(f) === media.mediaId) ?? {};
      try {
        keys.set(media, mediaKey(config.s3KeyTemplate, location, file, media.mediaId, record.recording));
      } catch (err) {
        fail(record, media, err);
      }
    }

    const store = await context.store();
    let dir: string;
    const paths = new Map<MediaOutcome, string>();
    try {
      if (!recordingId(record.recording)) throw new RcbsError('RCBS_RECORD_INVALID', 'the recording has no id');
      dir = store.recordingDir(record.recording);
      for (const media of keys.keys()) paths.set(media, `${dir}/${store.mediaFileName(media.mediaId)}`);
    } catch (err) {
      const error = toRcbsError(err);
      if (error.code !== 'RCBS_UNSAFE_NAME' && error.code !== 'RCBS_RECORD_INVALID') throw error;
      await quarantineRecord(context, self, record, error);
      return undefined;
    }
    record.dir ??= dir;
    // A dry run plans with the same names and the same quarantine decisions as a real run.
    if (context.dryRun) {
      for (const [media, relPath] of paths) {
        media.status = 'planned';
        media.path = relPath;
        log.info('would download', { recordingId: recordingId(record.recording), mediaId: media.mediaId, object: objectUrl({ bucket: location.bucket, key: keys.get(media)! }), to: relPath });
      }
      return record;
    }
    await Promise.all(
      [...paths].map(([media, relPath]) => download(store, record, media, relPath, keys.get(media)!).catch((err) => fail(record, media, err))),
    );
    return record;
  };

  return (records: Highland.Stream<PipelineRecord>) => {
    // Once the source's first GWS requests are on their way (the run starts when this
    // returns): the client's first middleware pass (warmUp), which would otherwise follow
    // the first page. setImmediate: after the poll phase in which new connections send.
    const client = bucketClient?.client;
    if (client) setImmediate(() => void warmUp(client, location.bucket, `${location.keyPrefix}rcbs-warm-up`)).unref();
    return records
      // After an abort, no new record is taken; in-flight ones finish as failed (RCBS_ABORTED).
      .consume<PipelineRecord>((err, record, push, next) => {
        if (err) {
          push(err);
          next();
        } else if (_.isNil(record) || signal.aborted) {
          // Every record has come in, with its sizes: the progress line may now give an ETA.
          if (_.isNil(record)) context.progress({ planned: true });
          push(null, _.nil);
        } else {
          context.progress({ expectBytes: bytesToFetch(record) });
          push(null, record);
          next();
        }
      })
      .map((record) => _(processRecord(record)))
      .mergeWithLimit(Math.max(2 * concurrency, LOOK_AHEAD_RECORDS))
      .filter((record): record is PipelineRecord => record !== undefined);
  };
}

export default defineComponent<Options>({
  kind: 'sink',
  writesTarget: true,
  movesMedia: true,
  name: COMPONENT,
  description: 'Streams each wanted media file from S3 to the backup folder, checked against the object and renamed atomically.',
  options: {
    type: 'object',
    properties: {
      concurrency: { type: 'integer', minimum: 1, description: 'transfers in flight at once; default numThreads (multithread) or 1 (single)' },
    },
    additionalProperties: false,
  },
  prepare: (_options, context) => {
    if (!context.config.metadataOnly) locations.set(context, startLocating(context));
  },
  create: (options, context, self) => createS3Download(options, context, self),
});
