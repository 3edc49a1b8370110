// The validated, frozen configuration every component receives (SPEC §3).
// Durations are milliseconds; dates are epoch milliseconds. Secrets
// (gwsPassword, AWS keys) are NOT here: components read them from
// `RunContext.credentials`, so a config dump can never leak them.

export type DownloadMode = 'single' | 'multithread';
export type EncryptionFormat = 'AES-128' | 'AES-256';

export interface RcbsConfig {
  // GWS
  gwsUriPrefix: string;
  gwsSettingsUri: string; // default /me/settings/rcbs
  gwsRecordingsUri: string; // default /recordings
  gwsPageSize: number; // default 100
  gwsConcurrency: number; // GWS recordings requests in flight (slices, pages ahead), default 4 (SPEC §8)
  gwsProxyHost?: string;
  gwsProxyPort?: number;
  // S3
  awsProxyHost?: string;
  awsProxyPort?: number;
  usePayloadSigning: boolean; // default false
  s3Bucket?: string;
  s3Region?: string;
  s3Endpoint?: string;
  s3ForcePathStyle?: boolean;
  s3KeyTemplate: string; // default {keyPrefix}{mediaId}
  s3StallTimeout: number; // ms without a byte before a download is aborted and resumed; default 30 s
  s3PartSize?: number; // bytes per ranged GET of a large object; unset = by numThreads (src/s3/parts.ts partSizeFor)
  s3PartThreshold?: number; // objects at least this large are fetched in parallel parts (0 = never); unset = 64 MiB from a far store (src/s3/parts.ts storeIsFar)
  restoreArchivedDays?: number; // ask S3 to restore archived objects (Bulk) for this many days; off unless set
  // TLS trust (SPEC §3)
  caFile?: string; // PEM bundle trusted in addition to Node's roots, GWS and S3
  // where
  targetDir: string; // forward slashes and UNC (//server/share) accepted
  recordingFolderFormat: string; // default yyyy/MM/dd/HH
  decryptDir?: string; // off unless set; never inside targetDir
  decryptKeys: string[]; // key files for the decrypt sink (decryptKey, comma separated)
  // window (SPEC §3)
  maxAge: number; // ms, 0 = no lower bound; default 2 days
  minAge: number; // ms; default 0
  minDate?: number; // epoch ms (upper bound, newest)
  maxDate?: number; // epoch ms (lower bound, oldest)
  overlap: number; // ms; default 6 h
  shardBy: number; // ms; default 1 day
  skipLastRecordingCheck: boolean; // default false
  // what and how
  mediaTypePattern: string; // regex source, default audio/mp3|video/mp4
  metadataOnly: boolean; // default false
  downloadMode: DownloadMode; // default multithread
  numThreads: number; // default 4
  encryptionFormat: EncryptionFormat; // default AES-128
  // sharding across instances (resolved from config or the engine's environment)
  rcbsInstanceId?: number;
  totalRcbsInstances?: number;
}

/** Secrets and identities from the environment, kept apart from the config. */
export interface Credentials {
  gwsUsername?: string;
  gwsPassword?: string;
  awsAccessKeyId?: string;
  awsSecretAccessKey?: string;
  awsSessionToken?: string;
}
