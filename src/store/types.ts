// The one home of state that survives a run (STYLE.md): the SPEC §5 layout under
// targetDir, the index, the lock, quarantine, last_recording_endtime.txt.
// Components reach it through RunContext.store(); nothing else touches .rcbs/.

import type { Recording } from '../pipeline/types.js';

/** One line of .rcbs/index.ndjson: a media file that was completely written. */
export interface IndexEntry {
  recordingId: string;
  mediaId: string;
  /** Path relative to targetDir, forward slashes. */
  path: string;
  size: number;
  /** Hex MD5 of the file as written (the encrypted bytes). */
  md5: string;
  etag?: string;
  /** How the download was proved to be the S3 object: a checksum method (crc64nvme, crc32,
   * crc32c, sha1, sha256), etag-md5 or size. Absent in lines written before it existed. */
  verifiedBy?: string;
  /** The object's full-object checksum (base64) when verifiedBy is a checksum method. */
  checksum?: string;
  completedAt: number;
}

/** One line of .rcbs/recordings.ndjson: a recording whose JSON was written. */
export interface RecordingEntry {
  recordingId: string;
  /** Path of <id>.json relative to targetDir. */
  path: string;
  /** mediaIds the written JSON lists, to notice late media. */
  mediaIds: string[];
  /** sha256 of the JSON as written, to skip identical rewrites. */
  sha256: string;
  writtenAt: number;
}

export interface QuarantineEntry {
  reason: string;
  code: string;
  recording: unknown;
}

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: number;
}

export interface AtomicWriteHandle {
  /** The temp file path (same folder as the final path). */
  readonly tempPath: string;
  readonly finalPath: string;
  /** Bytes already in the temp file: 0 for a new write, the partial size when resumed. */
  readonly resumedBytes: number;
  /** fsync + rename to the final name. Close your own write stream on tempPath first.
   * `synced: true` when the writer already fsynced the temp file through its own handle
   * (saves reopening it: bench/BACKUP-RESULTS.md). */
  commit(options?: { synced?: boolean }): Promise<void>;
  /** Removes the temp file (idempotent). */
  abort(): Promise<void>;
}

export interface AtomicWriteOptions {
  /** Absolute tempPath of a partial file from findPartial, to append to it. */
  resumeFrom?: string;
}

export interface Store {
  readonly targetDir: string;
  /** Opened to read only (dry run, export, verify, find): nothing may be written. */
  readonly readOnly: boolean;
  /** Folder of a recording relative to targetDir: <tenant>/<recordingFolderFormat(startTime UTC)>.
   * Throws RcbsError RCBS_UNSAFE_NAME when a name cannot be made safe. */
  recordingDir(recording: Recording): string;
  /** Sanitised file name for a media file: <mediaId>.bin. Throws RCBS_UNSAFE_NAME. */
  mediaFileName(mediaId: string): string;
  /** Sanitised <recording id>.json. Throws RCBS_UNSAFE_NAME. */
  recordingFileName(recordingId: string): string;
  /** Absolute path for a path relative to targetDir; refuses anything outside targetDir. */
  resolve(relPath: string): string;

  /** Index: media completed (the latest line of the media id, read from index.ndjson). */
  getMedia(mediaId: string): Promise<IndexEntry | undefined>;
  /** The index entry when the index says done AND the file is there with the right size (SPEC §5 dedupe). */
  doneMedia(mediaId: string): Promise<IndexEntry | undefined>;
  /** doneMedia as a yes or no. */
  isMediaDone(mediaId: string): Promise<boolean>;
  recordMedia(entry: IndexEntry): Promise<void>;
  getRecording(recordingId: string): Promise<RecordingEntry | undefined>;
  recordRecording(entry: RecordingEntry): Promise<void>;
  /** Every media id's latest entry, streamed from disk. */
  allMedia(): AsyncIterable<IndexEntry>;
  allRecordings(): AsyncIterable<RecordingEntry>;

  /** Writes a whole small file atomically (temp, fsync, rename, fsync dir). */
  writeFileAtomic(relPath: string, data: string | Uint8Array, mode?: number): Promise<void>;
  /** Opens a temp file beside relPath for streaming writes; commit() renames it.
   * The temp file exists (empty) on return: open it for append ('a').
   * With `resumeFrom` (a tempPath from findPartial), reopens that partial file
   * instead, keeping its bytes (resumedBytes). Other leftover temp files of the
   * same final file are removed. */
  createAtomicWrite(relPath: string, mode?: number, options?: AtomicWriteOptions): Promise<AtomicWriteHandle>;
  /** The largest temp file a crashed or interrupted run left for relPath, to resume
   * it (pass tempPath as resumeFrom). Its bytes are unverified: check them. */
  findPartial(relPath: string): Promise<{ tempPath: string; size: number } | undefined>;

  quarantine(entry: QuarantineEntry): Promise<void>;

  readLastRecordingEndTime(): Promise<number | undefined>;
  writeLastRecordingEndTime(epochMs: number): Promise<void>;

  /** Flushes and releases the lock. */
  close(): Promise<void>;
}
