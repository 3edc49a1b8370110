// A reader for config.properties with java.util.Properties.load semantics, so a
// file written for the original Java tool reads the same here:
// - `key = value`, `key: value` and `key value`; whitespace around the separator
//   is dropped, trailing whitespace of the value is kept (Java does; load.ts
//   trims it, since no rcbs value means anything with trailing blanks);
// - lines whose first non-blank character is `#` or `!` are comments, and a
//   comment never continues onto the next line;
// - a line ending in an odd number of backslashes continues on the next one,
//   whose leading whitespace is dropped; a blank line ends the continuation;
// - escapes `\t \n \r \f \uXXXX \\`, and any other `\x` is `x`, which is why
//   `audio\/mp3` reads as `audio/mp3` (the same regex) and `a\=b` is a key
//   containing `=`;
// - LF, CR and CRLF line ends, a leading UTF-8 byte order mark.
// Unlike Java, a malformed `\u` escape is reported with its line instead of
// aborting the whole load, so the caller can list it with every other problem.

export interface PropertyEntry {
  key: string;
  value: string;
  /** 1-based line where the entry starts (continuations follow it). */
  line: number;
  /** The value as written, escapes not yet applied (to spot `C:\target`). */
  rawValue: string;
}

export interface PropertySyntaxError {
  line: number;
  /** The entry's key, as far as it could be read. */
  key: string;
  message: string;
}

export interface ParsedProperties {
  entries: PropertyEntry[];
  errors: PropertySyntaxError[];
}

const BLANK = new Set([' ', '\t', '\f']);

interface LogicalLine {
  text: string;
  line: number;
}

/** Joins natural lines into logical lines (comments and blank lines dropped). */
function logicalLines(source: string): LogicalLine[] {
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source;
  const natural = text.split(/\r\n|\r|\n/);
  const out: LogicalLine[] = [];
  let current: LogicalLine | undefined;
  for (let i = 0; i < natural.length; i++) {
    let piece = natural[i]!;
    let start = 0;
    while (start < piece.length && BLANK.has(piece[start]!)) start++;
    piece = piece.slice(start);
    if (current === undefined) {
      if (piece.length === 0 || piece[0] === '#' || piece[0] === '!') continue;
      current = { text: '', line: i + 1 };
    } else if (piece.length === 0) {
      // Java: a blank line after a continuation ends the logical line.
      out.push(current);
      current = undefined;
      continue;
    }
    let backslashes = 0;
    for (let j = piece.length - 1; j >= 0 && piece[j] === '\\'; j--) backslashes++;
    if (backslashes % 2 === 1) {
      current.text += piece.slice(0, -1);
    } else {
      current.text += piece;
      out.push(current);
      current = undefined;
    }
  }
  // A continuation on the last line of the file: the backslash is dropped (Java).
  if (current !== undefined) out.push(current);
  return out;
}

/** Applies the escapes of a key or value; `errors` gets malformed \u escapes. */
function unescape(text: string, errors: string[]): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === undefined) break;
    switch (next) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        const hex = text.slice(i + 1, i + 5);
        if (/^[0-9a-fA-F]{4}$/.test(hex)) {
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
        } else {
          errors.push(`malformed \\uXXXX escape "\\u${hex}": write exactly four hex digits after \\u, or \\\\u for a literal backslash-u`);
        }
        break;
      }
      default: out += next;
    }
  }
  return out;
}

/** Splits one logical line into key and value exactly as Properties.load0 does. */
function splitEntry(text: string): { key: string; value: string } {
  let keyEnd = 0;
  let valueStart = text.length;
  let hasSeparator = false;
  let escaped = false;
  for (; keyEnd < text.length; keyEnd++) {
    const c = text[keyEnd]!;
    if (!escaped && (c === '=' || c === ':')) {
      valueStart = keyEnd + 1;
      hasSeparator = true;
      break;
    }
    if (!escaped && BLANK.has(c)) {
      valueStart = keyEnd + 1;
      break;
    }
    escaped = c === '\\' ? !escaped : false;
  }
  // Skip blanks after the key, and one `=`/`:` among them when the key ended on a blank.
  while (valueStart < text.length) {
    const c = text[valueStart]!;
    if (!BLANK.has(c)) {
      if (!hasSeparator && (c === '=' || c === ':')) hasSeparator = true;
      else break;
    }
    valueStart++;
  }
  return { key: text.slice(0, keyEnd), value: text.slice(valueStart) };
}

export function parseProperties(source: string): ParsedProperties {
  const entries: PropertyEntry[] = [];
  const errors: PropertySyntaxError[] = [];
  for (const logical of logicalLines(source)) {
    const { key, value } = splitEntry(logical.text);
    const lineErrors: string[] = [];
    const entry = { key: unescape(key, lineErrors), value: unescape(value, lineErrors), line: logical.line, rawValue: value };
    entries.push(entry);
    for (const message of lineErrors) errors.push({ line: logical.line, key: entry.key, message });
  }
  return { entries, errors };
}
