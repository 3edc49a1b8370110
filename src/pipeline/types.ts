// The component model (STYLE.md): `create(options, context) => (records) => records`,
// where records is a highland stream of PipelineRecord. A source ignores its input
// and returns a fresh stream; transforms and sinks map the stream. Sinks pass every
// record on, annotated with its outcome, so several sinks chain and the runner
// sees the end result (for --ndjson and the summary).

import type { JSONSchemaType } from 'ajv';
import type { Readable, Writable } from 'node:stream';
import type { RcbsConfig, Credentials } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import type { RecordingWindow } from '../config/window.js';

/** A recording's metadata exactly as received from GWS (unknown fields kept). */
export type Recording = Record<string, unknown>;

export type RecordStatus = 'pending' | 'done' | 'skipped' | 'failed';

export type MediaStatus = 'pending' | 'downloaded' | 'skipped' | 'failed' | 'planned';

export interface MediaOutcome {
  mediaId: string;
  type?: string;
  status: MediaStatus;
  /** Path relative to targetDir. */
  path?: string;
  bytes?: number;
  decrypted?: string;
  error?: { code: string; message: string };
}

export interface PipelineRecord {
  recording: Recording;
  status: RecordStatus;
  /** Outcome per wanted media file (filled by media-type, dedupe, s3-download, decrypt). */
  media: MediaOutcome[];
  /** Folder relative to targetDir, set once the store has computed a safe path. */
  dir?: string;
  /** Set by json-writer: path of the JSON relative to targetDir. */
  json?: string;
  /** Set by json-writer when it (re)wrote the JSON in this run. */
  written?: boolean;
  errors: Array<{ component: string; code: string; message: string }>;
}

export type RecordStream = Highland.Stream<PipelineRecord>;
export type RecordFn = (records: RecordStream) => RecordStream;

export type ComponentKind = 'source' | 'transform' | 'sink';

export interface Counters {
  in: number;
  out: number;
  dropped: number;
  failed: number;
}

/** Run-wide tallies for the summary and the exit code. */
export interface RunTotals {
  recordings: number;
  downloaded: number;
  skipped: number;
  failed: number;
  quarantined: number;
  dropped: number;
  /** Media files decrypted (decrypt sink) and checked (verify sink) in this run. */
  decrypted: number;
  verified: number;
  bytes: number;
  /** Failures listed at the end of the run: what, which, why. */
  failures: Array<{ recordingId?: string; mediaId?: string; code: string; message: string }>;
}

export interface RunContext {
  readonly config: Readonly<RcbsConfig>;
  readonly credentials: Readonly<Credentials>;
  readonly log: Logger;
  /** Aborted on SIGINT/SIGTERM: stop taking new work, finish or clean up in-flight work. */
  readonly signal: AbortSignal;
  readonly dryRun: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Epoch ms fixed once at the start of the run (SPEC §3). */
  readonly now: number;
  readonly stdin: Readable;
  readonly stdout: Writable;
  /** Opens (and locks) the target store once; later calls return the same store. */
  store(): Promise<Store>;
  /** Per-component counters; a component's own entry is created by the runner. */
  readonly counters: Map<string, Counters>;
  readonly totals: RunTotals;
  /** Set by a source that queries a time window, so the runner can advance
   * last_recording_endtime.txt when every item of the window is done. */
  window?: RecordingWindow;
  /** Feeds the progress line: bytes, files and recordings add up; fraction (0..1, how far
   * through the work) drives the ETA. */
  progress(event: { bytes?: number; files?: number; recordings?: number; fraction?: number }): void;
}

export interface ComponentDef<O = Record<string, unknown>> {
  kind: ComponentKind;
  /** Sources and sinks are nouns (gws-recordings), transforms verbs (dedupe). */
  name: string;
  description: string;
  /** Config keys the component cannot work without: checked with the pipeline, before
   * anything is opened or written (`rcbs validate` reports them too). */
  requiresConfig?: ReadonlyArray<keyof RcbsConfig>;
  /** Checks of the config and options together (keys that need each other), run with the
   * pipeline like requiresConfig, so `validate` and `--dry-run` report them; throws RcbsError. */
  checkConfig?(options: O, config: Readonly<RcbsConfig>): void;
  /** True for sinks that write the backup into targetDir: only a pipeline with one
   * advances last_recording_endtime.txt (an NDJSON-only export must not). */
  writesTarget?: boolean;
  /** JSON Schema of `with` options; checked once at load, options frozen afterwards. */
  options: JSONSchemaType<O> | Record<string, unknown>;
  create(options: O, context: RunContext, self: Counters): RecordFn | Promise<RecordFn>;
}

export function defineComponent<O>(def: ComponentDef<O>): ComponentDef<O> {
  return def;
}

/** A new record as a source emits it. */
export function newRecord(recording: Recording): PipelineRecord {
  return { recording, status: 'pending', media: [], errors: [] };
}

/** The overall outcome once a record has been through its sinks: failed if anything
 * failed, skipped if every media file was already there and nothing was written, else done. */
export function settleStatus(record: PipelineRecord): RecordStatus {
  if (record.status === 'pending') {
    if (record.errors.length > 0 || record.media.some((m) => m.status === 'failed')) record.status = 'failed';
    else if (record.media.length > 0 && record.media.every((m) => m.status === 'skipped') && !record.written) record.status = 'skipped';
    else record.status = 'done';
  }
  return record.status;
}
