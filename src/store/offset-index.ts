// The in-memory side of a journal (index.ndjson, recordings.ndjson): for each
// entry only a 31-bit hash of its key and the byte offset of its line, in two
// typed arrays (open addressing, linear probing). The entry itself stays on
// disk and is read back with one positioned read when asked for.
//
// Why: holding every entry as objects cost ~1 KB of heap per recording backed up
// (BENCHMARKS.md, metadata-only), so memory grew with the history; this costs
// 17-34 bytes per entry. A lookup reads one line (a few hundred bytes, from the
// page cache on a warm machine); only keys whose hash matches are read, and a
// hash shared by two keys is told apart by the key in the line.
//
// Latest line wins: a key written again (a recording rewritten for late media)
// gets a new line; its slot is moved to the new offset on append. Lines loaded
// at open are only added (no reads while loading), so a rewritten key may have
// several slots; lookups take the greatest offset among the lines with that key.

import type { FileHandle } from 'node:fs/promises';
import { parseJournalLine } from './journal.js';

const MIN_CAPACITY = 1024;
const MAX_LOAD = 0.7;
const FIRST_READ = 1024;

/** FNV-1a 32 over UTF-16 code units, folded to 31 bits. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x7fffffff;
}

export class OffsetIndex<T> {
  #hashes = new Int32Array(MIN_CAPACITY);
  /** offset + 1; 0 marks an empty slot. */
  #offsets = new Float64Array(MIN_CAPACITY);
  #used = 0;
  #reader: FileHandle | undefined;
  readonly #file: string;
  readonly #keyOf: (entry: T) => string;
  readonly #parse: (value: unknown) => T | undefined;

  constructor(file: string, keyOf: (entry: T) => string, parse: (value: unknown) => T | undefined) {
    this.#file = file;
    this.#keyOf = keyOf;
    this.#parse = parse;
  }

  /** Where lines are read from once loading is done. */
  attach(reader: FileHandle): void {
    this.#reader = reader;
  }

  get file(): string {
    return this.#file;
  }

  /** Slots in use (a rewritten key loaded at open may hold several). */
  get slots(): number {
    return this.#used;
  }

  /** Adds a line without reading anything (loading in file order). */
  add(key: string, offset: number): void {
    if ((this.#used + 1) / this.#hashes.length > MAX_LOAD) this.#grow();
    this.#insert(keyHash(key), offset);
  }

  /** Points the key at a new line: its slot moves there, or a slot is added. */
  async set(key: string, offset: number): Promise<void> {
    const hash = keyHash(key);
    let best = -1;
    for (const slot of this.#slotsOf(hash)) {
      const entry = await this.#read(this.#offsets[slot]! - 1);
      if (entry !== undefined && this.#keyOf(entry) === key) {
        if (best === -1 || this.#offsets[slot]! > this.#offsets[best]!) best = slot;
      }
    }
    // A concurrent set may have moved the slot further already: never move it back.
    if (best !== -1) this.#offsets[best] = Math.max(this.#offsets[best]!, offset + 1);
    else this.add(key, offset);
  }

  /** Points the key of a journal line (its text) at `offset`; a line that is no entry is ignored. */
  async setLine(text: string, offset: number): Promise<void> {
    const entry = parseJournalLine(text, this.#parse);
    if (entry !== undefined) await this.set(this.#keyOf(entry), offset);
  }

  /** The latest entry of a key, read from the journal. */
  async get(key: string): Promise<T | undefined> {
    let found: T | undefined;
    let foundAt = -1;
    for (const slot of this.#slotsOf(keyHash(key))) {
      const offset = this.#offsets[slot]! - 1;
      if (offset <= foundAt) continue;
      const entry = await this.#read(offset);
      if (entry !== undefined && this.#keyOf(entry) === key) {
        found = entry;
        foundAt = offset;
      }
    }
    return found;
  }

  /** True when no slot of the key's hash points past `offset`, i.e. the line at
   * `offset` is the key's latest (reads only when a hash has several slots). */
  async isLatest(entry: T, offset: number): Promise<boolean> {
    const key = this.#keyOf(entry);
    for (const slot of this.#slotsOf(keyHash(key))) {
      const other = this.#offsets[slot]! - 1;
      if (other <= offset) continue;
      const later = await this.#read(other);
      if (later !== undefined && this.#keyOf(later) === key) return false;
    }
    return true;
  }

  *#slotsOf(hash: number): Generator<number> {
    const mask = this.#hashes.length - 1;
    for (let slot = hash & mask; this.#offsets[slot] !== 0; slot = (slot + 1) & mask) {
      if (this.#hashes[slot] === hash) yield slot;
    }
  }

  #insert(hash: number, offset: number): void {
    const mask = this.#hashes.length - 1;
    let slot = hash & mask;
    while (this.#offsets[slot] !== 0) slot = (slot + 1) & mask;
    this.#hashes[slot] = hash;
    this.#offsets[slot] = offset + 1;
    this.#used++;
  }

  #grow(): void {
    const hashes = this.#hashes;
    const offsets = this.#offsets;
    this.#hashes = new Int32Array(hashes.length * 2);
    this.#offsets = new Float64Array(offsets.length * 2);
    this.#used = 0;
    for (let i = 0; i < hashes.length; i++) if (offsets[i] !== 0) this.#insert(hashes[i]!, offsets[i]! - 1);
  }

  /** The entry on the line starting at `offset`. */
  async #read(offset: number): Promise<T | undefined> {
    if (!this.#reader) throw new Error(`the index of ${this.#file} is not open for reading`);
    let size = FIRST_READ;
    for (;;) {
      const buffer = Buffer.allocUnsafe(size);
      const { bytesRead } = await this.#reader.read(buffer, 0, size, offset);
      const end = buffer.subarray(0, bytesRead).indexOf(0x0a);
      if (end === -1 && bytesRead === size) {
        size *= 4;
        continue;
      }
      return parseJournalLine(buffer.toString('utf8', 0, end === -1 ? bytesRead : end), this.#parse);
    }
  }
}
