// Retry policy is data (STYLE.md): which failures are retried, how long to wait.
// The field names are undici's RetryHandler options (maxRetries, minTimeout,
// maxTimeout, timeoutFactor, retryAfter, methods, statusCodes, errorCodes), so a
// reader who knows undici reads ours. Exponential backoff with full jitter, capped;
// a server's Retry-After wins when it asks for longer. Used by the GWS client and
// the S3 transfer (src/s3/failure.ts adds S3's own error codes to it).

export interface RetryPolicy {
  /** Retries after the first attempt (undici: maxRetries). */
  maxRetries: number;
  /** First backoff in ms (undici: minTimeout). */
  minTimeout: number;
  /** Backoff cap in ms (undici: maxTimeout). */
  maxTimeout: number;
  /** Growth of the backoff per retry (undici: timeoutFactor). */
  timeoutFactor: number;
  /** Honour a server's Retry-After header (undici: retryAfter). */
  retryAfter: boolean;
  /** Request methods that are retried (undici: methods): only idempotent ones. */
  methods: readonly string[];
  /** HTTP statuses that are worth another try. */
  statusCodes: readonly number[];
  /** Error codes worth another try: Node/undici codes (resets, timeouts) and service error codes. */
  errorCodes: readonly string[];
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  maxRetries: 5,
  minTimeout: 200,
  maxTimeout: 20_000,
  timeoutFactor: 2,
  retryAfter: true,
  methods: ['GET', 'HEAD'],
  statusCodes: [408, 429, 500, 502, 503, 504],
  errorCodes: [
    'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED',
    'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
    'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE', 'TimeoutError', 'RequestTimeout',
  ],
});

/** Delay before attempt `attempt` (1 = first retry), honouring Retry-After (seconds or HTTP date). */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfter?: string | null, random = Math.random): number {
  const ceiling = Math.min(policy.maxTimeout, policy.minTimeout * policy.timeoutFactor ** (attempt - 1));
  const backoff = policy.minTimeout + random() * (ceiling - policy.minTimeout);
  const asked = policy.retryAfter ? parseRetryAfter(retryAfter) : undefined;
  // A server asking for more than our cap is still obeyed up to 2 minutes.
  return asked === undefined ? backoff : Math.max(backoff, Math.min(asked, 120_000));
}

export function parseRetryAfter(value?: string | null): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export function isRetryableError(policy: RetryPolicy, err: unknown): boolean {
  const e = err as { code?: string; name?: string; cause?: { code?: string } } | undefined;
  const codes = [e?.code, e?.name, e?.cause?.code].filter((c): c is string => typeof c === 'string');
  return codes.some((c) => policy.errorCodes.includes(c));
}
