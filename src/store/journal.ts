// An append-only NDJSON file in .rcbs/ (index, recordings, quarantine): read line
// by line at open, appended with fsync before the caller counts its work as done.
//
// Crash rules: a record is written as one `line\n` in a single write, so a crash
// can leave only the LAST line torn. A torn last line (no newline) is ignored
// with a warning and cut off at open, so the next append starts on a clean line;
// a garbled line in the middle (disk trouble, a hand edit) is skipped with a
// warning. Neither is fatal: losing one index line only means one file is
// fetched again.
//
// Appends are group-committed: lines that arrive while a write+fsync is running
// go out together in the next one, so many concurrent transfers share fsyncs.

import { open, stat, truncate, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { storeIoError } from './fs-errors.js';

export interface JournalLine {
  /** 1-based line number, for warnings. */
  number: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  text: string;
  /** Length in bytes, without the newline. */
  bytes: number;
  /** False for a last line without its newline: the torn tail of a crashed append. */
  complete: boolean;
}

/** Bytes read at a time when a journal is loaded; a longer line grows the buffer. */
const READ_BYTES = 1 << 20;

/** Streams the lines of a file (flat memory for a big index). Missing file: no lines.
 * Split on bytes, not characters, so byte counts stay exact even for invalid UTF-8.
 * One buffer is read into again and again: a read stream's fresh 1 MiB chunk per read,
 * plus a copy per chunk to join a line cut in two, left ~40 MB of ArrayBuffers for the
 * GC to find after loading a 20 MB journal (the peak RSS of opening a 50k backup). */
export async function* journalLines(file: string): AsyncGenerator<JournalLine> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw storeIoError('read', file, err);
  }
  let buffer = Buffer.allocUnsafe(READ_BYTES);
  /** Bytes of a line not finished yet, at the start of `buffer`. */
  let kept = 0;
  let number = 0;
  let offset = 0;
  try {
    for (;;) {
      if (kept === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, kept);
        buffer = bigger;
      }
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, kept, buffer.length - kept, offset + kept));
      } catch (err) {
        throw storeIoError('read', file, err);
      }
      if (bytesRead === 0) break;
      const end = kept + bytesRead;
      const filled = buffer.subarray(0, end);
      let start = 0;
      let nl: number;
      while ((nl = filled.indexOf(0x0a, start)) !== -1) {
        yield { number: ++number, offset, text: buffer.toString('utf8', start, nl), bytes: nl - start, complete: true };
        offset += nl - start + 1;
        start = nl + 1;
      }
      kept = end - start;
      buffer.copy(buffer, 0, start, end);
    }
    if (kept > 0) yield { number: ++number, offset, text: buffer.toString('utf8', 0, kept), bytes: kept, complete: false };
  } finally {
    await handle.close();
  }
}

/** The entry a line holds, or undefined for a blank, garbled or wrong-shaped line. */
export function parseJournalLine<T>(text: string, parse: (value: unknown) => T | undefined): T | undefined {
  if (text.trim() === '') return undefined;
  try {
    return parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * Reads every valid entry of a journal. `parse` returns the entry or undefined
 * when the line is not one. Returns the byte length of the complete lines, so a
 * writer can cut a torn tail off.
 */
export interface JournalRepair {
  /** Bytes of complete lines. */
  goodBytes: number;
  /** Bytes of a last line without its newline (0 when the file ends cleanly). */
  tornBytes: number;
  /** The torn last line when it still parsed: written again on a clean line. */
  keptTail?: string;
}

export async function loadJournal<T>(file: string, parse: (value: unknown) => T | undefined, log: Logger, onEntry: (entry: T, offset: number) => void): Promise<JournalRepair> {
  let goodBytes = 0;
  let tornBytes = 0;
  let keptTail: string | undefined;
  for await (const line of journalLines(file)) {
    const bytes = line.bytes;
    const entry = parseJournalLine(line.text, parse);
    if (!line.complete) {
      // A complete JSON object that only lacks its newline is still kept: the
      // append wrote everything but the last byte. It is rewritten on open.
      tornBytes = bytes;
      if (entry !== undefined) {
        keptTail = line.text;
        // Journal.open cuts the torn line off and writes it again where it started.
        onEntry(entry, line.offset);
      } else log.warn('ignoring a torn last line (an append cut by a crash); it is removed', { file, line: line.number, bytes });
      continue;
    }
    goodBytes += bytes + 1;
    if (entry !== undefined) onEntry(entry, line.offset);
    else if (line.text.trim() !== '') log.warn('skipping a garbled line in the state file', { file, line: line.number, text: line.text.slice(0, 120) });
  }
  return { goodBytes, tornBytes, keptTail };
}

export class Journal {
  readonly file: string;
  #handle: FileHandle | undefined;
  #pending: Array<{ line: Buffer; resolve: (offset: number) => void; reject: (err: unknown) => void }> = [];
  #flushing: Promise<void> | undefined;
  /** Where the next write lands; unknown (re-read with fstat) after a failed write. */
  #size: number | undefined;
  /** A write failed part-way (disk full): start the next one on a fresh line so
   * the fragment stays a lone garbled line instead of spoiling the next entry. */
  #torn = false;
  /** Where open() wrote a kept torn tail again (usually where it started). */
  keptTailOffset: number | undefined;

  private constructor(file: string, handle: FileHandle) {
    this.file = file;
    this.#handle = handle;
  }

  /** Opens for appending; a torn tail (from loadJournal) is cut off first, keeping a parsed one. */
  static async open(file: string, repair: JournalRepair): Promise<Journal> {
    try {
      if (repair.tornBytes > 0) {
        const size = (await stat(file)).size;
        if (size === repair.goodBytes + repair.tornBytes) await truncate(file, repair.goodBytes);
      }
      const handle = await open(file, 'a', 0o600);
      const journal = new Journal(file, handle);
      if (repair.keptTail !== undefined) journal.keptTailOffset = await journal.append(repair.keptTail);
      return journal;
    } catch (err) {
      throw storeIoError('open', file, err);
    }
  }

  /** Appends one entry; resolves, once it is on disk (fsynced), with the byte offset of its line. */
  append(entry: unknown): Promise<number> {
    const text = typeof entry === 'string' ? entry : JSON.stringify(entry);
    return new Promise((resolve, reject) => {
      this.#pending.push({ line: Buffer.from(text + '\n'), resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        if (!this.#handle) throw new Error('the state file is closed');
        this.#size ??= (await this.#handle.stat()).size;
        const parts = this.#torn ? [Buffer.from('\n'), ...batch.map((p) => p.line)] : batch.map((p) => p.line);
        const data = Buffer.concat(parts);
        const { bytesWritten } = await this.#handle.write(data, 0, data.length);
        if (bytesWritten !== data.length) throw Object.assign(new Error(`only ${bytesWritten} of ${data.length} bytes were written`), { code: 'ENOSPC' });
        let offset = this.#size + (this.#torn ? 1 : 0);
        this.#size += data.length;
        this.#torn = false;
        await this.#handle.datasync();
        for (const p of batch) {
          p.resolve(offset);
          offset += p.line.length;
        }
      } catch (err) {
        this.#torn = true;
        this.#size = undefined;
        const error = storeIoError('append to', this.file, err);
        for (const p of batch) p.reject(error);
      }
    }
    this.#flushing = undefined;
  }

  async close(): Promise<void> {
    await this.#flushing;
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }
}
