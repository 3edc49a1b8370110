// Sink `ndjson`: writes each record that reaches it, with its outcome, as one
// JSON line to stdout (or a file), waiting for 'drain' so a slow reader slows
// the whole pipeline down instead of filling memory. Records pass on unchanged.

import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import _ from '../pipeline/highland.js';
import { defineComponent, settleStatus, type PipelineRecord } from '../pipeline/types.js';

interface Options {
  /** File to write; `-` or absent means stdout. */
  path?: string;
}

/** What a record looks like on the wire: the recording and its outcome; a row made by
 * `select` is written as it is (it is the data now, field order kept). */
export function recordLine(record: PipelineRecord): string {
  const status = settleStatus(record);
  if (record.row) return JSON.stringify(record.row) + '\n';
  const { recording, media, dir, json, errors } = record;
  return JSON.stringify({ recording, status, media, dir, json, errors: errors.length ? errors : undefined }) + '\n';
}

export default defineComponent<Options>({
  kind: 'sink',
  name: 'ndjson',
  description: 'Writes each record with its outcome as one JSON line to stdout or a file.',
  options: {
    type: 'object',
    properties: { path: { type: 'string', minLength: 1, description: 'file to write; "-" or absent writes stdout' } },
    additionalProperties: false,
  },
  create(options, context) {
    const toStdout = options.path === undefined || options.path === '-';
    return (records) => {
      const out: Writable = toStdout ? context.stdout : createWriteStream(options.path!, { flags: 'w' });
      let failure: Error | undefined;
      const onError = (err: Error) => {
        failure = err;
      };
      out.on('error', onError);
      return records
        .consume<PipelineRecord>((err, record, push, next) => {
          if (err) {
            push(err);
            next();
          } else if (_.isNil(record)) {
            if (!toStdout) out.end();
            out.off('error', onError);
            push(null, _.nil);
          } else if (failure || out.destroyed) {
            // The reader went away (| head): the runner sees the closed stdout and stops the source.
            push(null, record);
            next();
          } else if (out.write(recordLine(record))) {
            push(null, record);
            next();
          } else {
            // Resume on drain, or when the reader goes away mid-wait (no hang on | head).
            const resume = () => {
              out.off('drain', resume);
              out.off('close', resume);
              out.off('error', resume);
              push(null, record);
              next();
            };
            out.on('drain', resume);
            out.on('close', resume);
            out.on('error', resume);
          }
        });
    };
  },
});
