// Retry policy is data (STYLE.md): which failures are retried, how long to wait.
// Exponential backoff with full jitter, capped; a server's Retry-After wins when
// it asks for longer. Used by the GWS client and the S3 download sink.

export interface RetryPolicy {
  /** Total attempts including the first. */
  attempts: number;
  minDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** HTTP statuses that are worth another try. */
  statuses: readonly number[];
  /** Node/undici error codes that are worth another try (resets, timeouts). */
  errorCodes: readonly string[];
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  attempts: 6,
  minDelayMs: 200,
  maxDelayMs: 20_000,
  factor: 2,
  statuses: [408, 429, 500, 502, 503, 504],
  errorCodes: [
    'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED',
    'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
    'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE', 'TimeoutError', 'RequestTimeout',
  ],
});

/** Delay before attempt `attempt` (1 = first retry), honouring Retry-After (seconds or HTTP date). */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfter?: string | null, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** (attempt - 1));
  const backoff = policy.minDelayMs + random() * (ceiling - policy.minDelayMs);
  const asked = parseRetryAfter(retryAfter);
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
