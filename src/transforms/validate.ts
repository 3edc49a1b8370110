// Transform `validate`: checks each recording against schemas/recording.schema.json
// (SPEC §5, §6). A record that does not match goes to .rcbs/quarantine.ndjson with
// every problem and its JSON path, is counted, and leaves the stream; the run goes
// on. Valid records pass untouched: the schema only reads, so unknown fields stay
// exactly as GWS sent them. Unsafe names are not checked here: the store's
// sanitiser decides those when it computes paths.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { RcbsError } from '../errors.js';
import { RECORDING_AJV_OPTIONS, validatorFor } from '../pipeline/validators.js';

import { quarantineRecord } from '../pipeline/quarantine.js';
import { keepWhere } from '../pipeline/streams.js';
import { defineComponent, type PipelineRecord } from '../pipeline/types.js';

interface Options {
  /** Another schema file (e.g. a stricter one an operator keeps); default the packaged schema. */
  schema?: string;
}

// src/transforms and dist/transforms are both two levels below the package root.
export const RECORDING_SCHEMA_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas', 'recording.schema.json');

/** What a bad value looked like, short enough for a log line. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}

function describe(error: ErrorObject, nested: ErrorObject[]): string {
  const where = error.instancePath || '/';
  // A schema's `title` says what is expected better than a raw regex or an anyOf.
  const title = (error.parentSchema as { title?: unknown } | undefined)?.title;
  let problem: string;
  // (Not for "one of these properties is required": the alternatives say that best.)
  const aboutValue = error.keyword === 'pattern' || (error.keyword === 'anyOf' && nested.some((e) => e.keyword !== 'required'));
  if (aboutValue && typeof title === 'string') {
    problem = `must be ${title}`;
  } else if (error.keyword === 'anyOf' && nested.length > 0) {
    // "must match a schema in anyOf" says nothing; the alternatives do.
    problem = [...new Set(nested.map((e) => e.message ?? 'is invalid'))].join(', or ');
  } else {
    problem = error.message ?? 'is invalid';
  }
  const isObject = error.data !== null && typeof error.data === 'object';
  const got = error.data === undefined || isObject ? '' : ` (got ${shown(error.data)})`;
  return `${where}: ${problem}${got}`;
}

/** Every Ajv error as `<JSON path>: <problem>`, anyOf alternatives folded into one line. */
export function describeRecordErrors(errors: ErrorObject[]): string {
  const isNested = (inner: ErrorObject, outer: ErrorObject) =>
    inner !== outer &&
    inner.schemaPath.startsWith(outer.schemaPath + '/') &&
    (inner.instancePath === outer.instancePath || inner.instancePath.startsWith(outer.instancePath + '/'));
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  const lines: string[] = [];
  for (const error of errors) {
    if (anyOfs.some((outer) => isNested(error, outer))) continue;
    lines.push(describe(error, error.keyword === 'anyOf' ? errors.filter((e) => isNested(e, error)) : []));
  }
  return [...new Set(lines)].join('; ');
}

export default defineComponent<Options>({
  kind: 'transform',
  name: 'validate',
  description: 'Checks each recording against the recording schema; invalid ones go to quarantine and the run goes on.',
  options: {
    type: 'object',
    properties: {
      schema: { type: 'string', minLength: 1, description: 'schema file to use instead of the packaged schemas/recording.schema.json' },
    },
    additionalProperties: false,
  },
  async create(options, context, self) {
    const schemaPath = options.schema ?? RECORDING_SCHEMA_PATH;
    let schema: unknown;
    try {
      schema = JSON.parse(await readFile(schemaPath, 'utf8'));
    } catch (err) {
      throw new RcbsError('RCBS_PIPELINE_INVALID', `validate: cannot read the recording schema ${schemaPath}: ${(err as Error).message}; check the "schema" option`, { path: schemaPath }, { cause: err });
    }
    // Once per run (precompiled at build time for the packaged schema); verbose keeps the offending value for the reason.
    let check: ValidateFunction;
    try {
      check = validatorFor('recording', schema as object, RECORDING_AJV_OPTIONS);
    } catch (err) {
      throw new RcbsError('RCBS_PIPELINE_INVALID', `validate: ${schemaPath} is not a usable JSON schema: ${(err as Error).message}`, { path: schemaPath }, { cause: err });
    }

    const quarantine = (record: PipelineRecord, reason: string) => quarantineRecord(context, self, record, { code: 'RCBS_RECORD_INVALID', message: reason });

    // A quarantine that cannot be written fails the run: dropping the record silently would lose it.
    return (records) =>
      keepWhere(records, async (record) => {
        if (check(record.recording)) return true;
        await quarantine(record, describeRecordErrors(check.errors ?? []));
        return false;
      });
  },
});
