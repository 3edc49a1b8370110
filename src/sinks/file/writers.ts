// The files one `file` sink writes in a run. Each final file has a temp file beside
// it (`.<name>.<random>.part`, src/store/atomic.ts), written through, closed, fsynced
// and renamed only at the end of a complete run; a run that stops early or fails
// removes them (and a process that exits any other way removes them on 'exit'), so no
// partial file is ever under a final name and no temp file stays behind.
//
// Many output files (one per day, per tenant…): at most `maxOpen` are open at once,
// least recently used closed first (its CSV/gzip stream ended: a gzip member is
// complete); a file needed again is reopened in append mode, as a new gzip member
// when gzipped (RFC 1952: a gzip file is a series of members; gunzip, zcat and Node
// read them all) and without a second CSV header. So memory holds `maxOpen` writers
// plus one small entry per file, whatever the number of files.
//
// CSV through csv-stringify: RFC 4180 quoting, CRLF line ends, a header row of the
// field names, and formula injection escaped (OWASP "CSV Injection": a cell starting
// with = + - @ tab or CR is prefixed with a single quote; numbers stay numbers).
// Rows are formatted and written in batches (BATCH_ROWS per file): one write per row
// was one syscall per row, the largest cost of a 50k export.

import { createWriteStream, unlinkSync } from 'node:fs';
import { mkdir, rename, rmdir, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { stringify, type Options as CsvOptions } from 'csv-stringify/sync';
import { asText } from '../../pipeline/fields.js';
import type { Logger } from '../../log.js';
import { fsyncDir, fsyncFile, newTempPath } from '../../store/atomic.js';
import { storeIoError } from '../../store/fs-errors.js';

export type ExportFormat = 'ndjson' | 'csv';

interface ExportFile {
  finalPath: string;
  tempPath: string;
  /** CSV: the header, from the file's first row. */
  columns?: string[];
  known?: Set<string>;
  rows: number;
  /** Rows written to the file (not only queued): the header goes with the first batch. */
  written: number;
  opened: boolean;
}

interface OpenWriter {
  head: Writable;
  done: Promise<void>;
  failure?: unknown;
  /** Rows (CSV: cell arrays; NDJSON: lines) waiting for the next batch write. */
  pending: unknown[];
}

/** Rows formatted and written at once, per file. */
const BATCH_ROWS = 256;

const CSV_OPTIONS: CsvOptions = {
  record_delimiter: 'windows',
  escape_formulas: true,
  cast: { boolean: (v) => String(v), object: (v) => asText(v), date: (v) => v.toISOString() },
};

/** Temp files not yet renamed or removed, in every sink of this process: removed on exit. */
const pendingTemps = new Set<string>();
let exitHookInstalled = false;
function trackTemp(tempPath: string): void {
  pendingTemps.add(tempPath);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const temp of pendingTemps) {
      try {
        unlinkSync(temp);
      } catch {
        // already gone
      }
    }
  });
}

export interface ExportFilesOptions {
  format: ExportFormat;
  gzip: boolean;
  maxOpen: number;
  log: Logger;
}

export class ExportFiles {
  readonly #files = new Map<string, ExportFile>();
  /** Open writers, least recently used first (a Map keeps insertion order). */
  readonly #open = new Map<string, OpenWriter>();
  /** The writer used last: already at the end of #open's order. */
  #last: OpenWriter | undefined;
  readonly #dirs = new Set<string>();
  /** Folders this run created (leaf → the first one made), removed again if the run does not complete. */
  readonly #createdDirs = new Map<string, string>();
  readonly #options: ExportFilesOptions;
  rows = 0;

  constructor(options: ExportFilesOptions) {
    this.#options = options;
  }

  get fileCount(): number {
    return this.#files.size;
  }

  /** Appends one row (an object: its keys are the CSV columns of a new file). */
  async write(finalPath: string, row: Record<string, unknown>): Promise<void> {
    let file = this.#files.get(finalPath);
    if (!file) {
      file = { finalPath, tempPath: newTempPath(finalPath), rows: 0, written: 0, opened: false };
      if (this.#options.format === 'csv') {
        file.columns = Object.keys(row);
        file.known = new Set(file.columns);
      }
      this.#files.set(finalPath, file);
    }
    const writer = await this.#writerFor(file);
    let chunk: unknown;
    if (file.columns) {
      for (const key of Object.keys(row)) {
        if (file.known!.has(key)) continue;
        // Not silently: the header is fixed by the first row (put a select first).
        file.known!.add(key);
        this.#options.log.warn(`file: field "${key}" is not a column of ${finalPath} (its header comes from the first row); put a "select" before the sink to fix the columns`);
      }
      chunk = file.columns.map((c) => row[c]);
    } else {
      chunk = JSON.stringify(row) + '\n';
    }
    writer.pending.push(chunk);
    file.rows++;
    this.rows++;
    if (writer.pending.length >= BATCH_ROWS) await this.#flush(file, writer);
  }

  /** Formats the queued rows and writes them, waiting for the file to take them. */
  async #flush(file: ExportFile, writer: OpenWriter): Promise<void> {
    if (writer.pending.length > 0) {
      const rows = writer.pending;
      writer.pending = [];
      const chunk = file.columns ? stringify(rows as unknown[][], { ...CSV_OPTIONS, columns: file.columns, header: file.written === 0 }) : (rows as string[]).join('');
      file.written += rows.length;
      if (!writer.head.write(chunk)) await drained(writer);
    }
    if (writer.failure) throw storeIoError('write', file.tempPath, writer.failure);
  }

  async #writerFor(file: ExportFile): Promise<OpenWriter> {
    const open = this.#open.get(file.finalPath);
    if (open) {
      if (open.failure) throw storeIoError('write', file.tempPath, open.failure);
      if (open !== this.#last) {
        // Most recently used: to the end of the order. Not when it already is: a Map
        // delete makes V8 rebuild the Map's table, in the old generation for a Map that
        // lives long, so doing it for every row left garbage that only a full GC frees.
        this.#open.delete(file.finalPath);
        this.#open.set(file.finalPath, open);
        this.#last = open;
      }
      return open;
    }
    while (this.#open.size >= this.#options.maxOpen) {
      const [oldest, writer] = this.#open.entries().next().value as [string, OpenWriter];
      this.#open.delete(oldest);
      await this.#close(this.#files.get(oldest)!, writer);
    }
    const dir = path.dirname(file.finalPath);
    if (!this.#dirs.has(dir)) {
      const created = await mkdir(dir, { recursive: true }).catch((err: unknown) => {
        throw storeIoError('create the folder', dir, err);
      });
      if (created !== undefined) this.#createdDirs.set(dir, created);
      this.#dirs.add(dir);
    }
    // First open: a new file, exclusively (the name is random); later: append.
    const out = createWriteStream(file.tempPath, { flags: file.opened ? 'a' : 'wx', mode: 0o644 });
    if (!file.opened) trackTemp(file.tempPath);
    file.opened = true;
    const gzip = this.#options.gzip ? createGzip() : undefined;
    const writer: OpenWriter = { head: gzip ?? out, done: Promise.resolve(), pending: [] };
    writer.done = (gzip ? pipeline(gzip, out) : finishedWriting(out)).catch((err: unknown) => {
      writer.failure = err;
    });
    this.#open.set(file.finalPath, writer);
    this.#last = writer;
    // The temp file exists once a row is accepted (and a folder we may not write in says so now).
    await once(out, 'ready').catch((err: unknown) => {
      throw storeIoError('create', file.tempPath, err);
    });
    return writer;
  }

  async #close(file: ExportFile, writer: OpenWriter): Promise<void> {
    await this.#flush(file, writer);
    writer.head.end();
    await writer.done;
    if (writer.failure) throw storeIoError('write', file.tempPath, writer.failure);
  }

  /** Closes, fsyncs and renames every file into place; returns their final paths. */
  async commit(): Promise<string[]> {
    for (const [finalPath, writer] of [...this.#open]) {
      this.#open.delete(finalPath);
      await this.#close(this.#files.get(finalPath)!, writer);
    }
    const dirs = new Set<string>();
    const written: string[] = [];
    for (const file of this.#files.values()) {
      try {
        await fsyncFile(file.tempPath);
        await rename(file.tempPath, file.finalPath);
      } catch (err) {
        throw storeIoError('write', file.finalPath, err);
      }
      pendingTemps.delete(file.tempPath);
      dirs.add(path.dirname(file.finalPath));
      written.push(file.finalPath);
    }
    for (const dir of dirs) await fsyncDir(dir);
    this.#files.clear();
    return written;
  }

  /** Stops every writer and removes every temp file: nothing of this run stays. */
  async abort(): Promise<void> {
    for (const [finalPath, writer] of [...this.#open]) {
      this.#open.delete(finalPath);
      writer.head.destroy();
      await writer.done;
    }
    for (const file of this.#files.values()) {
      await unlink(file.tempPath).catch(() => {});
      pendingTemps.delete(file.tempPath);
    }
    this.#files.clear();
    // The folders made for them too, deepest first, as long as they are empty.
    for (const [leaf, top] of this.#createdDirs) {
      for (let dir = leaf; ; dir = path.dirname(dir)) {
        if (!(await rmdir(dir).then(() => true, () => false)) || dir === top || dir === path.dirname(dir)) break;
      }
    }
    this.#createdDirs.clear();
  }
}

function finishedWriting(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once('close', () => (out.writableFinished ? resolve() : reject(new Error('the file was closed before it was written'))));
    out.once('error', reject);
  });
}

/** Waits for 'drain', or for the chain to stop (an error closes it: no hang). */
function drained(writer: OpenWriter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      writer.head.off('drain', done);
      writer.head.off('close', done);
      resolve();
    };
    writer.head.on('drain', done);
    writer.head.on('close', done);
  });
}
