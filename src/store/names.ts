// File and folder names taken from the data (tenant, recording id, mediaId) and
// the folder format of the recordings' start time (SPEC §5).
//
// The rule, chosen so two different names can never land on the same file:
// - Characters in [A-Za-z0-9._@+=-] are kept as they are.
// - Every other character is percent-encoded as its UTF-8 bytes (`/` → %2F,
//   `\` → %5C, NUL → %00, `%` itself → %25, `é` → %C3%A9). Because `%` is always
//   encoded, decoding gives the original back: the mapping is one-to-one.
// - A leading dot is encoded (%2E) so no name is hidden from globs (`*.bin` skips
//   dot files), collides with our `.<final>.<random>.part` temp files, or is `..`
//   plus something; a trailing dot is encoded because Windows drops it.
// - Refused (RCBS_UNSAFE_NAME, the record goes to quarantine): a missing or empty
//   name, a name made only of dots, a name holding a path separator (`/`, `\`) or a
//   control character (NUL included) — such a name is an attempt at traversal or
//   corrupt data, not a name to file under an encoded spelling (SPEC §5) — and
//   the reserved Windows device names (CON,
//   PRN, AUX, NUL, COM0-9, LPT0-9), also with an extension (`nul.txt`).
// - An encoded name longer than MAX_NAME_BYTES is cut and ends in `~` plus 16 hex
//   digits of the SHA-256 of the original name. `~` is always encoded otherwise,
//   so a shortened name never equals a name that was not shortened.
// Not handled: two ids that differ only in letter case land on the same file on
// case-insensitive file systems (Windows, macOS); GWS ids are not known to do so.

import { createHash } from 'node:crypto';
import { RcbsError } from '../errors.js';

/** Longest name (before `.bin`/`.json`), in bytes; leaves room for temp-file affixes under 255. */
export const MAX_NAME_BYTES = 200;

const KEPT = /^[A-Za-z0-9._@+=-]$/;
/** A name made of KEPT characters only, without a dot first or last: kept as it is. */
const PLAIN = /^[A-Za-z0-9_@+=-](?:[A-Za-z0-9._@+=-]*[A-Za-z0-9_@+=-])?$/;
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

function encodeChar(ch: string): string {
  return [...Buffer.from(ch, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
}

/** What kind of name it is, for the error message: "recording id", "mediaId", "tenant". */
export type NameKind = string;

/** A safe, one-to-one file-system name for `value`, or RCBS_UNSAFE_NAME. */
export function safeName(value: unknown, kind: NameKind): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new RcbsError('RCBS_UNSAFE_NAME', `the ${kind} is missing or empty, so the record cannot be filed`, { kind, value: value === undefined ? null : value });
  }
  if (/^\.+$/.test(value)) {
    throw new RcbsError('RCBS_UNSAFE_NAME', `the ${kind} ${JSON.stringify(value)} is only dots and cannot be a file name`, { kind, value });
  }
  if (/[/\\\u0000-\u001f\u007f]/.test(value)) {
    throw new RcbsError('RCBS_UNSAFE_NAME', `the ${kind} ${JSON.stringify(value)} holds a path separator or a control character and cannot be a file name`, { kind, value });
  }
  const base = value.split('.')[0]!;
  if (RESERVED.test(base.trimEnd())) {
    throw new RcbsError('RCBS_UNSAFE_NAME', `the ${kind} ${JSON.stringify(value)} is a reserved device name on Windows and cannot be a file name`, { kind, value });
  }
  // Nearly every id: nothing to encode, no dot at either end, short enough. The loop below
  // would give the value back unchanged, at ~5 µs a name (4% of a 50k CSV export's CPU).
  if (value.length <= MAX_NAME_BYTES && PLAIN.test(value)) return value;
  const chars = [...value];
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const edgeDot = ch === '.' && (i === 0 || i === chars.length - 1);
    out += KEPT.test(ch) && !edgeDot ? ch : encodeChar(ch);
  }
  if (out.length > MAX_NAME_BYTES) {
    const digest = createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 16);
    let cut = MAX_NAME_BYTES - 17;
    // Never cut an escape in half: back up to before a partial %XX.
    const tail = out.slice(cut - 2, cut);
    if (tail[1] === '%') cut -= 1;
    else if (tail[0] === '%') cut -= 2;
    out = out.slice(0, cut) + '~' + digest;
  }
  return out;
}

const TOKENS = /yyyy|MM|dd|HH|mm|ss/g;

/** Checks a recordingFolderFormat once: `/`-separated segments of the tokens
 * yyyy MM dd HH mm ss and literal text that is itself a safe name. */
export function checkFolderFormat(format: string): string[] {
  const segments = format.split('/').filter((s) => s.length > 0);
  for (const segment of segments) {
    const literal = segment.replace(TOKENS, '0');
    let safe: string;
    try {
      safe = safeName(literal, 'recordingFolderFormat segment');
    } catch {
      safe = '';
    }
    if (safe !== literal) {
      throw new RcbsError(
        'RCBS_CONFIG_INVALID',
        `recordingFolderFormat ${JSON.stringify(format)}: the segment ${JSON.stringify(segment)} is not a safe folder name; use the tokens yyyy MM dd HH mm ss, "/" between folders, and letters, digits or . _ @ + = - around them`,
        { key: 'recordingFolderFormat', value: format },
      );
    }
  }
  return segments;
}

/** The folder of a start time (UTC), e.g. ["2015","09","01","16"] for yyyy/MM/dd/HH. */
export function renderFolder(segments: readonly string[], epochMs: number): string[] {
  return segments.map((s) => formatUtc(s, epochMs));
}

/** A time in UTC with the tokens yyyy MM dd HH mm ss (other text kept as it is). */
export function formatUtc(pattern: string, epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  const values: Record<string, string> = {
    yyyy: String(d.getUTCFullYear()).padStart(4, '0'),
    MM: two(d.getUTCMonth() + 1),
    dd: two(d.getUTCDate()),
    HH: two(d.getUTCHours()),
    mm: two(d.getUTCMinutes()),
    ss: two(d.getUTCSeconds()),
  };
  return pattern.replace(TOKENS, (t) => values[t]!);
}
