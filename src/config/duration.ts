// Durations and dates as config.properties writes them (SPEC §3, the guide's
// minAge/maxAge/overlap/shardBy/minDate/maxDate). Everything becomes epoch or
// duration milliseconds, so the window arithmetic (window.ts) is plain numbers.
//
// Years and months: a duration like P1M has no fixed length without an anchor
// date (28 to 31 days), and the window subtracts from `now` with plain numbers,
// so Y = 365 days and M = 30 days, W = 7 days, D = 24 hours (GMT has no DST).
// An operator who needs an exact calendar bound uses minDate/maxDate instead.

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const MONTH_MS = 30 * DAY_MS;
const YEAR_MS = 365 * DAY_MS;

/** Epoch ms below this (1973-03-03) are almost surely epoch seconds typed by mistake. */
export const EPOCH_MS_FLOOR = 100_000_000_000;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const NUMBER = '(\\d+(?:[.,]\\d+)?)';
const ISO_DURATION = new RegExp(
  `^P(?:${NUMBER}Y)?(?:${NUMBER}M)?(?:${NUMBER}W)?(?:${NUMBER}D)?(?:T(?:${NUMBER}H)?(?:${NUMBER}M)?(?:${NUMBER}S)?)?$`,
  'i',
);
const ISO_UNITS = [YEAR_MS, MONTH_MS, WEEK_MS, DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS];

/** ISO-8601 duration (P[n]Y[n]M[n]W[n]DT[n]H[n]M[n]S, fractions allowed) to ms. */
export function parseIsoDuration(text: string): number | undefined {
  const value = text.trim();
  const m = ISO_DURATION.exec(value);
  // "P" and "PT" alone match the pattern but say nothing: reject them.
  if (!m || /^PT?$/i.test(value) || /T$/i.test(value)) return undefined;
  let ms = 0;
  for (let i = 0; i < ISO_UNITS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part.replace(',', '.')) * ISO_UNITS[i]!;
  }
  ms = Math.round(ms);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * A duration written as a whole number of `unit` (days for ages and shardBy,
 * hours for overlap, as in the guide) or, when it starts with P, ISO-8601.
 */
export function parseDuration(text: string, unitMs: number, unitName: string): Parsed<number> {
  const value = text.trim();
  const allowed = `a whole number of ${unitName} (>= 0) or an ISO-8601 duration such as P7DT1H or PT30M`;
  if (/^\d+$/.test(value)) {
    const ms = Number(value) * unitMs;
    return Number.isSafeInteger(ms) ? { ok: true, value: ms } : { ok: false, reason: `${allowed}; this is too large` };
  }
  if (/^[pP]/.test(value)) {
    const ms = parseIsoDuration(value);
    if (ms !== undefined) return { ok: true, value: ms };
  }
  return { ok: false, reason: allowed };
}

/** `YYYY-MM-DD` (00:00 GMT, a real calendar date) or epoch milliseconds. */
export function parseDate(text: string): Parsed<number> {
  const value = text.trim();
  const allowed = 'a date YYYY-MM-DD (00:00 GMT) or epoch milliseconds such as 1438300800000';
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const ms = Date.UTC(y, m - 1, d);
    const back = new Date(ms);
    // Date.UTC rolls 2015-02-30 over to March: a real date survives the round trip.
    if (back.getUTCFullYear() === y && back.getUTCMonth() === m - 1 && back.getUTCDate() === d) return { ok: true, value: ms };
    return { ok: false, reason: `${allowed}; ${value} is not a calendar date` };
  }
  if (/^\d+$/.test(value)) {
    const ms = Number(value);
    if (!Number.isSafeInteger(ms)) return { ok: false, reason: `${allowed}; this is too large` };
    if (ms < EPOCH_MS_FLOOR) {
      return { ok: false, reason: `${allowed}; ${value} would be ${new Date(ms).toISOString()}, which looks like epoch seconds: multiply by 1000` };
    }
    return { ok: true, value: ms };
  }
  return { ok: false, reason: allowed };
}

/** Milliseconds as a compact ISO-8601 duration (P2DT6H), the form operators write. */
export function formatIsoDuration(ms: number): string {
  if (ms === 0) return 'PT0S';
  let rest = Math.abs(ms);
  const days = Math.floor(rest / DAY_MS);
  rest -= days * DAY_MS;
  const hours = Math.floor(rest / HOUR_MS);
  rest -= hours * HOUR_MS;
  const minutes = Math.floor(rest / MINUTE_MS);
  rest -= minutes * MINUTE_MS;
  const seconds = rest / SECOND_MS;
  let out = (ms < 0 ? '-P' : 'P') + (days ? `${days}D` : '');
  if (hours || minutes || seconds) out += 'T' + (hours ? `${hours}H` : '') + (minutes ? `${minutes}M` : '') + (seconds ? `${seconds}S` : '');
  return out;
}

/** Epoch ms as an ISO timestamp for messages. */
export function formatTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
