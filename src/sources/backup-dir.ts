// Source `backup-dir`: walks an existing backup (SPEC §5 layout) and emits one
// record per <recording id>.json, with each media file found beside it as
// already done ('skipped', with its path), so `decrypt` and `verify` run as
// ordinary pipelines over what is on disk. A JSON that does not parse is
// reported as a failed record (verify lists it; decrypt counts it). A targetDir
// that does not exist (an unmounted share) is RCBS_INPUT_MISSING, exit 2: reading
// nothing must not pass for a backup that checked out (SPEC §2).

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';
import { RcbsError } from '../errors.js';
import { failRecord } from '../pipeline/outcome.js';
import { fromAsyncIterable } from '../pipeline/streams.js';
import { defineComponent, newRecord, type MediaOutcome, type PipelineRecord, type Recording } from '../pipeline/types.js';
import { mediaFilesOf, mediaIdOf } from '../recording.js';

async function sizeOf(file: string): Promise<number | undefined> {
  return stat(file).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
}

export default defineComponent<Record<string, never>>({
  kind: 'source',
  name: 'backup-dir',
  description: 'Walks an existing backup in targetDir: one record per recording JSON, with the media files found beside it.',
  options: { type: 'object', properties: {}, additionalProperties: false },
  async create(_options, context) {
    const targetDir = path.resolve(context.config.targetDir);
    const isFolder = await stat(targetDir).then((s) => s.isDirectory(), () => false);
    if (!isFolder) {
      throw new RcbsError('RCBS_INPUT_MISSING', `targetDir ${targetDir} does not exist or is not a folder: nothing to read (is the share mounted? check targetDir or --target)`, { key: 'targetDir', value: targetDir });
    }
    return () => {
      async function* records(): AsyncGenerator<PipelineRecord> {
        const store = await context.store();
        const root = store.targetDir;
        // Temp files start with a dot, so the default `dot: false` never lists them.
        const files = fg.stream('**/*.json', { cwd: root, ignore: ['.rcbs/**'], onlyFiles: true }) as AsyncIterable<string>;
        for await (const json of files) {
          const dir = path.posix.dirname(json);
          let recording: Recording;
          try {
            const parsed: unknown = JSON.parse(await readFile(path.join(root, json), 'utf8'));
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
            recording = parsed as Recording;
          } catch (err) {
            const record = { ...newRecord({}), dir, json };
            failRecord(record, 'backup-dir', { code: 'RCBS_STORE_IO', message: `${json}: the metadata does not parse (${(err as Error).message})` });
            yield record;
            continue;
          }
          const media: MediaOutcome[] = [];
          for (const file of mediaFilesOf(recording)) {
            const mediaId = mediaIdOf(file);
            if (!mediaId) continue;
            let rel: string;
            try {
              rel = dir === '.' ? store.mediaFileName(mediaId) : `${dir}/${store.mediaFileName(mediaId)}`;
            } catch {
              continue; // a name that cannot be on disk was never written
            }
            const bytes = await sizeOf(path.join(root, rel));
            media.push(bytes === undefined ? { mediaId, type: file.type, status: 'pending' } : { mediaId, type: file.type, status: 'skipped', path: rel, bytes });
          }
          yield { ...newRecord(recording), dir, json, media };
        }
      }
      return fromAsyncIterable(records());
    };
  },
});
