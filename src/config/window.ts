// The time window of a run (SPEC §3). Pure: `now` and the stored
// last_recording_endtime are inputs, so every rule is table-testable.
// Durations are plain milliseconds (duration.ts: Y = 365 days, M = 30 days).

import { RcbsError } from '../errors.js';
import { formatIsoDuration, formatTime } from './duration.js';
import type { RcbsConfig } from './types.js';

export interface TimeSlice {
  /** inclusive, epoch ms */
  start: number;
  /** exclusive, epoch ms */
  end: number;
}

export interface RecordingWindow {
  /** Lower bound (oldest), inclusive, epoch ms; 0 when there is none (maxAge 0). */
  start: number;
  /** Upper bound (newest), exclusive, epoch ms: what last_recording_endtime.txt gets. */
  end: number;
  /** shardBy slices of [start, end), oldest first. */
  slices: TimeSlice[];
  /** Human explanation of how each bound was chosen (for --dry-run and logs). */
  reasons: string[];
}

/** More slices than this and they are widened: a query per minute over years helps nobody. */
export const MAX_SLICES = 100_000;

type WindowConfig = Pick<RcbsConfig, 'minAge' | 'maxAge' | 'minDate' | 'maxDate' | 'overlap' | 'shardBy' | 'skipLastRecordingCheck'>;

/**
 * The recording window for a run started at `now`, given the epoch ms stored in
 * last_recording_endtime.txt when that file exists. Throws RCBS_CONFIG_INVALID when
 * the settings describe an empty window (for example minDate older than now − maxAge):
 * a run that silently fetched nothing would look like a successful backup.
 */
export function computeWindow(config: WindowConfig, now: number, lastRecordingEndTime?: number): RecordingWindow {
  const reasons: string[] = [];

  let end: number;
  if (config.minDate !== undefined) {
    end = config.minDate;
    reasons.push(`upper bound ${formatTime(end)}: minDate`);
  } else {
    end = now - config.minAge;
    reasons.push(`upper bound ${formatTime(end)}: now (${formatTime(now)}) − minAge ${formatIsoDuration(config.minAge)}`);
  }

  let start: number;
  if (config.maxDate !== undefined) {
    start = config.maxDate;
    reasons.push(`lower bound ${formatTime(start)}: maxDate`);
  } else if (config.maxAge === 0) {
    start = 0;
    reasons.push('no lower bound: maxAge 0 means any age');
  } else {
    start = Math.max(0, now - config.maxAge);
    reasons.push(`lower bound ${formatTime(start)}: now − maxAge ${formatIsoDuration(config.maxAge)}`);
  }

  // Reading of SPEC §3 and the guide: skipLastRecordingCheck=true means the file "is
  // not processed" and maxDate "overrides" it, so in both cases the file is ignored
  // entirely: no catch-up and no overlap. Otherwise an existing file brings both.
  if (lastRecordingEndTime !== undefined) {
    if (config.skipLastRecordingCheck) {
      reasons.push('last_recording_endtime.txt ignored: skipLastRecordingCheck=true (no catch-up, no overlap)');
    } else if (config.maxDate !== undefined) {
      reasons.push('last_recording_endtime.txt ignored: maxDate is set (no catch-up, no overlap)');
    } else {
      if (lastRecordingEndTime < start) {
        start = Math.max(0, lastRecordingEndTime);
        reasons.push(`lower bound moved back to ${formatTime(start)}: last_recording_endtime.txt is older than the lower bound (catch-up after missed runs)`);
      }
      if (config.overlap > 0 && start > 0) {
        start = Math.max(0, start - config.overlap);
        reasons.push(`lower bound moved back by overlap ${formatIsoDuration(config.overlap)} to ${formatTime(start)}: re-scan for late media`);
      }
    }
  }

  if (start >= end) {
    throw new RcbsError(
      'RCBS_CONFIG_INVALID',
      `the recording window is empty: the lower bound ${formatTime(start)} is not older than the upper bound ${formatTime(end)} (${reasons.join('; ')}). ` +
        'Use minDate with maxDate (or maxAge=0), or minAge with maxAge, so that the oldest bound comes first.',
      { start, end, reasons },
    );
  }

  return { start, end, slices: sliceWindow(start, end, config.shardBy, reasons), reasons };
}

function sliceWindow(start: number, end: number, shardBy: number, reasons: string[]): TimeSlice[] {
  if (start === 0) {
    // No lower bound: slicing back to 1970 would send tens of thousands of empty
    // queries; one query is enough, the GWS source pages it and halves a slice
    // whose results are capped (SPEC §4).
    reasons.push('one query for the whole window: it has no lower bound');
    return [{ start, end }];
  }
  const length = end - start;
  if (shardBy <= 0 || length <= shardBy) {
    // Guide: "If the minAge and maxAge value is smaller than the shardBy value, the shardBy value will be ignored."
    reasons.push(shardBy <= 0 ? 'one query for the whole window: shardBy is 0' : `one query for the whole window: it is not longer than shardBy ${formatIsoDuration(shardBy)}`);
    return [{ start, end }];
  }
  let step = shardBy;
  if (Math.ceil(length / step) > MAX_SLICES) {
    step = Math.ceil(length / MAX_SLICES);
    reasons.push(`shardBy ${formatIsoDuration(shardBy)} would make more than ${MAX_SLICES} queries: slices widened to ${formatIsoDuration(step)}`);
  }
  const slices: TimeSlice[] = [];
  for (let from = start; from < end; from += step) slices.push({ start: from, end: Math.min(from + step, end) });
  reasons.push(`${slices.length} queries of ${formatIsoDuration(step)} (shardBy), oldest first; the last ends at the upper bound`);
  return slices;
}
