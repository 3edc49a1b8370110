// Transform `media-type`: picks the media files to fetch by their MIME `type`
// (mediaTypePattern, SPEC §3) and lists them in record.media as pending. Media
// files of other types are not downloaded; they are counted and reported at the
// end. The recording JSON is never changed: it keeps every media file it lists.
//
// Full-match semantics: the pattern must match the WHOLE type, as Java's
// String.matches() does and as the guide's examples read (`audio\/mp3` "to only
// download MP3"), so `audio/mp3` does not also take `audio/mp3x`. Matching is
// case-sensitive like Java's; a leading `(?i)`, Java's inline flag, makes it
// case-insensitive (src/config/keys.ts compiles it; there is one rule).
//
// A recording with no wanted media is dropped (nothing of it is written)...
// except with metadataOnly (or keepEmpty): the guide's metadataOnly downloads
// "the metadata without the recordings" for the window, so the media filter,
// which is about media, must not decide which metadata is exported.

import { RcbsError } from '../errors.js';
import { compileMediaTypePattern } from '../config/keys.js';
import { mediaFilesOf, mediaIdOf, recordingId } from '../recording.js';
import { keepWhere } from '../pipeline/streams.js';
import { defineComponent, type MediaOutcome, type PipelineRecord } from '../pipeline/types.js';

interface Options {
  /** Regex source overriding config.mediaTypePattern. */
  pattern?: string;
  /** Keep recordings with no wanted media (default: config.metadataOnly). */
  keepEmpty?: boolean;
}

/**
 * The whole-type matcher of a mediaTypePattern (the config layer's compiler, so the
 * config check and the filter can never disagree), with an RcbsError of `code`
 * naming `what` when the source is not a valid regular expression.
 */
export function mediaTypeMatcher(source: string, code: 'RCBS_CONFIG_INVALID' | 'RCBS_PIPELINE_INVALID' | 'RCBS_USAGE', what = 'mediaTypePattern'): RegExp {
  try {
    return compileMediaTypePattern(source);
  } catch (err) {
    throw new RcbsError(code, `${what} "${source}" is not a valid regular expression (${(err as Error).message}); use e.g. audio/mp3|video/mp4`, { key: what, value: source }, { cause: err });
  }
}

export default defineComponent<Options>({
  kind: 'transform',
  name: 'media-type',
  description: 'Keeps the media files whose type matches mediaTypePattern; drops recordings with none unless metadataOnly.',
  options: {
    type: 'object',
    properties: {
      pattern: { type: 'string', minLength: 1, description: 'regex on the whole media type, overriding config mediaTypePattern' },
      keepEmpty: { type: 'boolean', description: 'keep recordings without wanted media (default: config metadataOnly)' },
    },
    additionalProperties: false,
  },
  create(options, context, self) {
    const wanted = options.pattern !== undefined
      ? mediaTypeMatcher(options.pattern, 'RCBS_PIPELINE_INVALID', 'media-type option "pattern"')
      : mediaTypeMatcher(context.config.mediaTypePattern, 'RCBS_CONFIG_INVALID');
    const keepEmpty = options.keepEmpty ?? context.config.metadataOnly;
    // Media files not fetched, by type, for one line at the end of the run.
    const otherTypes = new Map<string, number>();
    let kept = 0;

    const select = (record: PipelineRecord): boolean => {
      const media: MediaOutcome[] = [];
      const seen = new Set<string>();
      for (const file of mediaFilesOf(record.recording)) {
        const type = typeof file.type === 'string' ? file.type : '';
        if (!wanted.test(type)) {
          otherTypes.set(type || '(no type)', (otherTypes.get(type || '(no type)') ?? 0) + 1);
          continue;
        }
        const mediaId = mediaIdOf(file);
        if (mediaId === undefined) {
          // Only reachable without `validate` before this step; say so rather than skip quietly.
          record.errors.push({ component: 'media-type', code: 'RCBS_RECORD_INVALID', message: `a ${type} media file has no mediaId: it cannot be fetched; put "validate" before "media-type" to quarantine such recordings` });
          context.log.warn('media file without mediaId cannot be fetched', { recordingId: recordingId(record.recording) ?? '(no id)', type });
          continue;
        }
        // The same media listed twice is fetched once.
        if (seen.has(mediaId)) continue;
        seen.add(mediaId);
        media.push({ mediaId, type, status: 'pending' });
      }
      record.media = media;
      kept += media.length;
      return media.length > 0 || keepEmpty;
    };

    const tally = () => {
      if (otherTypes.size === 0) return;
      const types = [...otherTypes].map(([type, n]) => `${type} x${n}`).join(', ');
      context.log.info(`media-type: ${kept} media file(s) wanted; not fetching ${[...otherTypes.values()].reduce((a, b) => a + b, 0)} of other types (${types})`, { mediaTypePattern: wanted.source });
    };
    return (records) =>
      keepWhere(
        records,
        (record) => {
          if (select(record)) return true;
          self.drop(record, { kind: 'filtered', message: 'no media file matches mediaTypePattern' });
          context.log.debug('recording dropped: no media file matches mediaTypePattern', { recordingId: recordingId(record.recording) ?? '(no id)' });
          return false;
        },
        tally,
      );
  },
});
