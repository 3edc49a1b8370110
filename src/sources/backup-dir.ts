// Source `backup-dir`: walks an existing backup (SPEC §5 layout) and emits one
// record per <recording id>.json, with each media file found beside it as
// already done ('skipped', with its path), so `decrypt` and `verify` run as
// ordinary pipelines over what is on disk. A JSON that does not parse is
// reported as a failed record (verify lists it; decrypt counts it).
//
// The time window (SPEC §6: "it honours the time window by stopTime, like GWS"):
// when minAge, maxAge, minDate or maxDate is set (anywhere but the packaged
// defaults), only recordings whose stopTime is in [lower, upper) are emitted, the
// bounds computed as for GWS (src/config/window.ts) but without the catch-up and
// overlap of last_recording_endtime.txt, which are about fetching, not reading. So
// "yesterday's calls from the backup" needs no GWS. With no window key set, the whole
// backup is walked (the default maxAge of 2 days would otherwise hide most of it);
// `window: false` walks it whatever the config says (verify checks the whole backup).
// A recording without a usable stopTime cannot be placed in a window: it is left out
// and counted in the closing log line.
//
// A backup folder that does not exist is an error (exit 2, SPEC §2), not an empty backup.

import { readFileSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { computeWindow, type RecordingWindow } from '../config/window.js';
import { formatTime } from '../config/duration.js';
import { RcbsError } from '../errors.js';
import path from 'node:path';
import { failRecord } from '../pipeline/outcome.js';
import { fromAsyncIterable } from '../pipeline/streams.js';
import { defineComponent, newRecord, type MediaOutcome, type PipelineRecord, type Recording } from '../pipeline/types.js';
import { mediaFilesOf, mediaIdOf, parseGwsTime } from '../recording.js';

interface Options {
  /** Honour the config's time window when one is set (default true). */
  window?: boolean;
}

const WINDOW_KEYS = ['minAge', 'maxAge', 'minDate', 'maxDate'] as const;

/**
 * The recording JSON files under `root`, relative with `/`, one folder read at a time and
 * in name order (so, in the SPEC §5 layout, oldest folder first). Names starting with a
 * dot (.rcbs, temp files) are skipped. A walk of our own rather than fast-glob's stream:
 * that one reads ahead without backpressure and held every path of a 50k backup (+30 MB).
 */
async function* recordingFiles(root: string, rel = ''): AsyncGenerator<{ json: string; files: ReadonlySet<string> }> {
  const entries = (await readdir(rel ? path.join(root, rel) : root, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // The folder's files, so a media file that is not there costs no stat (a failed stat is slow).
  const files = new Set(entries.filter((e) => !e.isDirectory()).map((e) => e.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) yield* recordingFiles(root, child);
    else if (entry.isFile() && entry.name.endsWith('.json')) yield { json: child, files };
  }
}

// A recording's JSON is read, and its media files stat'ed, synchronously. Each is a few KB
// on the backup's own disk, and each asynchronous fs call is a trip through libuv's thread
// pool: an asynchronous read is four (open, fstat, read, close). 5,000 JSON files of a
// backup took 144-164 ms (304-320 ms of CPU, the process's) read by callbacks 8 at a time,
// 33-36 ms (148-170 ms) read synchronously (BENCHMARKS.md, issue 14 run 8). The price: the
// event loop waits while a read lasts, microseconds from the page cache, a disk's seek
// otherwise. One record is read when the pipeline asks for it, so the loop turns whenever the
// pipeline waits (its writes) and at each folder's listing.

function sizeOf(file: string): number | undefined {
  try {
    const s = statSync(file);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

export default defineComponent<Options>({
  kind: 'source',
  name: 'backup-dir',
  description: 'Walks an existing backup in targetDir: one record per recording JSON, with the media files found beside it; honours the time window by stopTime when minAge/maxAge/minDate/maxDate are set.',
  options: {
    type: 'object',
    properties: { window: { type: 'boolean', description: 'keep only recordings whose stopTime is in the configured window, when minAge/maxAge/minDate/maxDate are set (default true)' } },
    additionalProperties: false,
  },
  async create(options, context) {
    const targetDir = context.config.targetDir;
    const found = await stat(targetDir).catch(() => undefined);
    if (!found?.isDirectory()) {
      throw new RcbsError('RCBS_INPUT_MISSING', `the backup folder ${targetDir} ${found ? 'is not a folder' : 'does not exist'}: set targetDir (--config, --set targetDir=…) to the folder a backup was written to`, { path: targetDir });
    }
    const configured = WINDOW_KEYS.filter((key) => (context.configSources[key] ?? 'defaults') !== 'defaults');
    const window: RecordingWindow | undefined = options.window !== false && configured.length > 0 ? computeWindow(context.config, context.now) : undefined;
    if (window) context.log.info(`backup-dir: recordings with stopTime in [${formatTime(window.start)}, ${formatTime(window.end)}) (${configured.join(', ')} set)`);
    const tally = { inWindow: 0, outside: 0, noStopTime: 0 };
    const inWindow = (recording: Recording): boolean => {
      if (!window) return true;
      const stop = parseGwsTime(recording.stopTime);
      if (stop === undefined) tally.noStopTime++;
      else if (stop >= window.start && stop < window.end) return true;
      else tally.outside++;
      return false;
    };
    return () => {
      async function* records(): AsyncGenerator<PipelineRecord> {
        const store = await context.store();
        const root = store.targetDir;
        /** One JSON read and parsed, its media looked for: the I/O of a record. */
        const read = ({ json, files }: { json: string; files: ReadonlySet<string> }): { json: string; dir: string; recording?: Recording; problem?: string; media: MediaOutcome[] } => {
          const dir = path.posix.dirname(json);
          let recording: Recording;
          try {
            const parsed: unknown = JSON.parse(readFileSync(path.join(root, json), 'utf8'));
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
            recording = parsed as Recording;
          } catch (err) {
            return { json, dir, problem: (err as Error).message, media: [] };
          }
          const media: MediaOutcome[] = [];
          if (!inWindow(recording)) return { json, dir, media };
          for (const file of mediaFilesOf(recording)) {
            const mediaId = mediaIdOf(file);
            if (!mediaId) continue;
            let rel: string;
            try {
              rel = dir === '.' ? store.mediaFileName(mediaId) : `${dir}/${store.mediaFileName(mediaId)}`;
            } catch {
              continue; // a name that cannot be on disk was never written
            }
            const bytes = files.has(path.posix.basename(rel)) ? sizeOf(path.join(root, rel)) : undefined;
            media.push(bytes === undefined ? { mediaId, type: file.type, status: 'pending' } : { mediaId, type: file.type, status: 'skipped', path: rel, bytes });
          }
          return { json, dir, recording, media };
        };
        for await (const file of recordingFiles(root)) {
          const { json, dir, recording, problem, media } = read(file);
          if (problem !== undefined) {
            const record = Object.assign(newRecord({}), { dir, json });
            failRecord(record, 'backup-dir', { code: 'RCBS_STORE_IO', message: `${json}: the metadata does not parse (${problem})` });
            yield record;
            continue;
          }
          if (!recording) continue; // outside the window
          tally.inWindow++;
          // Object.assign, not an object spread (newRecord says why).
          yield Object.assign(newRecord(recording), { dir, json, media });
        }
        if (window) context.log.info(`backup-dir: ${tally.inWindow} recording(s) in the window, ${tally.outside} outside it${tally.noStopTime ? `, ${tally.noStopTime} left out: no usable stopTime` : ''}`);
      }
      return fromAsyncIterable(records());
    };
  },
});
