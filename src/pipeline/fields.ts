// Field paths and values as the export components read them (SPEC §6): `filter`
// tests them, `select` copies them, the `file` sink puts them in paths. One place so
// the three can never disagree on what `mediaFiles.type` or `size: "406080"` means.
//
// A path is dot-separated (`parameters.agentId`). Through an array it reaches every
// element (`mediaFiles.type` is the type of each media file), so a path gives a list
// of values, empty when nothing is there. Paths are plain property lookups: never
// evaluated code, never a JSONPath engine (SPEC §6).
//
// A path starting with `@` names the record's outcome rather than the data:
// `@status`, `@dir`, `@json`, and `@path` / `@bytes` / `@mediaStatus` of the record's
// media files (with select's flatten, of that one file): what `--ndjson` shows.

import { parseGwsTime } from '../recording.js';
import type { PipelineRecord } from './types.js';

export type FieldPath = readonly string[];

/** Splits `a.b.c`; a path with an empty segment (`a..b`, `.a`) is refused. */
export function parsePath(text: string): FieldPath | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  const segments = text.split('.');
  return segments.every((s) => s.length > 0) ? segments : undefined;
}

const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key);

/** Every value at `path` (from segment `from` on) under `root`, arrays entered at each
 * step; the last value itself is not unpacked (callers decide: a test looks into it,
 * select keeps it). Walked depth first into one array: the order is the same as step
 * by step (all values sit at the same depth) and a plain path allocates only its answer. */
export function valuesAt(root: unknown, path: FieldPath, from = 0): unknown[] {
  const found: unknown[] = [];
  collect(root, path, from, found);
  return found;
}

function collect(value: unknown, path: FieldPath, index: number, found: unknown[]): void {
  if (index === path.length) {
    found.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) stepInto(item, path, index, found);
  } else {
    stepInto(value, path, index, found);
  }
}

function stepInto(item: unknown, path: FieldPath, index: number, found: unknown[]): void {
  const segment = path[index]!;
  // Own properties only: `constructor` or `__proto__` are not fields of a recording.
  if (item !== null && typeof item === 'object' && !Array.isArray(item) && hasOwn(item, segment)) {
    const value = (item as Record<string, unknown>)[segment];
    if (value !== undefined) collect(value, path, index + 1, found);
  }
}

/** Values as one: null when there are none, the value when one, else the list. */
export const asOne = (values: unknown[]): unknown => (values.length === 0 ? null : values.length === 1 ? values[0] : values);

/** `asOne(valuesAt(root, path, from))`, without building a list while the path meets no
 * array (select reads a dozen fields of every row). */
export function valueAt(root: unknown, path: FieldPath, from = 0): unknown {
  let value = root;
  for (let index = from; index < path.length; index++) {
    if (Array.isArray(value)) return asOne(valuesAt(value, path, index));
    const segment = path[index]!;
    if (value === null || typeof value !== 'object' || !hasOwn(value, segment)) return null;
    value = (value as Record<string, unknown>)[segment];
    if (value === undefined) return null;
  }
  return value === undefined ? null : value;
}

/** What the record stands for downstream: the row `select` made, else the recording. */
export function subjectOf(record: PipelineRecord): Record<string, unknown> {
  return record.row ?? record.recording;
}

/** The `@` fields of a record's outcome (see the header). */
export function outcomeValue(record: PipelineRecord, name: string): unknown {
  switch (name) {
    case 'status':
      return record.status;
    case 'dir':
      return record.dir;
    case 'json':
      return record.json;
    case 'path':
      return pick(record.media.map((m) => m.path));
    case 'bytes':
      return pick(record.media.map((m) => m.bytes));
    case 'mediaStatus':
      return pick(record.media.map((m) => m.status));
    default:
      return undefined;
  }
}

function pick(values: unknown[]): unknown {
  const present = values.filter((v) => v !== undefined);
  return present.length === 0 ? undefined : present.length === 1 ? present[0] : present;
}

export const OUTCOME_FIELDS = ['status', 'dir', 'json', 'path', 'bytes', 'mediaStatus'] as const;

/** Values at a path of a record: `@name` from its outcome, else from its subject. */
export function recordValues(record: PipelineRecord, path: FieldPath): unknown[] {
  if (path[0]!.startsWith('@')) {
    const value = outcomeValue(record, path[0]!.slice(1));
    return value === undefined ? [] : valuesAt(value, path, 1);
  }
  return valuesAt(subjectOf(record), path);
}

/** `asOne(recordValues(record, path))` (see valueAt). */
export function recordValue(record: PipelineRecord, path: FieldPath): unknown {
  if (path[0]!.startsWith('@')) return valueAt(outcomeValue(record, path[0]!.slice(1)), path, 1);
  return valueAt(subjectOf(record), path);
}

/** A path as written in a pipeline: dot segments, or an `@` outcome field. */
export function checkPath(text: unknown): string | undefined {
  if (typeof text !== 'string') return 'must be a string';
  const path = parsePath(text);
  if (!path) return `"${text}" is not a field path: use names separated by dots, such as parameters.agentId`;
  if (path[0]!.startsWith('@') && !(OUTCOME_FIELDS as readonly string[]).includes(path[0]!.slice(1))) {
    return `"${text}": ${path[0]} is not an outcome field; use one of ${OUTCOME_FIELDS.map((f) => '@' + f).join(', ')}`;
  }
  return undefined;
}

const NUMERIC = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** A number, or a string that looks like one (`size: "406080"`); else undefined. */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && NUMERIC.test(value)) return Number(value);
  return undefined;
}

/** An instant in epoch ms: a GWS time (`2015-09-01T16:42:59.000+0000`), ISO-8601
 * (a date alone is 00:00 UTC), or epoch ms as a number or a string of digits. */
export function asInstant(value: unknown): number | undefined {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value.trim())) {
    const ms = Date.parse(value.trim() + 'T00:00:00Z');
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value.trim());
  return parseGwsTime(value);
}

/** A value as text in a path or a CSV cell: strings as they are, numbers and booleans
 * printed, objects and arrays as JSON; null and undefined are empty. */
export function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}
