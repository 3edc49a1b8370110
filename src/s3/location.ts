// Where a media file lives in S3 (SPEC §3, §4): the bucket/region/keyPrefix from
// the GWS settings API, each overridable by the config extensions s3Bucket,
// s3Region, s3Endpoint; and the object key, s3KeyTemplate rendered with those
// settings and the media file's own fields.

import { RcbsError } from '../errors.js';
import { openFirstGwsConnection } from '../gws/run-connections.js';
import type { RunContext, Recording } from '../pipeline/types.js';
import type { RcbsConfig } from '../config/types.js';
import { recordingId, type MediaFile } from '../recording.js';

export interface S3Location {
  bucket: string;
  region: string;
  keyPrefix: string;
  endpoint?: string;
}

export const DEFAULT_REGION = 'us-east-1';

function fromConfig(config: Readonly<RcbsConfig>, bucket: string): S3Location {
  return {
    bucket,
    region: config.s3Region ?? DEFAULT_REGION,
    keyPrefix: '',
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
  };
}

/**
 * The run's S3 location. GWS settings first (they carry the keyPrefix; the config
 * extensions override each field there). When s3Bucket is set the settings are
 * optional: a GWS without the settings API (or none at all) still works from config alone.
 */
export async function resolveS3Location(context: RunContext): Promise<S3Location> {
  const { config, log } = context;
  if (config.gwsUriPrefix) {
    // The connection first (src/gws/run-connections.ts), while the code that sends on it loads.
    openFirstGwsConnection(context);
    try {
      const { fetchS3Settings } = await import('../gws/settings.js');
      return await fetchS3Settings(context);
    } catch (err) {
      if (!config.s3Bucket) throw err;
      log.warn('GWS S3 settings unavailable; using s3Bucket/s3Region/s3Endpoint from the config with an empty keyPrefix', {
        code: (err as { code?: unknown }).code,
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }
  if (config.s3Bucket) return fromConfig(config, config.s3Bucket);
  throw new RcbsError('RCBS_CONFIG_INVALID',
    'no S3 bucket is known: GWS settings gave none (or gwsUriPrefix is not set); set s3Bucket (and s3Region, s3Endpoint for S3-compatible storage) in config.properties',
    { key: 's3Bucket' });
}

// {name}: a placeholder; names are identifiers so a typo such as {media Id} is caught at start.
const PLACEHOLDER = /\{([^{}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SETTINGS_NAMES = ['keyPrefix', 'bucket', 'region'] as const;

/** Checks s3KeyTemplate once at start: balanced braces, identifier names, not empty. */
export function checkKeyTemplate(template: string): void {
  const bad = (why: string) => new RcbsError('RCBS_CONFIG_INVALID',
    `s3KeyTemplate "${template}" is invalid: ${why}; placeholders look like {keyPrefix}{mediaId}`,
    { key: 's3KeyTemplate', value: template });
  if (template.trim() === '') throw bad('it is empty');
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (!NAME.test(match[1]!)) throw bad(`"{${match[1]}}" is not a placeholder name`);
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) throw bad('it has an unmatched brace');
  if (!/\{[^{}]*\}/.test(template.replace(/\{(keyPrefix|bucket|region)\}/g, ''))) {
    // Without any per-media field every media file would map to the same key.
    throw bad('it names no field of the media file (e.g. {mediaId})');
  }
}

/**
 * The S3 key of one media file. A placeholder that neither the settings nor this
 * media file can fill is this media file's failure (RCBS_RECORD_INVALID), not the run's.
 */
export function mediaKey(template: string, location: S3Location, media: MediaFile, mediaId: string, recording: Recording): string {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(media)) {
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) values[name] = String(value);
  }
  const id = recordingId(recording);
  if (id !== undefined) values.recordingId ??= id;
  values.mediaId = mediaId;
  for (const name of SETTINGS_NAMES) values[name] = location[name];
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new RcbsError('RCBS_RECORD_INVALID',
        `s3KeyTemplate "${template}" needs {${name}} but media file ${mediaId} has no such field; fix the template or the record`,
        { key: 's3KeyTemplate', mediaId, placeholder: name });
    }
    return value;
  });
}
