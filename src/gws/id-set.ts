// An exact set of id strings kept as UTF-8 bytes in typed arrays, off V8's heap, with a
// 32-bit tag per entry that the caller gives a meaning to.
//
// Why: the GWS source dedupes recording ids across pages and slices (paging.ts), and a
// slice keeps every id it met until both its neighbours are done. As strings in Sets (one
// per slice, one more per query to notice a server that does not page), a 200k-recording
// export from GWS held ~10 MB of id strings and ~7.6 MB of hash tables in the heap, which
// V8 marked at every full GC and the heap budget (src/heap.ts) counted ~1.5x (the old
// generation may grow by half the live size). Here a 32-character id costs its 32 bytes,
// 12 of entry (start, hash, tag) and 4-8 of slot table, outside the heap: ~10 MB for 200k
// (test/gws-id-set.test.ts: under 2 MB of heap where a Set of the same strings takes ~16 MB).
// Measured on the sandbox's 200k export (`rcbs run calls-csv --set from=gws-recordings`, an
// empty targetDir, 4 rounds alternating): peak RSS 154-159 MB with the Sets, 150-154 MB with this.
//
// Exact: a hash match compares the bytes, so a collision never merges two ids (which would
// drop a recording; 200k random ids already collide in 32 bits). Hash: 32-bit FNV-1a over
// the UTF-8 bytes. Slots: open addressing with linear probing over a power-of-two table at
// most half full, resized by rehashing the stored hashes. An id is encoded once per lookup,
// straight into the arena's free tail (no string or Buffer per id), and kept there only if
// it is added.
//
// The arrays sit on resizable ArrayBuffers: V8 reserves their address space once and a
// doubling commits pages in place, so growing copies nothing and leaves no old array for a
// full GC to free, and their memory is V8's page allocator's, not malloc's. With plain typed
// arrays the same export peaked at 151-156 MB: a freed multi-MB malloc block raises glibc's
// mmap threshold, and the process's later ~200 KB blocks then stay in malloc's heap (with
// the threshold pinned by MALLOC_MMAP_THRESHOLD_=131072, plain arrays peaked at 147 MB).

/** A 32-bit hash of bytes[start, end). */
export type ByteHash = (bytes: Uint8Array, start: number, end: number) => number;

/** 32-bit FNV-1a. */
export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

// The reservations: 2^28 entries and 2 GiB of ids per set (a slice of GWS holds far fewer);
// growing past them is a RangeError, never a truncated id.
const MAX_ENTRIES = 2 ** 28;
const MAX_BYTES = 2 ** 31;

const encoder = new TextEncoder();
// In a `u` regex a surrogate pair is one code point: only a lone surrogate matches.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
/** Never a byte of UTF-8: marks an id kept as UTF-16 code units. */
const UTF16_MARK = 0xff;

export class IdSet {
  readonly #bytes = resizable(Uint8Array, 1024, MAX_BYTES);
  /** Entry e's bytes are #bytes[#starts[e], #starts[e + 1]); #starts[size] is where the free tail begins. */
  readonly #starts = resizable(Uint32Array, 33, MAX_ENTRIES + 1);
  readonly #hashes = resizable(Uint32Array, 32, MAX_ENTRIES);
  readonly #tags = resizable(Uint32Array, 32, MAX_ENTRIES);
  /** Entry + 1 per slot, 0 when empty. */
  #slots = resizable(Uint32Array, 64, 64);
  #size = 0;
  readonly #hash: ByteHash;
  // The id last probed, encoded in the free tail: its end and hash.
  #probedEnd = 0;
  #probedHash = 0;

  /** `hash` is for tests (forced collisions); FNV-1a otherwise. */
  constructor(hash: ByteHash = fnv1a) {
    this.#hash = hash;
  }

  get size(): number {
    return this.#size;
  }

  /** The entry of `id` (0, 1, 2… in the order added), or -1 when absent. */
  find(id: string): number {
    return this.#slots[this.#probe(id)]! - 1;
  }

  /** The entry of `id`, added with tag 0 when absent. */
  add(id: string): number {
    const slot = this.#probe(id);
    if (this.#slots[slot] !== 0) return this.#slots[slot]! - 1;
    const entry = this.#size;
    if (entry === this.#hashes.length) {
      grow(this.#starts, 2 * entry + 1);
      grow(this.#hashes, 2 * entry);
      grow(this.#tags, 2 * entry);
    }
    this.#starts[entry + 1] = this.#probedEnd;
    this.#hashes[entry] = this.#probedHash;
    this.#slots[slot] = entry + 1;
    this.#size++;
    if (2 * this.#size > this.#slots.length) this.#rehash(2 * this.#slots.length);
    return entry;
  }

  tag(entry: number): number {
    return this.#tags[entry]!;
  }

  setTag(entry: number, tag: number): void {
    this.#tags[entry] = tag;
  }

  /** Encodes `id` into the free tail and returns the slot that holds it, or the empty slot it would go in. */
  #probe(id: string): number {
    const start = this.#starts[this.#size]!;
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; the fallback 2 per unit and a mark.
    const room = start + 3 * id.length + 1;
    if (room > this.#bytes.length) grow(this.#bytes, Math.max(room, Math.min(MAX_BYTES, 2 * room)));
    let end = start + encoder.encodeInto(id, this.#bytes.subarray(start)).written;
    // encodeInto writes U+FFFD for a lone surrogate, which would make two ids one.
    if (end - start !== id.length && LONE_SURROGATE.test(id)) {
      end = start;
      this.#bytes[end++] = UTF16_MARK;
      for (let i = 0; i < id.length; i++) {
        const unit = id.charCodeAt(i);
        this.#bytes[end++] = unit >>> 8;
        this.#bytes[end++] = unit & 0xff;
      }
    }
    const hash = this.#hash(this.#bytes, start, end);
    this.#probedEnd = end;
    this.#probedHash = hash;
    const mask = this.#slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.#slots[slot]! - 1;
      if (entry < 0 || (this.#hashes[entry] === hash && this.#holds(entry, start, end))) return slot;
    }
  }

  /** Whether entry's bytes equal #bytes[start, end). */
  #holds(entry: number, start: number, end: number): boolean {
    const from = this.#starts[entry]!;
    if (this.#starts[entry + 1]! - from !== end - start) return false;
    for (let i = 0; i < end - start; i++) if (this.#bytes[from + i] !== this.#bytes[start + i]) return false;
    return true;
  }

  #rehash(slotCount: number): void {
    this.#slots = resizable(Uint32Array, slotCount, slotCount);
    const mask = slotCount - 1;
    for (let entry = 0; entry < this.#size; entry++) {
      let slot = this.#hashes[entry]! & mask;
      while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
      this.#slots[slot] = entry + 1;
    }
  }
}

// Typed as in lib.es2024 (the project compiles against es2023); Node 20 has them.
interface ResizableBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}
const ResizableBuffer = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => ResizableBuffer;

/** A typed array of `length` items that follows its buffer's length, which can grow to `maxLength` items. */
function resizable<T extends Uint8Array | Uint32Array>(Type: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, length: number, maxLength: number): T {
  return new Type(new ResizableBuffer(length * Type.BYTES_PER_ELEMENT, { maxByteLength: maxLength * Type.BYTES_PER_ELEMENT }));
}

/** Grows `array` in place to `length` items (new ones 0); a RangeError past its maximum. */
function grow(array: Uint8Array | Uint32Array, length: number): void {
  (array.buffer as ResizableBuffer).resize(length * array.BYTES_PER_ELEMENT);
}
