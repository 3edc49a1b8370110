// Judges a target folder against the sandbox it was backed up from, the way an
// operator must be able to trust it after any fault (issue 5): every file under a
// final name is complete and byte-exact (media MD5 = the S3 object's), every JSON
// parses, every index entry points at a file of the recorded size, and
// last_recording_endtime.txt never claims a recording that is not there.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Sandbox } from '../../src/sandbox/index.js';
import { cleanEnv } from './cli.js';

export const WANTED_TYPE = /^(audio\/mp3|video\/mp4)$/;

export interface BackupState {
  /** Problems that break trust: corrupt or unknown final files, index lies, checkpoint past a gap. */
  problems: string[];
  /** mediaIds present under a final name (byte-exact). */
  media: Set<string>;
  /** Recording ids with a metadata JSON. */
  recordings: Set<string>;
  /** Temp files (`.<name>.<hex>.part`) left in the tree. */
  temps: string[];
  /** Expected (wanted) mediaIds missing. */
  missing: string[];
  checkpoint?: number;
  complete: boolean;
}

/** Every file below `dir` (absolute paths), dot files and .rcbs/ included. */
export function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

function ndjsonLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a torn last line after kill -9 is allowed; the journal skips it
    }
  }
  return out;
}

/** The good recordings of a sandbox (no oddities) and their wanted media. */
export function wantedMedia(sandbox: Sandbox, keep: (recordingId: string) => boolean = () => true): Map<string, { recordingId: string; stopTimeMs: number }> {
  const out = new Map<string, { recordingId: string; stopTimeMs: number }>();
  for (const r of sandbox.recordings) {
    if (r.odd || r.id === undefined || !keep(r.id)) continue;
    for (const m of r.media) if (m.upload && m.type && WANTED_TYPE.test(m.type)) out.set(m.mediaId, { recordingId: r.id, stopTimeMs: r.stopTimeMs });
  }
  return out;
}

export function backupState(targetDir: string, sandbox: Sandbox, keep?: (recordingId: string) => boolean): BackupState {
  const problems: string[] = [];
  const media = new Set<string>();
  const recordings = new Set<string>();
  const temps: string[] = [];
  const stateDir = path.join(targetDir, '.rcbs');
  for (const file of walk(targetDir)) {
    if (file.startsWith(stateDir + path.sep)) continue;
    const rel = path.relative(targetDir, file);
    const name = path.basename(file);
    if (rel.startsWith('..') || path.isAbsolute(rel)) problems.push(`file outside targetDir: ${file}`);
    if (name.startsWith('.') && name.endsWith('.part')) {
      temps.push(rel);
    } else if (name.endsWith('.bin')) {
      const mediaId = name.slice(0, -4);
      const expected = sandbox.media(mediaId);
      const md5 = createHash('md5').update(readFileSync(file)).digest('hex');
      if (!expected) problems.push(`unknown media file ${rel}`);
      else if (md5 !== expected.encryptedMd5) problems.push(`media ${rel} is not byte-exact (md5 ${md5}, S3 has ${expected.encryptedMd5})`);
      else media.add(mediaId);
    } else if (name.endsWith('.json')) {
      try {
        const json = JSON.parse(readFileSync(file, 'utf8')) as { id?: string };
        recordings.add(String(json.id ?? name.slice(0, -5)));
      } catch {
        problems.push(`metadata ${rel} does not parse`);
      }
    } else {
      problems.push(`unexpected file ${rel}`);
    }
  }
  for (const entry of ndjsonLines(path.join(stateDir, 'index.ndjson'))) {
    const file = path.join(targetDir, String(entry.path));
    if (!existsSync(file)) problems.push(`index lists ${String(entry.path)}, which is missing`);
    else if (typeof entry.size === 'number' && statSync(file).size !== entry.size) problems.push(`index size ${entry.size} for ${String(entry.path)} but the file has ${statSync(file).size}`);
  }
  const wanted = wantedMedia(sandbox, keep);
  const missing = [...wanted.keys()].filter((id) => !media.has(id));
  let checkpoint: number | undefined;
  const checkpointFile = path.join(stateDir, 'last_recording_endtime.txt');
  if (existsSync(checkpointFile)) {
    checkpoint = Number(readFileSync(checkpointFile, 'utf8').trim());
    for (const id of missing) {
      const w = wanted.get(id)!;
      if (w.stopTimeMs < checkpoint) problems.push(`last_recording_endtime.txt=${checkpoint} is past missing media ${id} (stopTime ${w.stopTimeMs})`);
    }
  }
  const wantedRecordings = new Set([...wanted.values()].map((w) => w.recordingId));
  const complete = missing.length === 0 && [...wantedRecordings].every((id) => recordings.has(id));
  return { problems, media, recordings, temps, missing, ...(checkpoint !== undefined ? { checkpoint } : {}), complete };
}

/** Where a targetDir's files are, for waiting on progress: count of temp and final media files. */
export function progressOf(targetDir: string): { temps: number; finals: number; indexed: number } {
  let temps = 0;
  let finals = 0;
  for (const file of walk(targetDir)) {
    const name = path.basename(file);
    if (name.endsWith('.part')) temps++;
    else if (name.endsWith('.bin')) finals++;
  }
  const index = path.join(targetDir, '.rcbs', 'index.ndjson');
  const indexed = existsSync(index) ? readFileSync(index, 'utf8').split('\n').filter(Boolean).length : 0;
  return { temps, finals, indexed };
}

/** Polls `check` every few ms until it is true or the deadline passes. */
export async function until(check: () => boolean, deadlineMs = 10_000, everyMs = 5): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}

/** A backup of the sandbox set up in `dir`: <dir>/target, <dir>/config.properties (its text
 * passed through `edit`, e.g. to point at a fault proxy) and the CLI's environment. */
export function sandboxBackup(dir: string, sandbox: Sandbox, extra: Parameters<Sandbox['configProperties']>[1] = {}, edit: (text: string) => string = (text) => text): { targetDir: string; config: string; env: NodeJS.ProcessEnv } {
  const targetDir = path.join(dir, 'target');
  const config = path.join(dir, 'config.properties');
  writeFileSync(config, edit(sandbox.configProperties(targetDir, extra)));
  return { targetDir, config, env: cliEnv(sandbox.env()) };
}

/** cleanEnv without the NODE_OPTIONS loaders tap passes down (TypeScript, mock): they make
 * every spawned CLI about twice as slow to start, and the CLI under test is the built
 * dist/cli.js, which needs none of them. (tap's processinfo hook adds itself back.) */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({ NODE_OPTIONS: '', ...extra });
}
