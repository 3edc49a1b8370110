// What an S3 failure means for one media file: give up with a coded error
// (403, 404: no retry will change it), resume after a backoff (5xx, SlowDown,
// resets, timeouts), or start again from zero (the object changed under a resumed
// transfer). Messages name the object as s3://bucket/key, never credentials.

import { RcbsError, type ErrorCode } from '../errors.js';
import { DEFAULT_RETRY, isRetryableError, type RetryPolicy } from '../retry.js';

export interface ObjectRef {
  bucket: string;
  key: string;
}

export type S3Failure =
  | { kind: 'fatal'; error: RcbsError }
  | { kind: 'retry'; error: RcbsError; retryAfter?: string }
  | { kind: 'changed'; error: RcbsError }
  /** Not this object's failure: the run cannot go on (credentials S3 rejects, S3 unreachable). */
  | { kind: 'stop'; error: RcbsError; refreshCredentials?: boolean }
  /** The bucket lives in another region: S3 named it (301 x-amz-bucket-region, or the 400 AuthorizationHeaderMalformed body). */
  | { kind: 'region'; error: RcbsError; region: string };

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  /** Fields S3 puts in its error XML, which the SDK copies onto the error. */
  StorageClass?: string;
  Region?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined>; body?: unknown };
}

/** What one S3 answer means, matched in order: by S3 error code (the SDK error's name), status, or a test. */
interface FailureMeaning {
  codes?: readonly string[];
  statuses?: readonly number[];
  when?: (e: SdkErrorShape) => boolean;
  kind: 'fatal' | 'changed' | 'stop';
  error: ErrorCode;
  message: (where: string, e: SdkErrorShape, what: string) => string;
  /** ExpiredToken: the credentials are refreshed once before the run stops. */
  refreshCredentials?: boolean;
}

const CREDENTIALS_ADVICE = 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the AWS profile), and AWS_SESSION_TOKEN for temporary credentials';

/**
 * The failure policy as data (STYLE.md): which S3 answers end one media file, which
 * restart it, and which stop the run because no other file can do better.
 */
export const S3_FAILURE_POLICY: readonly FailureMeaning[] = [
  { codes: ['InvalidObjectState'], kind: 'fatal', error: 'RCBS_S3_ARCHIVED',
    message: (where, e) => `${where} is archived (storage class ${e.StorageClass ?? 'GLACIER or an archive tier'}): restore it first (restoreArchivedDays = N asks S3 to)` },
  { codes: ['InvalidAccessKeyId', 'SignatureDoesNotMatch'], kind: 'stop', error: 'RCBS_S3_AUTH',
    message: (where, _e, what) => `S3 rejected the credentials (${what}) for ${where}: ${CREDENTIALS_ADVICE}; the run stops, no other file would do better` },
  { codes: ['ExpiredToken', 'TokenRefreshRequired', 'InvalidToken'], kind: 'stop', error: 'RCBS_S3_AUTH', refreshCredentials: true,
    message: (where, _e, what) => `S3 rejected the session token (${what}) for ${where}, also after refreshing the credentials: ${CREDENTIALS_ADVICE}; the run stops` },
  { codes: ['AccessDenied'], when: (e) => /\bkms\b|KMS/.test(e.message ?? ''), kind: 'fatal', error: 'RCBS_S3_FORBIDDEN',
    message: (where, _e, what) => `S3 refused ${where} because of its KMS key (${what}): the credentials may read the bucket but lack kms:Decrypt on the key the object is encrypted with; grant kms:Decrypt in the key policy or the IAM policy` },
  { codes: ['NoSuchKey', 'NotFound'], statuses: [404], kind: 'fatal', error: 'RCBS_S3_NOT_FOUND',
    message: (where, _e, what) => `${where} does not exist (${what}): check s3KeyTemplate and the keyPrefix, and that the media was uploaded` },
  { codes: ['AccessDenied'], statuses: [401, 403], kind: 'fatal', error: 'RCBS_S3_FORBIDDEN',
    message: (where, _e, what) => `S3 refused access to ${where} (${what}): check the AWS credentials, the region and the bucket policy` },
  // A partial file as long as (or longer than) the object: start again from zero.
  { codes: ['InvalidRange'], statuses: [416], kind: 'changed', error: 'RCBS_S3_CHANGED',
    message: (where) => `${where} is not longer than the partial file being resumed (HTTP 416)` },
  { codes: ['PreconditionFailed'], statuses: [412], kind: 'changed', error: 'RCBS_S3_CHANGED',
    message: (where) => `${where} changed while it was being downloaded (its ETag no longer matches)` },
];

function meaningOf(e: SdkErrorShape, name: string, status: number | undefined): FailureMeaning | undefined {
  return S3_FAILURE_POLICY.find((m) =>
    (m.codes?.includes(name) || (status !== undefined && m.statuses?.includes(status))) && (m.when?.(e) ?? true));
}

/** The region S3 says the bucket is in: the x-amz-bucket-region header, or the <Region> of a 400 AuthorizationHeaderMalformed. */
function namedRegion(e: SdkErrorShape, name: string, status: number | undefined): string | undefined {
  const header = e.$response?.headers?.['x-amz-bucket-region'];
  if (header && (status === 301 || status === 307 || status === 400 || name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed')) return header;
  if (name === 'AuthorizationHeaderMalformed') return e.Region ?? /expecting '([a-z0-9-]+)'/.exec(e.message ?? '')?.[1];
  return undefined;
}

/** The retry knobs of one object transfer: undici's names, plus the cap on attempts overall. */
export interface TransferRetryPolicy extends RetryPolicy {
  /** A failure after progress starts the count of consecutive failures (maxRetries) again,
   * so a flaky link does not sink a large file; attempts in all are capped here. */
  maxAttempts: number;
  /** Error codes that, when the retries run out without S3 ever answering, mean the endpoint
   * (or the proxy before it) cannot be reached: not this object's failure, the run stops (exit 4). */
  unreachableCodes: readonly string[];
}

export const S3_RETRY: TransferRetryPolicy = Object.freeze({
  ...DEFAULT_RETRY,
  // S3 error codes (the XML <Code>, the SDK error's name) that mean "try again later" whatever the status says.
  errorCodes: [...DEFAULT_RETRY.errorCodes, 'EHOSTUNREACH', 'ENETUNREACH', 'SlowDown', 'RequestTimeTooSkewed', 'InternalError', 'ServiceUnavailable', 'Throttling', 'ThrottlingException'],
  maxAttempts: 10 * (DEFAULT_RETRY.maxRetries + 1),
  unreachableCodes: ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'TimeoutError'],
});

/** Codes of failures that are not one item's: the run stops at once (SPEC §2). */
export const RUN_STOPPING_CODES: readonly ErrorCode[] = ['RCBS_S3_AUTH', 'RCBS_S3_UNREACHABLE'];

export function objectUrl(ref: ObjectRef): string {
  return `s3://${ref.bucket}/${ref.key}`;
}

export function classifyS3Failure(err: unknown, ref: ObjectRef, policy: RetryPolicy): S3Failure {
  if (err instanceof RcbsError) {
    if (err.code === 'RCBS_S3_CHANGED') return { kind: 'changed', error: err };
    if (err.code === 'RCBS_S3_TRANSFER' && err.details.retryable === true) return { kind: 'retry', error: err };
    if (RUN_STOPPING_CODES.includes(err.code)) return { kind: 'stop', error: err };
    return { kind: 'fatal', error: err };
  }
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const where = objectUrl(ref);
  const details = { bucket: ref.bucket, key: ref.key, status, s3Code: name };

  const what = status !== undefined ? `HTTP ${status} ${name}` : `${e.code ?? name}: ${e.message ?? 'no message'}`;

  const region = namedRegion(e, name, status);
  if (region) {
    return { kind: 'region', region, error: new RcbsError('RCBS_S3_TRANSFER', `${where}: the bucket is in region ${region} (${what})`, { ...details, region }, { cause: err }) };
  }
  const meaning = meaningOf(e, name, status);
  if (meaning) {
    const error = new RcbsError(meaning.error, meaning.message(where, e, what), { ...details, ...(e.StorageClass ? { storageClass: e.StorageClass } : {}) }, { cause: err });
    if (meaning.kind === 'stop') return { kind: 'stop', error, ...(meaning.refreshCredentials ? { refreshCredentials: true } : {}) };
    return { kind: meaning.kind, error };
  }
  const retryable = (status !== undefined && policy.statusCodes.includes(status)) || isRetryableError(policy, err);
  const error = new RcbsError('RCBS_S3_TRANSFER', `downloading ${where} failed (${what})`, { ...details, code: e.code }, { cause: err });
  if (retryable) return { kind: 'retry', error, retryAfter: e.$response?.headers?.['retry-after'] };
  return { kind: 'fatal', error };
}
