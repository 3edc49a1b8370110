// Outcomes as data (the one place that decides them). Components record what became
// of a record or a media file ON THE RECORD through the functions below, and report
// what no record can carry (a drop, a failed item that is not a record) through their
// ComponentEvents (`self`). They never touch run totals: the runner folds every
// record that reaches the end, and every component's events, into RunTotals with
// tallyRecord/tallyComponent, and derives the summary, the exit code and the
// checkpoint from those totals alone. A sink that forgets to report a failure cannot
// move the checkpoint past it: a record that vanishes without a drop is caught by the
// runner's records-in = records-out + dropped check.

import type { RcbsError } from '../errors.js';
import { folderWideError } from '../store/fs-errors.js';
import type { ComponentEvents, DropReason, ItemFailure, MediaOutcome, PipelineRecord, Problem, RunContext } from './types.js';
import { recordingId } from '../recording.js';

/** A failure as listed at the end of a run and in the run report. */
export interface Failure extends ItemFailure {
  component: string;
}

/** Run-wide tallies for the summary, the exit code and the run report. */
export interface RunTotals {
  /** Records the source emitted. */
  recordings: number;
  downloaded: number;
  /** Files already at their final path, verified and taken into the index without a download. */
  adopted: number;
  skipped: number;
  /** Items that failed (media files, records, or items that are not records). */
  failed: number;
  /** Media in an archive tier (403 InvalidObjectState): listed apart, hold the checkpoint back. */
  archived: number;
  /** Media (or records' own steps) the run stopped before (Ctrl-C, a run-stopping failure): not started or cut short. */
  interrupted: number;
  quarantined: number;
  dropped: number;
  /** Media files decrypted (decrypt sink) and checked (verify sink) in this run. */
  decrypted: number;
  verified: number;
  bytes: number;
  /** How many downloaded or adopted files were checked by which method (md5, crc64nvme, size…). */
  verifiedBy: Record<string, number>;
  /** What failed: what, which, why. */
  failures: Failure[];
  /** What is archived, with the message saying how to restore it. */
  archivedMedia: Failure[];
}

export function emptyTotals(): RunTotals {
  return {
    recordings: 0, downloaded: 0, adopted: 0, skipped: 0, failed: 0, archived: 0, interrupted: 0,
    quarantined: 0, dropped: 0, decrypted: 0, verified: 0, bytes: 0, verifiedBy: {}, failures: [], archivedMedia: [],
  };
}

/** Whether these totals allow the checkpoint to move: nothing failed, nothing archived, nothing cut short. */
export function allItemsDone(totals: RunTotals): boolean {
  return totals.failed === 0 && totals.archived === 0 && totals.interrupted === 0;
}

const INTERRUPTED = 'RCBS_ABORTED';

/**
 * What an item's error means for the run. A failure that is the whole run's (a full
 * or read-only target folder, and whatever `runWide` recognises, e.g. credentials S3
 * rejects) stops the run through context.stopRun, and the item itself is then only
 * interrupted (as are the items in flight that meet the same failure). Otherwise the
 * error is the item's own problem.
 */
export function itemProblem(context: Pick<RunContext, 'stopRun'>, error: RcbsError, runWide: (error: RcbsError) => RcbsError | undefined = folderWideError): Problem {
  const stop = runWide(error);
  if (!stop) return { code: error.code, message: error.message };
  context.stopRun(stop);
  return { code: INTERRUPTED, message: error.message };
}

/**
 * A media file did not make it. An interruption (RCBS_ABORTED: the run was stopped)
 * is not the file's failure: it is marked interrupted and not listed.
 */
export function failMedia(record: PipelineRecord, media: MediaOutcome, component: string, problem: Problem): void {
  media.error = { code: problem.code, message: problem.message };
  if (problem.code === INTERRUPTED) {
    media.status = 'interrupted';
    return;
  }
  media.status = 'failed';
  record.status = 'failed';
  record.errors.push({ component, code: problem.code, message: problem.message, mediaId: media.mediaId });
}

/** A media file is in an archive tier: restore it first (SPEC §5). Not retried, listed apart. */
export function archiveMedia(record: PipelineRecord, media: MediaOutcome, component: string, problem: Problem): void {
  media.status = 'archived';
  media.error = { code: problem.code, message: problem.message };
  record.status = 'failed';
  record.errors.push({ component, code: problem.code, message: problem.message, mediaId: media.mediaId });
}

/** The run stopped before this record's step was done (e.g. its JSON was not written):
 * not a failure of its own, the next run does it. */
export function interruptRecord(record: PipelineRecord): void {
  if (record.status === 'pending') record.status = 'interrupted';
}

/** A step on the record (or on one of its media files, with mediaId) failed after the media
 * outcome was settled, e.g. its JSON could not be written or a file does not decrypt. */
export function failRecord(record: PipelineRecord, component: string, problem: Problem & { mediaId?: string }): void {
  record.status = 'failed';
  record.errors.push({ component, code: problem.code, message: problem.message, ...(problem.mediaId !== undefined ? { mediaId: problem.mediaId } : {}) });
}

/** Whether a media file is where the backup needs it (or, in a dry run, planned to be). */
export function mediaInPlace(media: MediaOutcome): boolean {
  return media.status === 'downloaded' || media.status === 'adopted' || media.status === 'skipped' || media.status === 'planned';
}

/** The ComponentEvents the runner gives a component (tests build one the same way). */
export function componentEvents(name: string): ComponentEvents {
  const droppedBy: Record<DropReason['kind'], number> = { quarantined: 0, filtered: 0 };
  const failures: ItemFailure[] = [];
  let dropped = 0;
  return {
    name,
    in: 0,
    out: 0,
    get dropped() {
      return dropped;
    },
    droppedBy,
    failures,
    drop(_record, reason) {
      dropped++;
      droppedBy[reason.kind]++;
    },
    fail(failure) {
      failures.push({ ...failure });
    },
  };
}

/** Folds one record that reached the end of the pipeline into the totals. */
export function tallyRecord(totals: RunTotals, record: PipelineRecord): void {
  const id = recordingId(record.recording);
  for (const media of record.media) {
    switch (media.status) {
      case 'downloaded':
      case 'adopted':
        totals[media.status]++;
        if (media.status === 'downloaded') totals.bytes += media.bytes ?? 0;
        if (media.verifiedBy) totals.verifiedBy[media.verifiedBy] = (totals.verifiedBy[media.verifiedBy] ?? 0) + 1;
        break;
      case 'skipped':
        // A file the verify or decrypt sink worked on is counted there, not as skipped.
        if (!media.verified && !media.decryptedNow) totals.skipped++;
        break;
      case 'interrupted':
        totals.interrupted++;
        break;
      default:
        break;
    }
    if (media.decryptedNow) totals.decrypted++;
    if (media.verified) totals.verified++;
  }
  if (record.status === 'interrupted' && !record.media.some((m) => m.status === 'interrupted')) totals.interrupted++;
  for (const error of record.errors) {
    const failure: Failure = { component: error.component, ...(id !== undefined ? { recordingId: id } : {}), ...(error.mediaId !== undefined ? { mediaId: error.mediaId } : {}), code: error.code, message: error.message };
    const media = error.mediaId === undefined ? undefined : record.media.find((m) => m.mediaId === error.mediaId);
    if (media?.status === 'archived') {
      totals.archived++;
      totals.archivedMedia.push(failure);
    } else {
      totals.failed++;
      totals.failures.push(failure);
    }
  }
}

/** Folds a component's own events (drops, failed items that are not records) into the totals. */
export function tallyComponent(totals: RunTotals, events: ComponentEvents): void {
  totals.quarantined += events.droppedBy.quarantined;
  totals.dropped += events.droppedBy.filtered;
  for (const failure of events.failures) {
    totals.failed++;
    totals.failures.push({ component: events.name, ...failure });
  }
}

/** Totals of records and components outside a run (component tests, `rcbs verify` helpers). */
export function tallyRun(records: Iterable<PipelineRecord>, components: Iterable<ComponentEvents> = []): RunTotals {
  const totals = emptyTotals();
  for (const record of records) tallyRecord(totals, record);
  for (const events of components) tallyComponent(totals, events);
  return totals;
}
