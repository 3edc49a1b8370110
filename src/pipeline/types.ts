// The component model (STYLE.md): `create(options, context) => (records) => records`,
// where records is a highland stream of PipelineRecord. A source ignores its input
// and returns a fresh stream; transforms and sinks map the stream. Sinks pass every
// record on, annotated with its outcome, so several sinks chain and the runner
// sees the end result (for --ndjson and the summary).

import type { JSONSchemaType } from 'ajv';
import type { Readable, Writable } from 'node:stream';
import type { ProgressEvent } from './report.js';
import type { RcbsConfig, Credentials } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import type { RecordingWindow } from '../config/window.js';
import type { RcbsError } from '../errors.js';

/** A recording's metadata exactly as received from GWS (unknown fields kept). */
export type Recording = Record<string, unknown>;

export type RecordStatus = 'pending' | 'done' | 'skipped' | 'failed' | 'interrupted';

/**
 * What became of one wanted media file (set through src/pipeline/outcome.ts):
 * pending (nobody acted yet), planned (dry run), downloaded, adopted (already at its
 * final path, verified against the object, not downloaded), skipped (already backed
 * up), archived (S3 has it in an archive tier: restore first), interrupted (the run
 * stopped before it was done), failed.
 */
export type MediaStatus = 'pending' | 'planned' | 'downloaded' | 'adopted' | 'skipped' | 'archived' | 'interrupted' | 'failed';

/** A coded problem: what happened, in words an operator can act on. */
export interface Problem {
  code: string;
  message: string;
}

export interface MediaOutcome {
  mediaId: string;
  type?: string;
  status: MediaStatus;
  /** Path relative to targetDir. */
  path?: string;
  bytes?: number;
  /** How the file was checked against its S3 object (e.g. md5, crc64nvme, size). */
  verifiedBy?: string;
  /** Path of the decrypted copy, relative to decryptDir. */
  decrypted?: string;
  /** True when this run wrote the decrypted copy (not found already there). */
  decryptedNow?: boolean;
  /** True when the verify sink checked this file in this run. */
  verified?: boolean;
  error?: Problem;
}

/** A problem of one record, or of one of its media files when mediaId is set. */
export interface RecordError extends Problem {
  component: string;
  mediaId?: string;
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
  errors: RecordError[];
  /** Set by `select`: the row this record now stands for (fields in output order). Sinks
   * that write data (`file`, `ndjson`) write the row instead of the recording; the
   * recording and its outcome stay for the summary and the failures list. */
  row?: Record<string, unknown>;
}

export type RecordStream = Highland.Stream<PipelineRecord>;
/** A source's RecordFn may carry the time window it covers (sourceWithWindow), so the
 * runner can advance last_recording_endtime.txt when every item of it is done. */
export type RecordFn = ((records: RecordStream) => RecordStream) & { readonly window?: RecordingWindow };

export type ComponentKind = 'source' | 'transform' | 'sink';

/** Why a record left the pipeline before its end (it then never holds the checkpoint back). */
export interface DropReason {
  /** quarantined: invalid, written to quarantine.ndjson (SPEC §5); filtered: not wanted here
   * (another instance's shard, no wanted media type, a filter condition). */
  kind: 'quarantined' | 'filtered';
  code?: string;
  message: string;
}

/** A failed item that is not a record passing through (a bad NDJSON line, an orphan file). */
export interface ItemFailure extends Problem {
  recordingId?: string;
  mediaId?: string;
}

/**
 * What the runner hands each component as `self`: the only way a component reports
 * what the records flowing through it cannot carry. Components never see run totals;
 * the runner derives them (src/pipeline/outcome.ts).
 */
export interface ComponentEvents {
  readonly name: string;
  /** Records taken in and passed on (counted by the runner). */
  in: number;
  out: number;
  /** Records that left the pipeline here, each with a reason (drop()). */
  readonly dropped: number;
  readonly droppedBy: Readonly<Record<DropReason['kind'], number>>;
  /** Items that failed here without a record to carry the failure. */
  readonly failures: readonly ItemFailure[];
  /** This record leaves the pipeline here, for this reason. */
  drop(record: PipelineRecord, reason: DropReason): void;
  /** An item that is not a record failed (it holds the checkpoint back like a failed record). */
  fail(failure: ItemFailure): void;
}

export interface RunContext {
  readonly config: Readonly<RcbsConfig>;
  /** Where each config key's value came from ("defaults", "config.properties line 3",
   * "--set"…): lets a component tell a setting the operator made from a default. */
  readonly configSources: Readonly<Record<string, string>>;
  readonly credentials: Readonly<Credentials>;
  readonly log: Logger;
  /** Aborted on SIGINT/SIGTERM, or by stopRun(): stop taking new work, finish or clean up in-flight work. */
  readonly signal: AbortSignal;
  readonly dryRun: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Epoch ms fixed once at the start of the run (SPEC §3). */
  readonly now: number;
  readonly stdin: Readable;
  readonly stdout: Writable;
  /** Opens (and locks) the target store once; later calls return the same store. */
  store(): Promise<Store>;
  /**
   * A failure that is not one item's (credentials rejected mid-run, S3 or GWS
   * unreachable after retries, targetDir full): the run stops taking work at once,
   * in-flight work is finished or cleaned up as on Ctrl-C, and the run ends with this
   * error's exit code and one message instead of a cascade of per-item failures.
   * The first call wins.
   */
  stopRun(error: RcbsError): void;
  /** The error given to stopRun, if any. */
  readonly stopError: RcbsError | undefined;
  /** Feeds the progress line (src/pipeline/report.ts): bytes, files, recordings and
   * expectBytes (sizes of work known to be coming) add up; `planned` says all work is
   * known, after which the ETA is computed from bytes. */
  progress(event: ProgressEvent): void;
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
  /** True for sinks that move media bytes in bulk (s3-download): the run's heap policy is
   * then src/heap.ts's TRANSFER_HEAP_POLICY. */
  movesMedia?: boolean;
  /** JSON Schema of `with` options; checked once at load, options frozen afterwards. */
  options: JSONSchemaType<O> | Record<string, unknown>;
  /** A step using it, for docs/components.md: its `with`, and what it does in words. */
  example?: { with: Record<string, unknown>; says: string };
  /** Checks beyond the schema (a regex that does not compile, a bad path template), at
   * load with the rest, so `rcbs validate` reports them: each problem as
   * `<JSON pointer under with>: <what is wrong>` (`/all/1/regex: …`). */
  check?(options: O): string[];
  /** Declares that one record in may become several out (select's flatten): the runner
   * then does not hold it to records in = records out + dropped. */
  fansOut?: boolean;
  /** Starts the component's network round trips (s3-download's GWS settings call) before any
   * component is created, so they are on their way while code loads; create() takes up what
   * it started. Must not throw or reject: create() reports the failure. */
  prepare?(options: O, context: RunContext): void;
  create(options: O, context: RunContext, self: ComponentEvents): RecordFn | Promise<RecordFn>;
}

export function defineComponent<O>(def: ComponentDef<O>): ComponentDef<O> {
  return def;
}

/** A source's records together with the time window they cover. */
export function sourceWithWindow(records: (input: RecordStream) => RecordStream, window: RecordingWindow): RecordFn {
  return Object.assign(records, { window });
}

/** A new record as a source emits it.
 *
 * Records are extended and copied with Object.assign, never an object spread: in a source's async
 * generator, `{ ...newRecord(recording), dir, json, media }` sent ~26 MB more to V8's old
 * generation over a 50k export (garbage only a full GC frees), and select's per-file copy
 * `{ ...record, … }` ~20 MB (BENCHMARKS.md, issue 14 run 9; bench/spread-promotion.mjs). */
export function newRecord(recording: Recording): PipelineRecord {
  return { recording, status: 'pending', media: [], errors: [] };
}

/** The overall outcome once a record has been through its sinks: failed if anything
 * failed (or is archived), interrupted if the run stopped before some media were done, skipped if every media file was already there and nothing was written, else done. */
export function settleStatus(record: PipelineRecord): RecordStatus {
  if (record.status === 'pending') {
    if (record.errors.length > 0 || record.media.some((m) => m.status === 'failed' || m.status === 'archived')) record.status = 'failed';
    else if (record.media.some((m) => m.status === 'interrupted')) record.status = 'interrupted';
    else if (record.media.length > 0 && record.media.every((m) => m.status === 'skipped') && !record.written) record.status = 'skipped';
    else record.status = 'done';
  }
  return record.status;
}
