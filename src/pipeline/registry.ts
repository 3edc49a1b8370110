// Every component, one line each. Adding a component = adding its file and a line here
// (then `npm run docs` regenerates docs/components.md and the schema's name lists).

import type { ComponentDef, ComponentKind } from './types.js';
import gwsRecordings from '../sources/gws-recordings.js';
import ndjsonSource from '../sources/ndjson.js';
import backupDir from '../sources/backup-dir.js';
import validate from '../transforms/validate.js';
import mediaType from '../transforms/media-type.js';
import shard from '../transforms/shard.js';
import dedupe from '../transforms/dedupe.js';
import filter from '../transforms/filter.js';
import select from '../transforms/select.js';
import s3Download from '../sinks/s3-download.js';
import jsonWriter from '../sinks/json-writer.js';
import ndjsonSink from '../sinks/ndjson.js';
import decryptSink from '../sinks/decrypt.js';
import verify from '../sinks/verify.js';
import fileSink from '../sinks/file.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const COMPONENTS: ReadonlyArray<ComponentDef<any>> = [
  gwsRecordings,
  ndjsonSource,
  backupDir,
  validate,
  mediaType,
  shard,
  dedupe,
  filter,
  select,
  s3Download,
  jsonWriter,
  ndjsonSink,
  decryptSink,
  verify,
  fileSink,
];

export function findComponent(kind: ComponentKind, name: string): ComponentDef<Record<string, unknown>> | undefined {
  return COMPONENTS.find((c) => c.kind === kind && c.name === name);
}

export function componentNames(kind: ComponentKind): string[] {
  return COMPONENTS.filter((c) => c.kind === kind).map((c) => c.name).sort();
}
