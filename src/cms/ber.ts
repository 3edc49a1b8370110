// A streaming BER/DER reader: bytes go in, in pieces of any size (one byte at a
// time included), and come out as start / data / end events. Definite and
// indefinite lengths, constructed elements nested to any sane depth. Primitive
// contents are never buffered, so a 1 GiB OCTET STRING costs no memory here;
// only a header split across two pieces (a few bytes) is held back.

import { RcbsError } from '../errors.js';

export interface BerHeader {
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  cls: number;
  constructed: boolean;
  tag: number;
  /** Content length; undefined for the indefinite form (ended by 00 00). */
  length: number | undefined;
}

export interface BerEvents {
  start(header: BerHeader): void;
  /** A piece of a primitive element's content. */
  data(chunk: Buffer): void;
  /** The element last started (and not yet ended) is complete. */
  end(): void;
}

interface OpenElement {
  /** Absolute offset where a definite element ends; undefined when indefinite. */
  end: number | undefined;
  /** The nearest definite end among this element and its ancestors: nothing may pass it. */
  limit: number;
}

const MAX_DEPTH = 64;
/** Tag number (4 bytes) plus a length of up to 6 bytes: anything longer is not ours to read. */
const MAX_HEADER = 12;

export function malformed(message: string, details: Record<string, unknown> = {}): RcbsError {
  return new RcbsError('RCBS_DECRYPT_MALFORMED', message, details);
}

type HeaderParse = { header: BerHeader; size: number } | undefined;

function parseHeader(buf: Buffer, pos: number, offset: number): HeaderParse {
  const len = buf.length;
  if (pos >= len) return undefined;
  const first = buf[pos]!;
  const cls = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tag = first & 0x1f;
  let p = pos + 1;
  if (tag === 0x1f) {
    tag = 0;
    for (let n = 0; ; n++) {
      if (p >= len) return undefined;
      if (n === 4) throw malformed(`BER tag too long at byte ${offset}`, { offset });
      const b = buf[p++]!;
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (p >= len) return undefined;
  const lengthByte = buf[p++]!;
  let length: number | undefined;
  if (lengthByte < 0x80) length = lengthByte;
  else if (lengthByte === 0x80) {
    if (!constructed) throw malformed(`indefinite length on a primitive element at byte ${offset}`, { offset });
    length = undefined;
  } else {
    const n = lengthByte & 0x7f;
    if (n > 6) throw malformed(`BER length of ${n} bytes at byte ${offset} (a corrupt or non-CMS file)`, { offset });
    if (p + n > len) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[p++]!;
  }
  return { header: { cls, constructed, tag, length }, size: p - pos };
}

export class BerReader {
  private readonly events: BerEvents;
  private readonly open: OpenElement[] = [];
  /** Bytes of a header split across pieces. */
  private pending: Buffer = Buffer.alloc(0);
  /** Content bytes still to come of the primitive element being read; -1 when none. */
  private primitiveLeft = -1;
  private offset = 0;
  private started = false;
  private complete = false;

  constructor(events: BerEvents) {
    this.events = events;
  }

  /** True once the outermost element is complete. */
  get done(): boolean {
    return this.complete;
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.offset;
  }

  write(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n && !this.complete) {
      if (this.primitiveLeft > 0) {
        const take = Math.min(this.primitiveLeft, n - i);
        this.events.data(chunk.subarray(i, i + take));
        i += take;
        this.offset += take;
        this.primitiveLeft -= take;
        if (this.primitiveLeft === 0) {
          this.primitiveLeft = -1;
          this.events.end();
          this.closeFinished();
        }
        continue;
      }
      let parsed: HeaderParse;
      if (this.pending.length === 0) {
        parsed = parseHeader(chunk, i, this.offset);
        if (!parsed) {
          this.pending = Buffer.from(chunk.subarray(i));
          this.checkPending();
          return;
        }
        i += parsed.size;
      } else {
        const held = this.pending.length;
        const joined = Buffer.concat([this.pending, chunk.subarray(i, i + MAX_HEADER)]);
        parsed = parseHeader(joined, 0, this.offset);
        if (!parsed) {
          this.pending = joined;
          this.checkPending();
          i += joined.length - held;
          continue;
        }
        this.pending = Buffer.alloc(0);
        i += parsed.size - held;
      }
      this.onHeader(parsed.header, parsed.size);
    }
    // Bytes after the outermost element (padding some tools append) are ignored, as openssl does.
  }

  /** Call at the end of input: a missing end is a truncated file. */
  finish(): void {
    if (this.complete) return;
    if (!this.started) throw malformed('the input is empty');
    throw malformed(`the input ends early, at byte ${this.offset}, inside ${this.open.length} unfinished BER element(s): the file is truncated`, {
      offset: this.offset,
    });
  }

  private checkPending(): void {
    if (this.pending.length > MAX_HEADER) throw malformed(`unreadable BER header at byte ${this.offset}`, { offset: this.offset });
  }

  private onHeader(header: BerHeader, size: number): void {
    const at = this.offset;
    this.offset += size;
    this.started = true;
    const parent = this.open.at(-1);
    const limit = parent ? parent.limit : Number.MAX_SAFE_INTEGER;
    if (this.offset > limit) throw malformed(`a BER header at byte ${at} runs past its enclosing element`, { offset: at });

    if (header.cls === 0 && header.tag === 0 && !header.constructed) {
      if (header.length !== 0) throw malformed(`bad end-of-contents marker at byte ${at}`, { offset: at });
      if (!parent || parent.end !== undefined) throw malformed(`an end-of-contents marker at byte ${at} with no indefinite element open`, { offset: at });
      this.open.pop();
      this.events.end();
      this.closeFinished();
      return;
    }
    if (header.length !== undefined && this.offset + header.length > limit) {
      throw malformed(`a BER element at byte ${at} claims ${header.length} bytes, more than its enclosing element holds`, { offset: at });
    }
    this.events.start(header);
    if (header.constructed) {
      if (this.open.length >= MAX_DEPTH) throw malformed(`BER nested deeper than ${MAX_DEPTH} at byte ${at}`, { offset: at });
      const end = header.length === undefined ? undefined : this.offset + header.length;
      this.open.push({ end, limit: end ?? limit });
      this.closeFinished();
    } else if (header.length === 0) {
      this.events.end();
      this.closeFinished();
    } else {
      this.primitiveLeft = header.length!;
    }
  }

  /** Ends every definite element whose last byte has been read. */
  private closeFinished(): void {
    for (let top = this.open.at(-1); top && top.end === this.offset; top = this.open.at(-1)) {
      this.open.pop();
      this.events.end();
    }
    if (this.open.length === 0 && this.primitiveLeft <= 0) this.complete = true;
  }
}
