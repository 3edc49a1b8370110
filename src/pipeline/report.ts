// What a person watching the run sees on stderr: a one-line progress display on
// a TTY (or with --progress), and at the end a summary like the original tool's
// (downloaded / skipped / failed / quarantined, bytes, time, rate) with the
// per-component counters and the list of failures.

import type { RunContext } from './types.js';
import type { RunOutcome } from './runner.js';
import { allItemsDone, type Failure } from './outcome.js';

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

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export interface ProgressEvent {
  bytes?: number;
  files?: number;
  recordings?: number;
  /** Share of the work done (0..1), e.g. how far through the time window; drives the ETA. */
  fraction?: number;
}

export interface Progress {
  update(event: ProgressEvent): void;
  stop(): void;
}

/** One line, rewritten a few times a second; nothing at all when not enabled. */
export function createProgress(out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, enabled: boolean, now = () => Date.now()): Progress {
  const started = now();
  const totals = { bytes: 0, files: 0, recordings: 0, fraction: 0 };
  let timer: NodeJS.Timeout | undefined;
  let shown = false;
  const render = () => {
    const elapsed = Math.max(1, now() - started);
    const rate = (totals.bytes / elapsed) * 1000;
    const eta = totals.fraction > 0.01 && totals.fraction < 1 ? formatDuration(Math.round((elapsed * (1 - totals.fraction)) / totals.fraction)) : '-';
    const line = `recordings ${totals.recordings}  files ${totals.files}  ${formatBytes(totals.bytes)}  ${formatBytes(rate)}/s  ETA ${eta}`;
    const width = out.columns ?? 120;
    out.write(`\r${line.slice(0, width - 1).padEnd(Math.min(width - 1, line.length + 2))}`);
    shown = true;
  };
  return {
    update(event) {
      if (!enabled) return;
      totals.bytes += event.bytes ?? 0;
      totals.files += event.files ?? 0;
      totals.recordings += event.recordings ?? 0;
      if (event.fraction !== undefined) totals.fraction = event.fraction;
      timer ??= setInterval(render, 250).unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      if (shown) out.write('\r\x1b[K');
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
  const status =
    outcome.reason === 'stopped' ? `stopped: ${outcome.stopError?.code ?? 'a failure that is not one item\'s'}`
    : outcome.reason === 'aborted' ? 'interrupted'
    : outcome.reason === 'stdout-closed' ? 'stopped (output closed)'
    : allItemsDone(t) ? 'finished'
    : 'finished with failures';
  lines.push(`rcbs ${pipelineName}${context.dryRun ? ' (dry run)' : ''}: ${status} in ${formatDuration(outcome.elapsedMs)}`);
  const row = (label: string, value: string | number) => lines.push(`  ${label.padEnd(12)} ${value}`);
  row('recordings', t.recordings);
  // Rows for what this pipeline did: a verify or decrypt run downloads nothing.
  if (t.downloaded > 0 || (t.verified === 0 && t.decrypted === 0)) row('downloaded', `${t.downloaded} files, ${formatBytes(t.bytes)}, ${formatBytes(t.bytes / seconds)}/s`);
  if (t.adopted > 0) row('adopted', `${t.adopted} files (already on disk, verified against S3)`);
  const methods = Object.entries(t.verifiedBy);
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
