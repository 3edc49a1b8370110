// Every error a user can meet is an RcbsError with a stable code. The CLI maps
// `exitCode` to the process exit status (SPEC §2: 2 usage/config/credentials,
// 3 lock held, 4 the run could not start or go on for a reason that is not one
// item's, 1 a run that finished with failures or a component that failed the run).
// Add new codes here and to the table in README.md, never inline elsewhere.

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
  RCBS_GWS_STATUS: 'GWS answered with a non-zero statusCode',
  RCBS_GWS_HTTP: 'GWS answered with an HTTP error after retries',
  RCBS_GWS_BAD_BODY: 'GWS answered with a body that is not the expected JSON',
  RCBS_GWS_UNREACHABLE: 'GWS could not be reached after retries',
  RCBS_S3_NOT_FOUND: 'the S3 object does not exist (404)',
  RCBS_S3_FORBIDDEN: 'S3 refused access to the object (403)',
  RCBS_S3_CREDENTIALS: 'no AWS credentials were found',
  RCBS_S3_TRANSFER: 'an S3 transfer failed after retries',
  RCBS_S3_INTEGRITY: 'a downloaded file does not match its S3 object (size or digest)',
  RCBS_S3_CHANGED: 'the S3 object changed during a resumed transfer',
  RCBS_TLS_UNTRUSTED: 'a GWS or S3 TLS certificate was refused (unknown CA, expired, wrong host name)',
  RCBS_UNSAFE_NAME: 'a name from the data cannot be made safe for the file system',
  RCBS_RECORD_INVALID: 'a record does not match schemas/recording.schema.json',
  RCBS_STORE_IO: 'reading or writing the target folder failed',
  RCBS_TARGET_UNAVAILABLE: 'the target folder cannot be created, is not writable or is full: the run cannot start or go on',
  RCBS_DECRYPT_NO_RECIPIENT: 'no given key matches a recipient of the CMS file',
  RCBS_DECRYPT_WRONG_KEY: 'the key did not decrypt the content (wrong key or corrupt file)',
  RCBS_DECRYPT_MALFORMED: 'the input is not valid CMS EnvelopedData (truncated or garbage)',
  RCBS_DECRYPT_UNSUPPORTED: 'the CMS file uses an algorithm rcbs does not support',
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
  RCBS_KEY_INVALID: 2,
  RCBS_INPUT_MISSING: 2,
  RCBS_LOCK_HELD: 3,
  RCBS_TLS_UNTRUSTED: 4,
  RCBS_GWS_UNREACHABLE: 4,
  RCBS_TARGET_UNAVAILABLE: 4,
  RCBS_ABORTED: 130,
};

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
    return EXIT_BY_CODE[this.code] ?? 1;
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
