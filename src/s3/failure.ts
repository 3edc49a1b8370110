// What an S3 failure means for one media file: give up with a coded error
// (403, 404: no retry will change it), resume after a backoff (5xx, SlowDown,
// resets, timeouts), or start again from zero (the object changed under a resumed
// transfer). Messages name the object as s3://bucket/key, never credentials.

import { RcbsError } from '../errors.js';
import { DEFAULT_RETRY, isRetryableError, type RetryPolicy } from '../retry.js';

export interface ObjectRef {
  bucket: string;
  key: string;
}

export type S3Failure =
  | { kind: 'fatal'; error: RcbsError }
  | { kind: 'retry'; error: RcbsError; retryAfter?: string }
  | { kind: 'changed'; error: RcbsError };

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** The retry knobs of one object transfer: undici's names, plus the cap on attempts overall. */
export interface TransferRetryPolicy extends RetryPolicy {
  /** A failure after progress starts the count of consecutive failures (maxRetries) again,
   * so a flaky link does not sink a large file; attempts in all are capped here. */
  maxAttempts: number;
}

export const S3_RETRY: TransferRetryPolicy = Object.freeze({
  ...DEFAULT_RETRY,
  // S3 error codes (the XML <Code>, the SDK error's name) that mean "try again later" whatever the status says.
  errorCodes: [...DEFAULT_RETRY.errorCodes, 'SlowDown', 'RequestTimeTooSkewed', 'InternalError', 'ServiceUnavailable', 'Throttling', 'ThrottlingException'],
  maxAttempts: 10 * (DEFAULT_RETRY.maxRetries + 1),
});

export function objectUrl(ref: ObjectRef): string {
  return `s3://${ref.bucket}/${ref.key}`;
}

export function classifyS3Failure(err: unknown, ref: ObjectRef, policy: RetryPolicy): S3Failure {
  if (err instanceof RcbsError) {
    if (err.code === 'RCBS_S3_CHANGED') return { kind: 'changed', error: err };
    if (err.code === 'RCBS_S3_TRANSFER' && err.details.retryable === true) return { kind: 'retry', error: err };
    return { kind: 'fatal', error: err };
  }
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const where = objectUrl(ref);
  const details = { bucket: ref.bucket, key: ref.key, status, s3Code: name };

  if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') {
    return { kind: 'fatal', error: new RcbsError('RCBS_S3_NOT_FOUND',
      `${where} does not exist (HTTP 404 ${name}): check s3KeyTemplate and the keyPrefix, and that the media was uploaded`, details, { cause: err }) };
  }
  if (status === 403 || status === 401 || name === 'AccessDenied' || name === 'SignatureDoesNotMatch' || name === 'InvalidAccessKeyId') {
    return { kind: 'fatal', error: new RcbsError('RCBS_S3_FORBIDDEN',
      `S3 refused access to ${where} (HTTP ${status ?? 403} ${name}): check the AWS credentials, the region and the bucket policy`, details, { cause: err }) };
  }
  if (status === 416 || name === 'InvalidRange') {
    // A partial file as long as (or longer than) the object: start again from zero.
    return { kind: 'changed', error: new RcbsError('RCBS_S3_CHANGED',
      `${where} is not longer than the partial file being resumed (HTTP 416)`, details, { cause: err }) };
  }
  if (status === 412 || name === 'PreconditionFailed') {
    return { kind: 'changed', error: new RcbsError('RCBS_S3_CHANGED',
      `${where} changed while it was being downloaded (its ETag no longer matches)`, details, { cause: err }) };
  }
  const retryable = (status !== undefined && policy.statusCodes.includes(status)) || isRetryableError(policy, err);
  const what = status !== undefined ? `HTTP ${status} ${name}` : `${e.code ?? name}: ${e.message ?? 'no message'}`;
  const error = new RcbsError('RCBS_S3_TRANSFER', `downloading ${where} failed (${what})`, { ...details, code: e.code }, { cause: err });
  if (retryable) return { kind: 'retry', error, retryAfter: e.$response?.headers?.['retry-after'] };
  return { kind: 'fatal', error };
}
