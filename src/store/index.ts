// The on-disk store (SPEC §5): the layout under targetDir, the lock, the index of
// completed media, the recordings written, quarantine and the catch-up time.
//
//   <targetDir>/<tenant>/<recordingFolderFormat of startTime, UTC>/<id>.json, <mediaId>.bin
//   <targetDir>/.rcbs/lock, last_recording_endtime.txt, index.ndjson,
//                    recordings.ndjson, quarantine.ndjson
//
// Every write lands inside targetDir (resolve() checks the resolved path), is
// atomic (atomic.ts), and every state line is fsynced before the caller counts
// its work as done (journal.ts). In memory the index is a hash and a line offset
// per entry (offset-index.ts); entries are read back from the journals.

import { createHash } from 'node:crypto';
import { mkdir, open, readFile, stat, unlink, readdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { RcbsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Recording } from '../pipeline/types.js';
import { parseGwsTime, mediaFilesOf, recordingId, tenantOf } from '../recording.js';
import { createAtomicWriter, TempFiles, writeAtomic } from './atomic.js';
import { storeIoError, targetUnavailableError } from './fs-errors.js';
import { Journal, journalLines, loadJournal, parseJournalLine, type JournalRepair } from './journal.js';
import { acquireLock, type HeldLock } from './lock.js';
import { checkFolderFormat, renderFolder, safeName } from './names.js';
import { OffsetIndex } from './offset-index.js';
import type { AtomicWriteHandle, AtomicWriteOptions, IndexEntry, QuarantineEntry, RecordingEntry, Store } from './types.js';

export type { Store } from './types.js';

export interface OpenStoreOptions {
  targetDir: string;
  recordingFolderFormat: string;
  log: Logger;
  /** Take the targetDir lock (default: true, false when readOnly). */
  lock?: boolean;
  /** Read the state only (verify, find): nothing is created, written or repaired. */
  readOnly?: boolean;
}

export const STATE_DIR = '.rcbs';
const LAST_END_TIME = 'last_recording_endtime.txt';

function isString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function parseIndexEntry(v: unknown): IndexEntry | undefined {
  const e = v as Partial<IndexEntry> | null;
  if (!e || typeof e !== 'object' || !isString(e.mediaId) || !isString(e.path) || !isCount(e.size)) return undefined;
  return e as IndexEntry;
}

function parseRecordingEntry(v: unknown): RecordingEntry | undefined {
  const e = v as Partial<RecordingEntry> | null;
  if (!e || typeof e !== 'object' || !isString(e.recordingId) || !isString(e.path) || !isString(e.sha256) || !Array.isArray(e.mediaIds)) return undefined;
  return e as RecordingEntry;
}

/** Same record, same problem: the code, the reason and a digest of the record as received. */
function quarantineFingerprint(entry: Pick<QuarantineEntry, 'code' | 'reason' | 'recording'>): string {
  return createHash('sha256').update(JSON.stringify([entry.code, entry.reason, entry.recording])).digest('hex');
}

function parseAny(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? v : undefined;
}

/** targetDir as an absolute path. Forward slashes work on every OS; `//server/share/path`
 * is a UNC path on Windows (path.resolve keeps it) and a plain path elsewhere. */
export function resolveTargetDir(targetDir: string): string {
  if (!targetDir || targetDir.includes('\0')) throw new RcbsError('RCBS_CONFIG_INVALID', `targetDir ${JSON.stringify(targetDir)} is not a usable folder path`, { key: 'targetDir', value: targetDir });
  return path.resolve(targetDir);
}

/** Every key's latest entry, streamed from the journal in file order (flat memory). */
async function* latestEntries<T>(index: OffsetIndex<T>, parse: (v: unknown) => T | undefined): AsyncGenerator<T> {
  for await (const line of journalLines(index.file)) {
    const entry = parseJournalLine(line.text, parse);
    if (entry !== undefined && (await index.isLatest(entry, line.offset))) yield entry;
  }
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const { log } = options;
  const readOnly = options.readOnly ?? false;
  const targetDir = resolveTargetDir(options.targetDir);
  const folderSegments = checkFolderFormat(options.recordingFolderFormat);
  const stateDir = path.join(targetDir, STATE_DIR);
  const statePath = (name: string) => path.join(stateDir, name);

  if (readOnly) {
    // A dry run on a new install reads a folder that does not exist yet: nothing is backed up.
    const s = await stat(targetDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw storeIoError('open the target folder', targetDir, err);
    });
    if (!s) log.warn('the target folder does not exist yet: nothing is backed up there', { targetDir });
    else if (!s.isDirectory()) throw storeIoError('open the target folder', targetDir, Object.assign(new Error('not a folder'), { code: 'ENOTDIR' }));
  } else {
    await mkdir(stateDir, { recursive: true }).catch((err: unknown) => {
      throw targetUnavailableError('create the target folder', stateDir, err);
    });
  }

  let lock: HeldLock | undefined;
  if (options.lock ?? !readOnly) {
    lock = await acquireLock(statePath('lock'), targetDir, log).catch((err: unknown) => {
      throw targetUnavailableError('take the lock', statePath('lock'), err);
    });
  }

  const temps = new TempFiles();
  // Hashes and line offsets only; entries are read back from the journals (offset-index.ts).
  const media = new OffsetIndex<IndexEntry>(statePath('index.ndjson'), (e) => e.mediaId, parseIndexEntry);
  const recordings = new OffsetIndex<RecordingEntry>(statePath('recordings.ndjson'), (e) => e.recordingId, parseRecordingEntry);
  const readers: FileHandle[] = [];
  // What is already in quarantine.ndjson: the same bad record met again on the next
  // run (its window overlaps) is counted and reported, but not appended twice.
  const quarantined = new Set<string>();
  let journals: { index: Journal; recordings: Journal; quarantine: Journal } | undefined;
  const loadRecordings = () => loadJournal(recordings.file, parseRecordingEntry, log, (e, offset) => recordings.add(e.recordingId, offset));
  const attachReader = async (index: OffsetIndex<IndexEntry> | OffsetIndex<RecordingEntry>): Promise<void> => {
    const reader = await open(index.file, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' && readOnly) return undefined; // nothing indexed yet
      throw err;
    });
    if (reader) {
      readers.push(reader);
      index.attach(reader);
    }
  };
  try {
    const indexRepair = await loadJournal(media.file, parseIndexEntry, log, (e, offset) => media.add(e.mediaId, offset));
    // Read-only (an export, a dry run), the recordings index is loaded when first asked
    // (recordingsIndex below): an export never asks, and it is the whole history, read
    // from disk (recordings.ndjson: ~400 bytes a recording) and held (12-24 bytes a
    // recording), before the first record.
    const recordingsRepair = readOnly ? undefined : await loadRecordings();
    if (!readOnly) {
      const quarantineRepair = await loadJournal(statePath('quarantine.ndjson'), parseAny, log, (e) => quarantined.add(quarantineFingerprint(e as QuarantineEntry)));
      // Temp files of state files (last_recording_endtime.txt) left by a crash.
      for (const name of await readdir(stateDir)) {
        if (name.startsWith('.') && name.endsWith('.part')) await unlink(path.join(stateDir, name)).catch(() => {});
      }
      const openJournal = (name: string, repair: JournalRepair) => Journal.open(statePath(name), repair);
      journals = {
        index: await openJournal('index.ndjson', indexRepair),
        recordings: await openJournal('recordings.ndjson', recordingsRepair!),
        quarantine: await openJournal('quarantine.ndjson', quarantineRepair),
      };
    }
    await attachReader(media);
    if (!readOnly) await attachReader(recordings);
    // A kept torn tail was written again on a clean line: point its key there.
    if (journals?.index.keptTailOffset !== undefined && indexRepair.keptTail !== undefined) await media.setLine(indexRepair.keptTail, journals.index.keptTailOffset);
    if (journals?.recordings.keptTailOffset !== undefined && recordingsRepair?.keptTail !== undefined) await recordings.setLine(recordingsRepair.keptTail, journals.recordings.keptTailOffset);
  } catch (err) {
    await Promise.all(readers.map((r) => r.close().catch(() => {})));
    await lock?.release();
    throw storeIoError('read the state in', stateDir, err);
  }
  log.debug('store opened', { targetDir, mediaLines: media.slots, recordingLines: readOnly ? 'when asked' : recordings.slots, readOnly });

  // The recordings index, loaded by now unless read-only: then at the first call.
  let closed = false;
  let recordingsLoaded: Promise<OffsetIndex<RecordingEntry>> | undefined = readOnly ? undefined : Promise.resolve(recordings);
  const recordingsIndex = (): Promise<OffsetIndex<RecordingEntry>> =>
    (recordingsLoaded ??= (async () => {
      try {
        await loadRecordings();
        if (closed) throw new Error('the store was closed');
        await attachReader(recordings);
      } catch (err) {
        throw storeIoError('read the state in', stateDir, err);
      }
      return recordings;
    })());

  const writable = (what: string): { index: Journal; recordings: Journal; quarantine: Journal } => {
    if (!journals) throw new RcbsError('RCBS_STORE_IO', `cannot ${what}: the store of ${targetDir} is open read-only or closed`, { path: targetDir });
    return journals;
  };

  const resolve = (relPath: string): string => {
    const abs = path.resolve(targetDir, relPath);
    const rel = path.relative(targetDir, abs);
    if (relPath.includes('\0') || rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) {
      throw new RcbsError('RCBS_UNSAFE_NAME', `the path ${JSON.stringify(relPath)} would land outside the target folder ${targetDir}; nothing was written`, { path: relPath, targetDir });
    }
    return abs;
  };

  const store: Store = {
    targetDir,
    readOnly,

    recordingDir(recording: Recording): string {
      const id = recordingId(recording) ?? '(no id)';
      const tenant = safeName(tenantOf(recording), `tenant of recording ${id}`);
      const start = parseGwsTime(recording.startTime) ?? parseGwsTime(mediaFilesOf(recording)[0]?.startTime);
      if (start === undefined) {
        throw new RcbsError('RCBS_UNSAFE_NAME', `recording ${id} has no usable startTime (${JSON.stringify(recording.startTime ?? null)}), so its folder cannot be computed`, { recordingId: id, field: 'startTime' });
      }
      return [tenant, ...renderFolder(folderSegments, start)].join('/');
    },

    mediaFileName: (mediaId) => safeName(mediaId, 'mediaId') + '.bin',
    recordingFileName: (id) => safeName(id, 'recording id') + '.json',
    resolve,

    getMedia: (mediaId) => media.get(mediaId),

    async doneMedia(mediaId) {
      const entry = await media.get(mediaId);
      if (!entry) return undefined;
      let file: string;
      try {
        file = resolve(entry.path);
      } catch {
        return undefined;
      }
      // The guide: a file moved away from targetDir is downloaded again.
      const s = await stat(file).catch(() => undefined);
      return s !== undefined && s.isFile() && s.size === entry.size ? entry : undefined;
    },

    isMediaDone: async (mediaId) => (await store.doneMedia(mediaId)) !== undefined,

    async recordMedia(entry) {
      resolve(entry.path);
      const offset = await writable('record a media file').index.append(entry);
      await media.set(entry.mediaId, offset);
    },

    getRecording: async (id) => (await recordingsIndex()).get(id),

    async recordRecording(entry) {
      resolve(entry.path);
      const offset = await writable('record a recording').recordings.append(entry);
      await recordings.set(entry.recordingId, offset);
    },

    allMedia: () => latestEntries(media, parseIndexEntry),
    allRecordings: async function* () {
      yield* latestEntries(await recordingsIndex(), parseRecordingEntry);
    },

    async writeFileAtomic(relPath, data, mode) {
      writable('write a file');
      await writeAtomic(resolve(relPath), data, { mode, temps });
    },

    async createAtomicWrite(relPath, mode, writeOptions: AtomicWriteOptions = {}): Promise<AtomicWriteHandle> {
      writable('write a file');
      if (writeOptions.resumeFrom !== undefined) resolve(writeOptions.resumeFrom);
      return createAtomicWriter(resolve(relPath), { mode, resumeFrom: writeOptions.resumeFrom, temps });
    },

    async findPartial(relPath) {
      const [largest] = await temps.leftoversOf(resolve(relPath));
      return largest;
    },

    async quarantine(entry: QuarantineEntry) {
      const id = entry.recording !== null && typeof entry.recording === 'object' ? recordingId(entry.recording as Recording) : undefined;
      const fingerprint = quarantineFingerprint(entry);
      if (quarantined.has(fingerprint)) {
        log.warn('record still quarantined (already in quarantine.ndjson)', { recordingId: id, code: entry.code, reason: entry.reason });
        return;
      }
      await writable('quarantine a record').quarantine.append({ quarantinedAt: new Date().toISOString(), recordingId: id, ...entry });
      quarantined.add(fingerprint);
      log.warn('record quarantined', { recordingId: id, code: entry.code, reason: entry.reason });
    },

    async readLastRecordingEndTime() {
      const file = statePath(LAST_END_TIME);
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw storeIoError('read', file, err);
      });
      if (text === undefined) return undefined;
      const value = text.trim();
      if (!/^\d+$/.test(value)) {
        // Written atomically, so this is not a crash: someone edited it. Guessing could skip recordings.
        throw new RcbsError('RCBS_STORE_IO', `${file} holds ${JSON.stringify(value.slice(0, 40))}, not epoch milliseconds; fix it or delete it (the window then starts maxAge ago)`, { path: file });
      }
      return Number(value);
    },

    async writeLastRecordingEndTime(epochMs) {
      if (!Number.isSafeInteger(epochMs) || epochMs < 0) throw new RcbsError('RCBS_INTERNAL', `refusing to write last_recording_endtime ${epochMs}: not epoch milliseconds`);
      writable('write last_recording_endtime.txt');
      await writeAtomic(statePath(LAST_END_TIME), String(epochMs), { temps });
    },

    async close() {
      closed = true;
      const open = journals;
      journals = undefined;
      try {
        if (open) await Promise.all([open.index.close(), open.recordings.close(), open.quarantine.close()]);
        await Promise.all(readers.splice(0).map((r) => r.close()));
      } finally {
        await lock?.release();
      }
    },
  };
  return store;
}
