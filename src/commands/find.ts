// `rcbs find`: searches the metadata JSON of a backup (the guide: "can be used for
// finding specific calls … by searching for a particular string of text, perhaps
// the callerPhoneNumber") and prints each matching recording as one NDJSON line.
// The walk is a stream (fast-glob's), one file at a time, so a backup of millions
// of recordings searches in flat memory. Each file is read whole and JSON.parse'd:
// recording JSON is a few KB, where a streaming parser is slower (FACTS.md).

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log.js';
import { mediaFilesOf, parseGwsTime, recordingId, tenantOf } from '../recording.js';
import type { Recording } from '../pipeline/types.js';
import { mediaTypeMatcher } from '../transforms/media-type.js';
import { isRcbsError } from '../errors.js';

export interface FindOptions {
  targetDir: string;
  caller?: string;
  dialed?: string;
  from?: string;
  to?: string;
  agent?: string;
  /** Regex (case-insensitive, anywhere in the value unless anchored) on the same fields as `agent`. */
  agentMatch?: string;
  tenant?: string;
  id?: string;
  mediaType?: string;
  text?: string;
  /** Wrap each line as {"path","recording"}. */
  withPath?: boolean;
}

/** For the CLI: `.addHelpText('after', FIND_HELP)`. */
export const FIND_HELP = `
Prints one JSON line per matching recording: the recording's metadata exactly as stored.
With --with-path: {"path":"<JSON file relative to targetDir>","recording":{…}} instead.
All given filters must match (AND):
  --caller N      digits of N within callerPhoneNumber or a media file's parameters.ani (non-digits ignored)
  --dialed N      digits of N within dialedPhoneNumber or a media file's parameters.dnis
  --from T        recording startTime at or after T
  --to T          recording startTime at or before T (a date alone includes that whole day)
                  T: YYYY-MM-DD (UTC), an ISO-8601 date-time (UTC unless it has an offset) or epoch ms
  --agent A       A is exactly a media file's parameters.agentId or parameters.username, or an
                  eventHistory agentId or contact userName (case-insensitive): agent1 never
                  matches agent10
  --agent-match R regex R found in one of those fields (case-insensitive; anchor with ^ and $):
                  --agent-match '^agent1[0-9]$' for agent10..agent19, --agent-match smith for
                  every user name holding "smith"
  --tenant T      a media file's tenant is T (case-insensitive)
  --id ID         the recording id is ID, or it is a screen recording of call ID (callRecordingId)
  --media-type R  a media file's type fully matches regex R (as mediaTypePattern)
  --text S        S anywhere in the JSON file (case-insensitive)
Exit status, like grep: 0 at least one match, 1 no match, 2 bad arguments.
Files are searched in folder walk order; pipe to jq or sort for another order.`;

type Matcher = (recording: Recording, raw: string) => boolean;

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function digitsOf(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value).replace(/\D/g, '') : '';
}

function objectOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function eventsOf(recording: Recording): Array<Record<string, unknown>> {
  return Array.isArray(recording.eventHistory) ? recording.eventHistory.map(objectOf) : [];
}

/** A --from/--to value to epoch ms; a date alone as `to` means the end of that day. */
function parseBound(value: string, bound: 'from' | 'to'): number | undefined {
  const text = value.trim();
  if (DATE_ONLY.test(text)) {
    const start = Date.parse(text + 'T00:00:00Z');
    if (Number.isNaN(start)) return undefined;
    return bound === 'to' ? start + DAY_MS - 1 : start;
  }
  if (/^\d+$/.test(text)) return Number(text);
  // Accept minutes-only date-times too (2015-09-01T16:42).
  const withSeconds = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(Z|[+-]\d{2}:?\d{2})?$/.test(text) ? text.replace(/^(.{16})/, '$1:00') : text;
  return text.includes('T') ? parseGwsTime(withSeconds) : undefined;
}

/** When the recording started: its startTime, else its earliest media file's. */
function startOf(recording: Recording): number | undefined {
  const own = parseGwsTime(recording.startTime);
  if (own !== undefined) return own;
  const starts = mediaFilesOf(recording).map((m) => parseGwsTime(m.startTime)).filter((t): t is number => t !== undefined);
  return starts.length > 0 ? Math.min(...starts) : undefined;
}

/** Builds the filters, or the list of problems with the arguments. */
export function buildMatchers(opts: FindOptions): { matchers: Matcher[]; problems: string[] } {
  const matchers: Matcher[] = [];
  const problems: string[] = [];

  const phone = (flag: string, value: string | undefined, field: string, param: string) => {
    if (value === undefined) return;
    const digits = digitsOf(value);
    if (digits === '') return problems.push(`${flag} "${value}" has no digits: give a phone number such as 8522001 or +1 416 000 0001`);
    matchers.push((r) => [r[field], ...mediaFilesOf(r).map((m) => objectOf(m.parameters)[param])].some((v) => digitsOf(v).includes(digits)));
  };
  phone('--caller', opts.caller, 'callerPhoneNumber', 'ani');
  phone('--dialed', opts.dialed, 'dialedPhoneNumber', 'dnis');

  const from = opts.from === undefined ? undefined : parseBound(opts.from, 'from');
  const to = opts.to === undefined ? undefined : parseBound(opts.to, 'to');
  if (opts.from !== undefined && from === undefined) problems.push(`--from "${opts.from}" is not a time: use YYYY-MM-DD, an ISO-8601 date-time or epoch milliseconds`);
  if (opts.to !== undefined && to === undefined) problems.push(`--to "${opts.to}" is not a time: use YYYY-MM-DD, an ISO-8601 date-time or epoch milliseconds`);
  if (from !== undefined && to !== undefined && from > to) problems.push(`--from ${opts.from} is after --to ${opts.to}: nothing can match`);
  if (from !== undefined || to !== undefined) {
    matchers.push((r) => {
      const start = startOf(r);
      return start !== undefined && (from === undefined || start >= from) && (to === undefined || start <= to);
    });
  }

  const agentsOf = (r: Recording): string[] =>
    [
      ...mediaFilesOf(r).flatMap((m) => [objectOf(m.parameters).agentId, objectOf(m.parameters).username]),
      ...eventsOf(r).flatMap((e) => [e.agentId, objectOf(e.contact).userName]),
    ]
      .filter((v) => typeof v === 'string' || typeof v === 'number')
      .map(String);
  if (opts.agent !== undefined) {
    if (opts.agent.trim() === '') problems.push('--agent is empty: give an agent id or user name');
    const agent = opts.agent.trim().toLowerCase();
    matchers.push((r) => agentsOf(r).some((v) => v.toLowerCase() === agent));
  }
  if (opts.agentMatch !== undefined) {
    try {
      if (opts.agentMatch === '') throw new Error('it is empty');
      const pattern = new RegExp(opts.agentMatch, 'i');
      matchers.push((r) => agentsOf(r).some((v) => pattern.test(v)));
    } catch (err) {
      problems.push(`--agent-match "${opts.agentMatch}" is not a usable regular expression (${(err as Error).message}): e.g. '^agent1[0-9]$'`);
    }
  }

  if (opts.tenant !== undefined) {
    const tenant = opts.tenant.toLowerCase();
    matchers.push((r) => {
      const tenants = [tenantOf(r), ...mediaFilesOf(r).map((m) => m.tenant)];
      return tenants.some((t) => typeof t === 'string' && t.toLowerCase() === tenant);
    });
  }

  if (opts.id !== undefined) {
    const id = opts.id.trim();
    matchers.push((r) => recordingId(r) === id || r.callRecordingId === id);
  }

  if (opts.mediaType !== undefined) {
    try {
      const type = mediaTypeMatcher(opts.mediaType, 'RCBS_USAGE', '--media-type');
      matchers.push((r) => mediaFilesOf(r).some((m) => typeof m.type === 'string' && type.test(m.type)));
    } catch (err) {
      problems.push(isRcbsError(err) ? err.message : String(err));
    }
  }

  if (opts.text !== undefined) {
    if (opts.text === '') problems.push('--text is empty: give the text to look for');
    const text = opts.text.toLowerCase();
    matchers.push((_r, raw) => raw.toLowerCase().includes(text));
  }

  return { matchers, problems };
}

/** Writes to a stream that may go away (| head): resolves false once it has. */
function lineWriter(out: Writable) {
  let gone = out.destroyed || out.writableEnded;
  const onGone = () => {
    gone = true;
  };
  // Kept after the search when the reader went away: late EPIPE errors of queued writes land here.
  const onError = () => onGone();
  out.on('error', onError);
  out.on('close', onGone);
  return {
    get gone() {
      return gone;
    },
    async write(line: string): Promise<boolean> {
      if (gone || out.destroyed) return false;
      if (out.write(line)) return true;
      await new Promise<void>((resolve) => {
        const settle = () => {
          out.off('drain', settle);
          out.off('close', settle);
          out.off('error', settle);
          resolve();
        };
        out.on('drain', settle);
        out.on('close', settle);
        out.on('error', settle);
      });
      return !gone;
    },
    release() {
      out.off('close', onGone);
      if (!gone) out.off('error', onError);
    },
  };
}

export async function findCommand(opts: FindOptions, out: Writable, log: Logger): Promise<number> {
  const { matchers, problems } = buildMatchers(opts);
  const targetDir = path.resolve(opts.targetDir);
  const isDir = await stat(targetDir).then((s) => s.isDirectory(), () => false);
  if (!isDir) log.error(`targetDir ${targetDir} does not exist or is not a folder: point --config (its targetDir) or --target at a backup (is the share mounted?)`, { code: 'RCBS_INPUT_MISSING' });
  for (const problem of problems) log.error(problem, { code: 'RCBS_USAGE' });
  if (!isDir || problems.length > 0) return 2;

  const writer = lineWriter(out);
  let matches = 0;
  let unreadable = 0;
  // .rcbs/ holds state, not recordings; temp files of writes in progress (the store's
  // `.<final>.<random>.part`, hidden by dot: false anyway) are never final JSON.
  // fast-glob loads here, not with the module: cli.ts imports this file for its help text,
  // and every command would pay for it (~9 MB RSS and ~20 ms at start).
  const { default: fg } = await import('fast-glob');
  const files = fg.stream('**/*.json', {
    cwd: targetDir,
    onlyFiles: true,
    dot: false,
    followSymbolicLinks: false,
    ignore: ['**/.rcbs/**', '**/*.part', '**/*.tmp'],
  }) as Readable; // fast-glob types it as the older NodeJS.ReadableStream; it is a Readable
  try {
    for await (const entry of files) {
      const rel = String(entry);
      let raw: string;
      let recording: Recording;
      try {
        raw = await readFile(path.join(targetDir, rel), 'utf8');
        const parsed: unknown = JSON.parse(raw);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
        recording = parsed as Recording;
      } catch (err) {
        unreadable++;
        log.warn(`skipping ${rel}: ${(err as Error).message}`, { path: rel });
        continue;
      }
      if (recordingId(recording) === undefined) {
        log.debug(`skipping ${rel}: not a recording (no id)`, { path: rel });
        continue;
      }
      if (!matchers.every((match) => match(recording, raw))) continue;
      matches++;
      const line = (opts.withPath ? JSON.stringify({ path: rel.split(path.sep).join('/'), recording }) : JSON.stringify(recording)) + '\n';
      if (!(await writer.write(line))) break; // the reader went away (| head): a clean stop
    }
  } finally {
    writer.release();
    // Stops the walk when we left it early.
    files.destroy();
  }
  if (unreadable > 0) log.warn(`${unreadable} JSON file(s) under ${targetDir} could not be read as recordings: results may be incomplete`);
  log.debug('find finished', { matches, stoppedEarly: writer.gone });
  return matches > 0 ? 0 : 1;
}
