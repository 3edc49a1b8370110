// Every error a user can meet is an RcbsError with a stable code. The CLI maps
// `exitCode` to the process exit status (SPEC §2: 2 usage/config/credentials,
// 3 lock held, 4 the run could not start or go on for a reason that is not one
// item's, 1 a run that finished with failures or a component that failed the run).
// Add new codes and exit statuses here, never inline elsewhere: the README's error and
// exit-code tables are generated from ERROR_CODES, EXIT_BY_CODE and EXIT_CODES
// (`npm run docs`; test/docs-up-to-date.test.ts fails when the README is stale).

export const ERROR_CODES = {
  RCBS_USAGE: 'bad command-line usage',
  RCBS_CONFIG_INVALID: 'config.properties, environment or --set values are invalid',
  RCBS_CONFIG_READ: 'a config file could not be read',
  RCBS_PIPELINE_INVALID: 'a pipeline file does not match the schema or names unknown components',
  RCBS_PIPELINE_NOT_FOUND: 'no pipeline by that name or path',
  RCBS_INPUT_MISSING: 'a folder or file to read does not exist (an unmounted share?) or is not an rcbs backup',
  RCBS_LOCK_HELD: 'another instance holds the target folder lock',
  RCBS_GWS_AUTH: 'GWS refused the credentials (HTTP 401/403 or statusCode 20)',
  RCBS_GWS_FORBIDDEN: 'GWS says the account has no permission (statusCode 3/5)',
  RCBS_GWS_STATUS: 'GWS answered with a non-zero statusCode (statusCode 4, internal error, after retries)',
  RCBS_GWS_HTTP: 'GWS answered with an HTTP error after retries',
  RCBS_GWS_BAD_BODY: 'GWS answered with a body that is not the expected JSON',
  RCBS_GWS_UNREACHABLE: 'GWS could not be reached after retries',
  RCBS_S3_NOT_FOUND: 'the S3 object does not exist (404): that file fails, others go on',
  RCBS_S3_FORBIDDEN: 'S3 refused access to the object (403): that file fails, others go on',
  RCBS_S3_CREDENTIALS: 'no AWS credentials were found',
  RCBS_S3_AUTH: 'S3 rejected the credentials (InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken): the run stops',
  RCBS_S3_ARCHIVED: 'the S3 object is archived (Glacier, Deep Archive, Intelligent-Tiering archive): restore it first',
  RCBS_S3_UNREACHABLE: 'the S3 endpoint or its proxy could not be reached after retries: the run stops',
  RCBS_S3_TRANSFER: 'an S3 transfer failed after retries',
  RCBS_S3_INTEGRITY: 'a downloaded file does not match its S3 object (size or digest)',
  RCBS_S3_CHANGED: 'the S3 object changed during a resumed transfer',
  RCBS_TLS_UNTRUSTED: 'a GWS or S3 TLS certificate was refused (unknown CA, expired, wrong host name): names the host and the setting that fixes it (`caFile`, `AWS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`), or says none does; stops the run, not retried',
  RCBS_UNSAFE_NAME: 'a name from the data cannot be made safe for the file system: the record is quarantined',
  RCBS_RECORD_INVALID: 'a record does not match schemas/recording.schema.json: the record is quarantined',
  RCBS_STORE_IO: 'reading or writing the target folder failed',
  RCBS_TARGET_UNAVAILABLE: 'the target folder cannot be created, is not writable or is full: the run cannot start or go on',
  RCBS_DECRYPT_NO_RECIPIENT: 'none of the given keys is a recipient of the CMS file (the message lists the recipients present): the usual "wrong key"',
  RCBS_DECRYPT_WRONG_KEY: 'a key unwrapped a content key but the content failed the padding check (a key that does not belong to its certificate, or a damaged file)',
  RCBS_DECRYPT_MALFORMED: 'the input is not valid CMS EnvelopedData (truncated or garbage); no output file is left on any decrypt error',
  RCBS_DECRYPT_UNSUPPORTED: 'the CMS file uses an algorithm rcbs does not support (the OID is named)',
  RCBS_KEY_INVALID: 'a key or certificate file could not be read or parsed',
  RCBS_VERIFY_FAILED: 'verify found missing, corrupt or orphan files',
  RCBS_ABORTED: 'the run was interrupted (SIGINT/SIGTERM)',
  RCBS_INTERNAL: 'an unexpected internal error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

const EXIT_BY_CODE: Partial<Record<ErrorCode, number>> = {
  RCBS_USAGE: 2,
  RCBS_CONFIG_INVALID: 2,
  RCBS_CONFIG_READ: 2,
  RCBS_PIPELINE_INVALID: 2,
  RCBS_PIPELINE_NOT_FOUND: 2,
  RCBS_GWS_AUTH: 2,
  RCBS_GWS_FORBIDDEN: 2,
  RCBS_S3_CREDENTIALS: 2,
  RCBS_S3_AUTH: 2,
  RCBS_S3_UNREACHABLE: 4,
  RCBS_KEY_INVALID: 2,
  RCBS_INPUT_MISSING: 2,
  RCBS_LOCK_HELD: 3,
  RCBS_TLS_UNTRUSTED: 4,
  RCBS_GWS_UNREACHABLE: 4,
  RCBS_TARGET_UNAVAILABLE: 4,
  RCBS_ABORTED: 130,
};

/** Every exit status rcbs uses, as the README lists them (SPEC §2). */
export const EXIT_CODES: Readonly<Record<number, string>> = {
  0: 'all done',
  1: 'finished but some items failed (listed at the end; see `.rcbs/failed.ndjson`), or a component failed the run',
  2: 'usage, config or credentials error (also credentials GWS or S3 reject in the middle of a run)',
  3: "another instance holds the target folder's lock",
  4: "the run could not start or could not go on for a reason that is not one item's (GWS or S3 unreachable after retries, a targetDir that cannot be created, is read-only or is full): one message, no cascade of per-file errors",
  130: 'interrupted (Ctrl-C / SIGTERM: transfers in flight are finished or cleaned up first, and work not done is counted as "not done", not as failed)',
};

/** The exit status an error with `code` ends the process with. */
export function exitCodeOf(code: ErrorCode): number {
  return EXIT_BY_CODE[code] ?? 1;
}

export class RcbsError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts (never secrets): key, value, url, path… */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RcbsError';
    this.code = code;
    this.details = details;
  }

  get exitCode(): number {
    return exitCodeOf(this.code);
  }
}

export function isRcbsError(err: unknown): err is RcbsError {
  return err instanceof RcbsError;
}

/** Wraps anything thrown into an RcbsError, keeping the original as cause. */
export function toRcbsError(err: unknown, code: ErrorCode = 'RCBS_INTERNAL'): RcbsError {
  if (err instanceof RcbsError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RcbsError(code, message, {}, { cause: err });
}
