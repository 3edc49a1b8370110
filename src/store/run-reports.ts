// The machine-readable outcome of runs (SPEC §2), for schedulers and monitoring:
//
//   <targetDir>/.rcbs/runs/<start time>.json   one per run that got past its config:
//       command, pipeline, window, per-component counts, totals, bytes, duration,
//       exit code, every failure with its code. The newest RUN_REPORTS_KEPT are kept.
//   <targetDir>/.rcbs/failed.ndjson            the records whose media (or JSON) failed
//       in the last run that wrote the backup, one recording per line, as
//       `rcbs run fetch-media` reads them: retrying only the failures is one command.
//
// Both are written atomically (temp, fsync, rename). A run that only reads the backup
// (verify, export) writes its report only where .rcbs/ already exists, so pointing a
// read-only command at the wrong folder never creates state there.

import { mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createAtomicWriter, TempFiles, writeAtomic } from './atomic.js';
import { storeIoError } from './fs-errors.js';
import type { AtomicWriteHandle } from './types.js';
import { STATE_DIR } from './index.js';

/** How many run reports .rcbs/runs/ keeps (the oldest are removed). */
export const RUN_REPORTS_KEPT = 100;

export const RUNS_DIR = 'runs';
export const FAILED_RECORDS = 'failed.ndjson';

/** A file name for a run started at `startedAt`: its ISO time, sortable, without colons
 * (Windows), with the pid so two runs started in the same millisecond do not collide. */
export function runReportName(startedAt: number, pid = process.pid): string {
  return `${new Date(startedAt).toISOString().replace(/:/g, '-')}-${pid}.json`;
}

async function exists(dir: string): Promise<boolean> {
  return stat(dir).then((s) => s.isDirectory(), () => false);
}

/**
 * Writes the report; returns its path, or undefined when a read-only run found no
 * .rcbs/ to write into. Old reports beyond RUN_REPORTS_KEPT are removed.
 */
export async function writeRunReport(targetDir: string, startedAt: number, report: unknown, options: { createState: boolean }): Promise<string | undefined> {
  const stateDir = path.join(path.resolve(targetDir), STATE_DIR);
  if (!options.createState && !(await exists(stateDir))) return undefined;
  const runsDir = path.join(stateDir, RUNS_DIR);
  await mkdir(runsDir, { recursive: true }).catch((err: unknown) => {
    throw storeIoError('create', runsDir, err);
  });
  const file = path.join(runsDir, runReportName(startedAt));
  await writeAtomic(file, JSON.stringify(report, null, 2) + '\n', { temps: new TempFiles() });
  await pruneRunReports(runsDir);
  return file;
}

async function pruneRunReports(runsDir: string): Promise<void> {
  const reports = (await readdir(runsDir)).filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort();
  for (const name of reports.slice(0, Math.max(0, reports.length - RUN_REPORTS_KEPT))) {
    // Another run may prune the same file at the same time.
    await unlink(path.join(runsDir, name)).catch(() => {});
  }
}

/** Collects the failed records of a run that writes the backup, straight to a temp file. */
export interface FailedRecordsFile {
  add(recording: unknown): Promise<void>;
  readonly count: number;
  /**
   * With failures: renames the file into place. Without, after a complete run: removes
   * the previous run's list (those records are done now). After a run that stopped
   * early without failures: leaves the previous list alone (it was not retried in full).
   */
  finish(outcome: { completed: boolean }): Promise<void>;
  /** Removes the temp file; the previous list stays. */
  abort(): Promise<void>;
}

export async function openFailedRecords(targetDir: string): Promise<FailedRecordsFile> {
  const finalPath = path.join(path.resolve(targetDir), STATE_DIR, FAILED_RECORDS);
  // The temp file is made at the first failure: a run without failures leaves no trace.
  let file: { writer: AtomicWriteHandle; handle: FileHandle } | undefined;
  let count = 0;
  const close = async () => {
    const open = file;
    if (!open) return;
    await open.handle.close().catch(() => {});
  };
  return {
    get count() {
      return count;
    },
    async add(recording) {
      if (!file) {
        const writer = await createAtomicWriter(finalPath, { temps: new TempFiles() });
        file = { writer, handle: await open(writer.tempPath, 'a') };
      }
      await file.handle.write(JSON.stringify(recording) + '\n');
      count++;
    },
    async finish({ completed }) {
      if (file) {
        await file.handle.sync();
        await close();
        await file.writer.commit({ synced: true });
        file = undefined;
        return;
      }
      if (completed) {
        await unlink(finalPath).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw storeIoError('remove', finalPath, err);
        });
      }
    },
    async abort() {
      await close();
      await file?.writer.abort();
      file = undefined;
    },
  };
}
