// Sink `file`: writes each record (the row `select` made, else the recording) to files
// named by a path template (SPEC §6): `{"format": "ndjson" | "csv", "path":
// "<template>", "gzip": true | false}`. The template (src/sinks/file/template.ts)
// inserts fields and UTC date parts and never leaves its fixed folder; the files
// (src/sinks/file/writers.ts) are written atomically: temp + fsync + rename once the
// run is complete, removed when it stops early or fails. gzip compresses; the name is
// used as written (no `.gz` added).
//
// A record whose path cannot be rendered (no such field, a value that cannot be a
// name, no usable time) fails on its own, listed at the end (exit 1); the others are
// written. Records pass on unchanged, so sinks chain and --ndjson still works.

import { isRcbsError, RcbsError, toRcbsError } from '../errors.js';
import { onRunEnd } from '../pipeline/context.js';
import { failRecord } from '../pipeline/outcome.js';
import { mapInTurn } from '../pipeline/streams.js';
import { defineComponent, type PipelineRecord } from '../pipeline/types.js';
import { compileTemplate } from './file/template.js';
import { ExportFiles, type ExportFormat } from './file/writers.js';

interface Options {
  format: ExportFormat;
  path: string;
  gzip?: boolean;
}

/** Open writers at most (each a file descriptor, and a deflate state when gzipped). */
export const MAX_OPEN_FILES = 32;

export default defineComponent<Options>({
  kind: 'sink',
  name: 'file',
  description: 'Writes records (or the rows of a select) as NDJSON or CSV into files named by a path template with fields and UTC date parts; optional gzip; each file written atomically at the end of the run.',
  options: {
    type: 'object',
    required: ['format', 'path'],
    properties: {
      format: { type: 'string', enum: ['ndjson', 'csv'], description: 'ndjson: one JSON object per line; csv: RFC 4180 with a header row of the field names, formula-like cells escaped' },
      path: { type: 'string', minLength: 1, description: 'path template, relative to the current folder or absolute: {field.path} inserts a field, {startTime:yyyy/MM/dd} a UTC time (yyyy MM dd HH mm), e.g. exports/{startTime:yyyy/MM/dd}.csv' },
      gzip: { type: 'boolean', description: 'gzip each file (default false); the name is used as written' },
    },
    additionalProperties: false,
  },
  example: {
    says: 'one gzipped CSV per tenant and UTC day, e.g. exports/Environment/2026/12/01.csv.gz (put a `select` before it to choose the columns).',
    with: { format: 'csv', path: 'exports/{mediaFiles.tenant}/{startTime:yyyy/MM/dd}.csv.gz', gzip: true },
  },
  check(options) {
    const problems: string[] = [];
    compileTemplate(options.path, problems);
    return problems;
  },
  create(options, context) {
    const problems: string[] = [];
    const template = compileTemplate(options.path, problems);
    if (problems.length > 0) throw new RcbsError('RCBS_PIPELINE_INVALID', `file: ${problems.join('; ')}`, { problems });
    const files = new ExportFiles({ format: options.format, gzip: options.gzip ?? false, maxOpen: MAX_OPEN_FILES, log: context.log });
    const planned = new Set<string>();

    const fail = (record: PipelineRecord, err: unknown) => {
      const e = toRcbsError(err, 'RCBS_STORE_IO');
      failRecord(record, 'file', { code: e.code, message: e.message });
    };

    // Renamed into place only when the whole run went through; else removed.
    onRunEnd(context, async (complete) => {
      if (context.dryRun) {
        context.log.info(`file: would write ${planned.size} file(s) under ${template.fixedDir}`);
        return;
      }
      if (!complete) {
        await files.abort();
        if (files.rows > 0) context.log.warn(`file: the run did not complete: no export file written under ${template.fixedDir} (temp files removed)`);
        return;
      }
      const written = await files.commit();
      context.log.info(`file: wrote ${files.rows} ${options.format === 'csv' ? 'row' : 'record'}(s) into ${written.length} file(s) under ${template.fixedDir}`);
    });

    const write = async (record: PipelineRecord): Promise<PipelineRecord[]> => {
      let finalPath: string;
      try {
        finalPath = template.render(record);
      } catch (err) {
        if (!isRcbsError(err) || err.code !== 'RCBS_UNSAFE_NAME') throw err;
        fail(record, err);
        return [record];
      }
      if (context.dryRun) {
        planned.add(finalPath);
        return [record];
      }
      // A write that fails (disk full) fails the run: the files are incomplete.
      await files.write(finalPath, record.row ?? record.recording);
      return [record];
    };

    // One record at a time: rows keep their order within each file.
    return (records) => mapInTurn(records, write);
  },
});
