// The time window of a run (SPEC §3). Pure: `now` and the stored
// last_recording_endtime are inputs, so every rule is table-testable.
// (Interface fixed here; the computation is being written in this file.)

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
