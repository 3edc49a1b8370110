// Packaged defaults: the lowest layer of SPEC §3's precedence.

import { DAY_MS, HOUR_MS } from './duration.js';
import type { RcbsConfig } from './types.js';

export { DAY_MS, HOUR_MS };

export const DEFAULT_CONFIG: Readonly<RcbsConfig> = Object.freeze({
  gwsUriPrefix: '',
  gwsSettingsUri: '/me/settings/rcbs',
  gwsRecordingsUri: '/recordings',
  gwsPageSize: 100,
  gwsConcurrency: 4,
  usePayloadSigning: false,
  s3KeyTemplate: '{keyPrefix}{mediaId}',
  s3StallTimeout: 30_000,
  targetDir: 'target',
  recordingFolderFormat: 'yyyy/MM/dd/HH',
  decryptKeys: [],
  maxAge: 2 * DAY_MS,
  minAge: 0,
  overlap: 6 * HOUR_MS,
  shardBy: DAY_MS,
  skipLastRecordingCheck: false,
  mediaTypePattern: 'audio/mp3|video/mp4',
  metadataOnly: false,
  downloadMode: 'multithread',
  numThreads: 4,
  encryptionFormat: 'AES-128',
});

/** A config for tests and tools: the defaults with some keys replaced. */
export function configWith(overrides: Partial<RcbsConfig>): Readonly<RcbsConfig> {
  return Object.freeze({ ...DEFAULT_CONFIG, ...overrides });
}
