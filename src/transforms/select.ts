// Transform `select`: keeps and renames fields by path (SPEC §6), making each record
// a row: `{"fields": {"<output name>": "<path>", …}}`, output fields in the order
// given. With `"flatten": "mediaFiles"` each media file becomes its own row carrying
// its recording's fields, and `mediaFiles.<x>` names that one file's field (the row
// shape a CSV of calls needs: one line per media file).
//
// A row is no longer a recording: it goes to record.row, which the `file` and
// `ndjson` sinks write instead of the recording, while the recording and its outcome
// stay on the record for the summary and the failures list. A path that finds
// nothing gives null (the column is still there, empty in a CSV); a path that finds
// several values (through an array, without flatten) gives them as an array.
// `@path`, `@bytes`, `@mediaStatus` give the outcome of the media file of the row
// (with flatten) or of the recording's media; `@status`, `@dir`, `@json` the record's.
//
// A recording without media files gives no row under flatten: it is dropped and
// counted with that reason, never silently.

import { checkPath, parsePath, recordValue, valueAt, type FieldPath } from '../pipeline/fields.js';
import { mapInTurn, onEnd } from '../pipeline/streams.js';
import { defineComponent, type PipelineRecord } from '../pipeline/types.js';
import { mediaFilesOf, mediaIdOf, recordingId, type MediaFile } from '../recording.js';

interface Options {
  flatten?: 'mediaFiles';
  fields: Record<string, string>;
}

export default defineComponent<Options>({
  kind: 'transform',
  name: 'select',
  description: 'Keeps and renames fields by path, making each record a row (output fields in the order given); flatten "mediaFiles" gives one row per media file with its recording\'s fields.',
  // With flatten, one recording in gives one row per media file out.
  fansOut: true,
  options: {
    type: 'object',
    required: ['fields'],
    properties: {
      flatten: { type: 'string', enum: ['mediaFiles'], description: 'one row per media file; mediaFiles.<x> then names that file\'s field' },
      fields: {
        type: 'object',
        minProperties: 1,
        additionalProperties: { type: 'string' },
        description: 'output name → field path, in output order, e.g. {"id": "id", "agent": "parameters.agentId", "type": "mediaFiles.type", "file": "@path"}',
      },
    },
    additionalProperties: false,
  },
  example: {
    says: 'one row per media file, with the recording\'s id and start, the file\'s agent and type, and where it is in the backup (`@path`, relative to targetDir).',
    with: {
      flatten: 'mediaFiles',
      fields: { recordingId: 'id', startTime: 'startTime', agent: 'mediaFiles.parameters.agentId', type: 'mediaFiles.type', path: '@path' },
    },
  },
  check(options) {
    const problems: string[] = [];
    for (const [name, text] of Object.entries(options.fields ?? {})) {
      const problem = checkPath(text);
      if (problem) problems.push(`/fields/${name}: ${problem}`);
    }
    return problems;
  },
  create(options, context, self) {
    const fields: Array<[string, FieldPath]> = Object.entries(options.fields).map(([name, text]) => [name, parsePath(text)!]);
    const flatten = options.flatten === 'mediaFiles';
    let noMedia = 0;

    const rowOf = (record: PipelineRecord, file?: MediaFile): Record<string, unknown> => {
      const row: Record<string, unknown> = {};
      for (const [name, path] of fields) {
        // With flatten, mediaFiles.<x> is this one file's field.
        row[name] = file !== undefined && path[0] === 'mediaFiles' ? valueAt(file, path, 1) : recordValue(record, path);
      }
      return row;
    };

    const flattened = (record: PipelineRecord): PipelineRecord[] => {
      const files = mediaFilesOf(record.row ?? record.recording);
      if (files.length === 0) {
        noMedia++;
        self.drop(record, { kind: 'filtered', message: 'select flatten: the recording has no media files' });
        context.log.debug('record dropped', { recordingId: recordingId(record.recording) ?? '(no id)', reason: 'select flatten: the recording has no media files' });
        return [];
      }
      return files.map((file) => {
        const mediaId = mediaIdOf(file);
        // The row's own outcome: its media file's, so @path is that file's path.
        // Object.assign, not an object spread (newRecord says why).
        const perFile: PipelineRecord = Object.assign({}, record);
        perFile.media = record.media.filter((m) => m.mediaId === mediaId);
        perFile.errors = [...record.errors];
        perFile.row = rowOf(perFile, file);
        return perFile;
      });
    };

    return (records) => {
      const rows = flatten
        ? mapInTurn(records, flattened)
        : records.map((record) => {
            record.row = rowOf(record);
            return record;
          });
      return onEnd(rows, () => {
        if (noMedia > 0) context.log.info(`select: ${noMedia} recording(s) without media files gave no row (flatten "mediaFiles")`);
      });
    };
  },
});
