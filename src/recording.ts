// The recording metadata as the guide describes it ("Recording metadata"), read
// tolerantly: GWS sends `duration` and `size` as strings at times, `mediaId` is
// spelled `mediaID` in the guide's table, and times look like
// 2015-09-01T16:42:59.000+0000 (no colon in the offset, which Date.parse rejects
// on some engines). Everything here reads; nothing rewrites the record.

import type { Recording } from './pipeline/types.js';

export interface MediaFile extends Record<string, unknown> {
  mediaId?: string;
  type?: string;
  tenant?: string;
  startTime?: string;
  stopTime?: string;
  size?: number | string;
}

export function recordingId(recording: Recording): string | undefined {
  const id = recording.id ?? recording.Id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

export function mediaFilesOf(recording: Recording): MediaFile[] {
  const files = recording.mediaFiles;
  return Array.isArray(files) ? files.filter((f): f is MediaFile => f !== null && typeof f === 'object') : [];
}

export function mediaIdOf(media: MediaFile): string | undefined {
  const id = media.mediaId ?? media.mediaID;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/** The tenant a recording is filed under: that of its media files (SPEC §5). */
export function tenantOf(recording: Recording): string | undefined {
  for (const media of mediaFilesOf(recording)) {
    if (typeof media.tenant === 'string' && media.tenant.length > 0) return media.tenant;
  }
  return typeof recording.tenant === 'string' && recording.tenant.length > 0 ? recording.tenant : undefined;
}

const GWS_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Parses a GWS time (ISO-8601, offset with or without colon, or epoch ms) to epoch ms. */
export function parseGwsTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (/^\d{10,}$/.test(value)) return Number(value);
  const m = GWS_TIME.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '0', zone = 'Z'] = m;
  let ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, Math.floor(Number(('0.' + frac)) * 1000));
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return Number.isNaN(ms) ? undefined : ms;
}

/** Integer from a number or a numeric string (`size: "12345"`). */
export function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}
