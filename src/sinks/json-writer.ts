// Sink `json-writer`: writes <recording id>.json, the metadata exactly as
// received (pretty-printed, nothing added), atomically into the recording's
// SPEC §5 folder, and notes it in the store's recordings log.
//
// When: only once every wanted media file is in place ("metadata written after
// its media are all in place"), so a JSON on disk means its media are there too.
// A record that failed, or has media still pending or failed, is passed on
// unwritten; the next run writes it. metadataOnly (or requireMedia: false) writes
// the JSON regardless of media.
//
// Rewrites: the sha256 of the content is kept per recording. Identical content
// with the file still there: nothing to do. Different content (late media: the
// media list grew; updated fields): rewritten. One exception keeps backups from
// losing information: if the new metadata lists FEWER media than the JSON on disk
// (media expired in the cloud), the old JSON is kept and a warning names them.
//
// Unsafe names (tenant, id, the wanted media's mediaId) or no usable startTime:
// the record is quarantined and dropped from the stream; the run goes on.

import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import _ from '../pipeline/highland.js';
import { isRcbsError, toRcbsError } from '../errors.js';
import { failRecord, interruptRecord, itemProblem, mediaInPlace } from '../pipeline/outcome.js';
import { quarantineRecord } from '../pipeline/quarantine.js';
import { onEnd } from '../pipeline/streams.js';
import { defineComponent, type PipelineRecord } from '../pipeline/types.js';
import { mediaFilesOf, mediaIdOf, recordingId } from '../recording.js';
import type { Store } from '../store/types.js';

interface Options {
  /** Write the JSON only when every media file is in place (default true; false with metadataOnly). */
  requireMedia?: boolean;
}

/** The bytes written for a recording: its JSON as received, pretty-printed. */
export function recordingJson(recording: unknown): string {
  return JSON.stringify(recording, null, 2) + '\n';
}

function mediaIdsOf(recording: Record<string, unknown>): string[] {
  return mediaFilesOf(recording).map(mediaIdOf).filter((id): id is string => id !== undefined);
}

export default defineComponent<Options>({
  kind: 'sink',
  writesTarget: true,
  name: 'json-writer',
  description: 'Writes each recording\'s metadata JSON, as received, beside its media once they are all in place; rewrites it when late media arrive.',
  options: {
    type: 'object',
    properties: { requireMedia: { type: 'boolean', description: 'write only once every wanted media file is downloaded or skipped (default true, false with metadataOnly)' } },
    additionalProperties: false,
  },
  create(options, context, self) {
    const requireMedia = options.requireMedia ?? !context.config.metadataOnly;
    const tally = { written: 0, rewritten: 0, unchanged: 0, waiting: 0, kept: 0 };
    // Small local writes whose cost is waiting on fsync: more in flight lets them share
    // the folder and journal fsyncs (group commit). `single` still means one at a time.
    const concurrency = context.config.downloadMode === 'single' ? 1 : Math.max(16, context.config.numThreads);

    const inPlace = (record: PipelineRecord, rel: string): PipelineRecord => {
      record.json = rel;
      if (record.status === 'pending') record.status = 'done';
      return record;
    };

    /** Writes (or not) one record; null when it was quarantined and leaves the stream. */
    const write = async (record: PipelineRecord): Promise<PipelineRecord | null> => {
      const id = recordingId(record.recording);
      if (requireMedia) {
        if (record.status === 'failed') return record;
        const notReady = record.media.filter((m) => !mediaInPlace(m));
        if (notReady.length > 0) {
          tally.waiting++;
          const failed = notReady.some((m) => m.status !== 'pending');
          // Pending here means no download step ran for it: say so, it is a pipeline mistake.
          (failed ? context.log.debug : context.log.warn)('metadata not written: its media are not all in place', { recordingId: id, media: notReady.map((m) => `${m.mediaId}:${m.status}`).join(',') });
          return record;
        }
      }
      const store: Store = await context.store();
      let rel: string;
      try {
        record.dir = store.recordingDir(record.recording);
        rel = `${record.dir}/${store.recordingFileName(id ?? '')}`;
        store.resolve(rel);
        // The wanted media's names too, so a record is quarantined for an unsafe
        // mediaId (`../x`) whether or not a download step ran (metadataOnly).
        for (const media of record.media) store.mediaFileName(media.mediaId);
      } catch (err) {
        if (!isRcbsError(err) || err.code !== 'RCBS_UNSAFE_NAME') throw err;
        await quarantineRecord(context, self, record, err);
        return null;
      }
      const content = recordingJson(record.recording);
      const sha256 = createHash('sha256').update(content).digest('hex');
      const mediaIds = mediaIdsOf(record.recording);
      const previous = await store.getRecording(id!);
      if (previous && previous.path === rel) {
        const onDisk = await stat(store.resolve(rel)).catch(() => undefined);
        const intact = onDisk?.isFile() === true && onDisk.size === Buffer.byteLength(content);
        if (intact && previous.sha256 === sha256) {
          tally.unchanged++;
          return inPlace(record, rel);
        }
        const lost = previous.mediaIds.filter((m) => !mediaIds.includes(m));
        if (onDisk?.isFile() && lost.length > 0) {
          tally.kept++;
          context.log.warn('metadata kept: the new version lists fewer media than the JSON on disk', { recordingId: id, path: rel, missing: lost.join(',') });
          return inPlace(record, rel);
        }
      }
      if (context.dryRun) {
        context.log.info('would write metadata', { recordingId: id, path: rel });
        return record;
      }
      try {
        await store.writeFileAtomic(rel, content);
        await store.recordRecording({ recordingId: id!, path: rel, mediaIds, sha256, writtenAt: Date.now() });
      } catch (err) {
        const problem = itemProblem(context, toRcbsError(err, 'RCBS_STORE_IO'));
        // A JSON the run stopped before is written by the next run, not a failure of its own.
        if (problem.code === 'RCBS_ABORTED') interruptRecord(record);
        else failRecord(record, 'json-writer', problem);
        return record;
      }
      if (previous) tally.rewritten++;
      else tally.written++;
      return inPlace(record, rel);
    };

    return (records) =>
      onEnd(
        records
          .map((record) => _(write(record)))
          .parallel(concurrency)
          .reject((record): record is null => record === null)
          .map((record) => record as PipelineRecord),
        () => context.log.info('json-writer: metadata files', tally),
      );
  },
});
