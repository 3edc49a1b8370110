// What a person watching the run sees on stderr: a one-line progress display on
// a TTY (or with --progress), and at the end a summary like the original tool's
// (downloaded / skipped / failed / quarantined, bytes, time, rate) with the
// per-component counters and the list of failures.

import type { RunContext } from './types.js';
import type { RcbsError } from '../errors.js';
import type { RunOutcome } from './runner.js';
import { allItemsDone, type Failure } from './outcome.js';
import type { Stderr } from '../log.js';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A run's elapsed time or ETA for people: "850 ms", "12.4 s", "1 min 3 s", "2 h 5 min". */
export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export interface ProgressEvent {
  bytes?: number;
  /** Media files downloaded (or verified, or decrypted by `rcbs decrypt`). */
  files?: number;
  /** Media files the decrypt sink decrypted: counted apart, so a backup with decryptDir
   * does not show each recording's file twice under "files". */
  decrypted?: number;
  recordings?: number;
  /** Bytes of work now known to be coming (a media file's size, a file to decrypt). */
  expectBytes?: number;
  /** Every piece of work is known (the component that announces sizes has seen its last record). */
  planned?: boolean;
}

export interface Progress {
  update(event: ProgressEvent): void;
  stop(): void;
}

/** The rate is measured over this much recent time: it follows a slowing link, unlike an average since the start. */
const RATE_WINDOW_MS = 10_000;
/** Before this much transfer time, or this share of the known bytes, a rate says too little for an ETA. */
const ETA_AFTER_MS = 3_000;
const ETA_AFTER_SHARE = 0.02;

/**
 * The ETA, only when it can be right: every piece of work is known (planned), with
 * its size, and the rate has been measured long enough. Otherwise none: an ETA from
 * the time window's share said 4.9 s at the 5 s mark of a 42 s run (issue 13).
 */
export function estimateRemainingMs(state: { bytes: number; expected: number; planned: boolean; rate: number; measuredMs: number }): number | undefined {
  const { bytes, expected, planned, rate, measuredMs } = state;
  if (!planned || expected <= 0 || bytes >= expected || rate <= 0) return undefined;
  if (measuredMs < ETA_AFTER_MS || bytes < expected * ETA_AFTER_SHARE) return undefined;
  return ((expected - bytes) / rate) * 1000;
}

/** One line on the shared stderr, redrawn a few times a second; nothing at all when not enabled. */
export function createProgress(stderr: Stderr, enabled: boolean, now = () => Date.now()): Progress {
  const totals = { bytes: 0, files: 0, decrypted: 0, recordings: 0, expected: 0, planned: false };
  /** (time, bytes so far), oldest first, spanning about RATE_WINDOW_MS. */
  const samples: Array<[number, number]> = [];
  let firstByteAt: number | undefined;
  let countsRecordings = false;
  let timer: NodeJS.Timeout | undefined;
  const render = () => {
    const t = now();
    samples.push([t, totals.bytes]);
    while (samples.length > 2 && t - samples[1]![0] >= RATE_WINDOW_MS) samples.shift();
    const [since, bytesThen] = samples[0]!;
    const rate = t > since ? ((totals.bytes - bytesThen) / (t - since)) * 1000 : 0;
    const remaining = estimateRemainingMs({ ...totals, rate, measuredMs: firstByteAt === undefined ? 0 : t - firstByteAt });
    const of = totals.planned && totals.expected > 0 ? ` of ${formatBytes(totals.expected)}` : '';
    // A folder decrypt has files, no recordings.
    stderr.status(
      `${countsRecordings ? `recordings ${totals.recordings}  ` : ''}files ${totals.files}  ${totals.decrypted > 0 ? `decrypted ${totals.decrypted}  ` : ''}${formatBytes(totals.bytes)}${of}  ${formatBytes(rate)}/s  ETA ${remaining === undefined ? '-' : formatElapsed(Math.round(remaining))}`,
    );
  };
  return {
    update(event) {
      if (!enabled) return;
      if (event.bytes && firstByteAt === undefined) firstByteAt = now();
      totals.bytes += event.bytes ?? 0;
      totals.files += event.files ?? 0;
      totals.decrypted += event.decrypted ?? 0;
      totals.recordings += event.recordings ?? 0;
      if (event.recordings !== undefined) countsRecordings = true;
      totals.expected += event.expectBytes ?? 0;
      if (event.planned) totals.planned = true;
      if (!timer) {
        samples.push([now(), totals.bytes]);
        timer = setInterval(render, 250).unref();
        render(); // at once: a short run shows its line too
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      stderr.status(undefined);
    },
  };
}

/** Failures per component, for the component table. */
function failedBy(outcome: Pick<RunOutcome, 'totals'>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of [...outcome.totals.failures, ...outcome.totals.archivedMedia]) counts.set(f.component, (counts.get(f.component) ?? 0) + 1);
  return counts;
}

function listFailures(lines: string[], title: string, failures: Failure[]): void {
  if (failures.length === 0) return;
  lines.push(`  ${title} (${failures.length}):`);
  for (const f of failures.slice(0, 50)) {
    const what = [f.recordingId && `recording ${f.recordingId}`, f.mediaId && `media ${f.mediaId}`].filter(Boolean).join(' ');
    lines.push(`    - ${what ? what + ': ' : ''}${f.code}: ${f.message}`);
  }
  if (failures.length > 50) lines.push(`    … and ${failures.length - 50} more (see --log-format json)`);
}

export function formatSummary(pipelineName: string, context: Pick<RunContext, 'dryRun' | 'config'>, outcome: Pick<RunOutcome, 'elapsedMs' | 'reason' | 'windowCommitted' | 'window' | 'totals' | 'components' | 'stopError'>): string {
  const t = outcome.totals;
  const seconds = Math.max(outcome.elapsedMs, 1) / 1000;
  const lines: string[] = [];
  const status = outcome.reason === 'stopped' && outcome.stopError ? `stopped (${outcome.stopError.code}: ${outcome.stopError.message})` : runStatus(outcome);
  lines.push(`rcbs ${pipelineName}${context.dryRun ? ' (dry run)' : ''}: ${status} in ${formatElapsed(outcome.elapsedMs)}`);
  const row = (label: string, value: string | number) => lines.push(`  ${label.padEnd(12)} ${value}`);
  row('recordings', t.recordings);
  // Rows for what this pipeline did: a verify or decrypt run downloads nothing.
  if (t.downloaded > 0 || (t.verified === 0 && t.decrypted === 0)) row('downloaded', `${t.downloaded} files, ${formatBytes(t.bytes)}, ${formatBytes(t.bytes / seconds)}/s`);
  if (t.adopted > 0) row('adopted', `${t.adopted} files (already on disk, verified against S3)`);
  const methods = Object.entries(t.verifiedBy).sort(([a], [b]) => a.localeCompare(b));
  if (methods.length > 0) row('checked by', methods.map(([method, n]) => `${method} ${n}`).join(', '));
  if (t.verified > 0) row('verified', `${t.verified} files (size and MD5${context.config.decryptKeys.length ? ', decrypts' : ''})`);
  if (t.decrypted > 0) row('decrypted', `${t.decrypted} files`);
  row('skipped', t.skipped);
  row('failed', t.failed);
  if (t.archived > 0) row('archived', `${t.archived} files (restore them first)`);
  if (t.interrupted > 0) row('not done', `${t.interrupted} files (the run stopped before them; the next run fetches them)`);
  row('quarantined', t.quarantined);
  row('dropped', t.dropped);
  if (outcome.window) {
    const w = outcome.window;
    const iso = (ms: number) => new Date(ms).toISOString();
    row('window', `${w.start ? iso(w.start) : '(no lower bound)'} .. ${iso(w.end)}, ${w.slices.length} slice(s)`);
    row('checkpoint', outcome.windowCommitted ? `last_recording_endtime.txt = ${w.end}` : 'not advanced (the window is not complete)');
  }
  if (outcome.components.length > 0) {
    const failed = failedBy(outcome);
    lines.push(`  ${'component'.padEnd(16)} ${'in'.padStart(8)} ${'out'.padStart(8)} ${'dropped'.padStart(8)} ${'failed'.padStart(8)}`);
    for (const c of outcome.components) {
      lines.push(`  ${c.name.padEnd(16)} ${String(c.in).padStart(8)} ${String(c.out).padStart(8)} ${String(c.dropped).padStart(8)} ${String(failed.get(c.name) ?? 0).padStart(8)}`);
    }
  }
  listFailures(lines, 'failures', t.failures);
  listFailures(lines, 'archived', t.archivedMedia);
  return lines.join('\n');
}

/** The summary line of --log-format json ("msg":"summary"): the run report, with the
 * exit code the process ends with and the first 50 failures (all are in the report file). */
export function summaryFields(report: Record<string, unknown>, exitCode: number): Record<string, unknown> {
  const failures = (report.failures as unknown[] | undefined) ?? [];
  return { ...report, exitCode, failures: failures.slice(0, 50), ...(failures.length > 50 ? { failuresNotListed: failures.length - 50 } : {}) };
}

/** What a run ended as, in one word or two: the status line of the summary and the report. */
export function runStatus(outcome: Pick<RunOutcome, 'reason' | 'totals'>, error?: RcbsError): string {
  if (error && outcome.reason !== 'aborted' && outcome.reason !== 'stopped') return 'failed';
  if (outcome.reason === 'stopped') return 'stopped';
  if (outcome.reason === 'aborted') return 'interrupted';
  if (outcome.reason === 'stdout-closed') return 'stopped (output closed)';
  return allItemsDone(outcome.totals) ? 'finished' : 'finished with failures';
}

export interface RunReportInput {
  command: string;
  pipeline: { name: string; path: string };
  targetDir: string;
  dryRun: boolean;
  startedAt: number;
  outcome: RunOutcome;
  error?: RcbsError;
}

/** The run report (.rcbs/runs/<start>.json): everything a scheduler or monitoring needs
 * to know about the run, machine-readable. Never a secret: errors carry their messages,
 * which never hold one (test/secrets-never-printed). */
export function runReport(input: RunReportInput): Record<string, unknown> {
  const { outcome, error } = input;
  const { failures, archivedMedia, ...counts } = outcome.totals;
  const failed = failedBy(outcome);
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    command: input.command,
    pipeline: input.pipeline.name,
    pipelineFile: input.pipeline.path,
    targetDir: input.targetDir,
    dryRun: input.dryRun,
    startedAt: iso(input.startedAt),
    endedAt: iso(input.startedAt + outcome.elapsedMs),
    durationMs: outcome.elapsedMs,
    status: runStatus(outcome, error),
    exitCode: error ? error.exitCode : outcome.exitCode,
    ...(error ? { error: { code: error.code, message: error.message } } : {}),
    ...(outcome.window
      ? { window: { start: outcome.window.start ? iso(outcome.window.start) : null, end: iso(outcome.window.end), startMs: outcome.window.start, endMs: outcome.window.end, slices: outcome.window.slices.length } }
      : {}),
    checkpoint: outcome.windowCommitted && outcome.window ? { advanced: true, lastRecordingEndTime: outcome.window.end } : { advanced: false },
    totals: counts,
    components: outcome.components.map((c) => ({ name: c.name, in: c.in, out: c.out, dropped: c.dropped, failed: failed.get(c.name) ?? 0 })),
    failures,
    archived: archivedMedia,
  };
}
