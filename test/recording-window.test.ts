// Pins the recording window (SPEC §3 "Time window", "Catch-up", "shardBy", and the
// guide's minAge/maxAge/minDate/maxDate/overlap/shardBy/skipLastRecordingCheck):
// table-driven, one row per rule, including the guide's own one-time-download
// example. Every row also checks the slice invariants: oldest first, contiguous,
// covering exactly [start, end). computeWindow is pure, so `now` is fixed here.

import t from 'tap';
import { computeWindow, MAX_SLICES } from '../src/config/window.js';
import { configWith } from '../src/config/defaults.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, parseDuration } from '../src/config/duration.js';
import type { RcbsConfig } from '../src/config/types.js';
import { RcbsError } from '../src/errors.js';

const NOW = Date.UTC(2024, 4, 10, 12, 0, 0);
const iso = (text: string) => {
  const parsed = parseDuration(text, DAY_MS, 'days');
  if (!parsed.ok) throw new Error(text);
  return parsed.value;
};

interface Row {
  rule: string;
  config: Partial<RcbsConfig>;
  last?: number;
  start: number;
  end: number;
  /** Number of slices, or the exact slices. */
  slices: number | Array<[number, number]>;
  reasons: RegExp[];
}

const ROWS: Row[] = [
  {
    rule: 'defaults: now − 2 days to now, one slice per day',
    config: {}, start: NOW - 2 * DAY_MS, end: NOW,
    slices: [[NOW - 2 * DAY_MS, NOW - DAY_MS], [NOW - DAY_MS, NOW]],
    reasons: [/upper bound .*now .*− minAge PT0S/, /lower bound .*now − maxAge P2D/, /2 queries of P1D \(shardBy\)/],
  },
  {
    rule: "the guide's example: minAge P7DT1H, maxAge P7DT3H = from 7 days 3 hours ago to 7 days 1 hour ago",
    config: { minAge: iso('P7DT1H'), maxAge: iso('P7DT3H') },
    start: NOW - 7 * DAY_MS - 3 * HOUR_MS, end: NOW - 7 * DAY_MS - 1 * HOUR_MS,
    slices: [[NOW - 7 * DAY_MS - 3 * HOUR_MS, NOW - 7 * DAY_MS - 1 * HOUR_MS]],
    reasons: [/minAge P7DT1H/, /maxAge P7DT3H/, /not longer than shardBy P1D/],
  },
  {
    rule: 'maxAge 0 = no lower bound: one query from 0, never thousands of empty slices',
    config: { maxAge: 0 }, start: 0, end: NOW, slices: [[0, NOW]],
    reasons: [/no lower bound: maxAge 0/, /one query for the whole window: it has no lower bound/],
  },
  {
    rule: 'minAge with maxAge 0: everything older than minAge',
    config: { maxAge: 0, minAge: iso('PT30M') }, start: 0, end: NOW - 30 * MINUTE_MS, slices: 1,
    reasons: [/minAge PT30M/],
  },
  {
    rule: 'minDate is the upper bound, maxDate the lower bound',
    config: { minDate: Date.UTC(2015, 7, 3), maxDate: Date.UTC(2015, 7, 1) },
    start: Date.UTC(2015, 7, 1), end: Date.UTC(2015, 7, 3), slices: 2,
    reasons: [/upper bound 2015-08-03T00:00:00.000Z: minDate/, /lower bound 2015-08-01T00:00:00.000Z: maxDate/],
  },
  {
    rule: 'minDate with maxAge 0: everything up to minDate',
    config: { minDate: Date.UTC(2015, 6, 31), maxAge: 0 }, start: 0, end: Date.UTC(2015, 6, 31), slices: 1,
    reasons: [/minDate/],
  },
  {
    rule: 'catch-up: a last_recording_endtime older than the lower bound becomes it, then overlap moves it back',
    config: {}, last: NOW - 5 * DAY_MS,
    start: NOW - 5 * DAY_MS - 6 * HOUR_MS, end: NOW, slices: 6,
    reasons: [/moved back to .*catch-up/, /moved back by overlap PT6H/],
  },
  {
    rule: 'a recent last_recording_endtime keeps the lower bound, overlap still re-scans',
    config: {}, last: NOW - 6 * HOUR_MS,
    start: NOW - 2 * DAY_MS - 6 * HOUR_MS, end: NOW, slices: 3,
    reasons: [/moved back by overlap PT6H/],
  },
  {
    rule: 'overlap in ISO-8601 (P1D)',
    config: { overlap: iso('P1D') }, last: NOW - DAY_MS,
    start: NOW - 3 * DAY_MS, end: NOW, slices: 3,
    reasons: [/overlap P1D/],
  },
  {
    rule: 'overlap 0: the file only drives catch-up',
    config: { overlap: 0 }, last: NOW - 3 * DAY_MS,
    start: NOW - 3 * DAY_MS, end: NOW, slices: 3,
    reasons: [/catch-up/],
  },
  {
    rule: 'no file: no catch-up and no overlap',
    config: {}, last: undefined,
    start: NOW - 2 * DAY_MS, end: NOW, slices: 2,
    reasons: [],
  },
  {
    rule: 'skipLastRecordingCheck=true ignores the file: no catch-up, no overlap',
    config: { skipLastRecordingCheck: true }, last: NOW - 10 * DAY_MS,
    start: NOW - 2 * DAY_MS, end: NOW, slices: 2,
    reasons: [/ignored: skipLastRecordingCheck=true/],
  },
  {
    rule: 'maxDate set ignores the file: no catch-up, no overlap',
    config: { maxDate: NOW - 3 * DAY_MS }, last: NOW - 10 * DAY_MS,
    start: NOW - 3 * DAY_MS, end: NOW, slices: 3,
    reasons: [/ignored: maxDate is set/],
  },
  {
    rule: 'shardBy: oldest first, the last slice is shorter and ends at the upper bound',
    config: { maxAge: iso('P2DT12H') }, start: NOW - 60 * HOUR_MS, end: NOW,
    slices: [[NOW - 60 * HOUR_MS, NOW - 36 * HOUR_MS], [NOW - 36 * HOUR_MS, NOW - 12 * HOUR_MS], [NOW - 12 * HOUR_MS, NOW]],
    reasons: [/3 queries of P1D/],
  },
  {
    rule: 'shardBy in ISO-8601 (PT6H)',
    config: { shardBy: 6 * HOUR_MS }, start: NOW - 2 * DAY_MS, end: NOW, slices: 8,
    reasons: [/8 queries of PT6H/],
  },
  {
    rule: 'a window shorter than shardBy is one query (guide: shardBy ignored)',
    config: { maxAge: 10 * DAY_MS, minAge: 9 * DAY_MS, shardBy: 2 * DAY_MS },
    start: NOW - 10 * DAY_MS, end: NOW - 9 * DAY_MS, slices: 1,
    reasons: [/not longer than shardBy P2D/],
  },
  {
    rule: 'shardBy 0: one query for the window',
    config: { shardBy: 0 }, start: NOW - 2 * DAY_MS, end: NOW, slices: 1,
    reasons: [/shardBy is 0/],
  },
  {
    rule: `more than ${MAX_SLICES} slices are widened, not multiplied`,
    config: { maxDate: Date.UTC(2000, 0, 1), minDate: Date.UTC(2024, 0, 1), shardBy: MINUTE_MS },
    start: Date.UTC(2000, 0, 1), end: Date.UTC(2024, 0, 1), slices: MAX_SLICES,
    reasons: [/would make more than 100000 queries: slices widened/],
  },
  {
    rule: 'a maxAge reaching before 1970 is clamped to no lower bound',
    config: { maxAge: 100 * 365 * DAY_MS }, start: 0, end: NOW, slices: 1,
    reasons: [/no lower bound/],
  },
];

t.test('every window rule', async (t) => {
  for (const row of ROWS) {
    const window = computeWindow(configWith(row.config), NOW, row.last);
    t.equal(window.start, row.start, `${row.rule}: start`);
    t.equal(window.end, row.end, `${row.rule}: end`);
    if (typeof row.slices === 'number') t.equal(window.slices.length, row.slices, `${row.rule}: slice count`);
    else t.same(window.slices.map((s) => [s.start, s.end]), row.slices, `${row.rule}: slices`);
    // Invariants: oldest first, contiguous, covering exactly [start, end).
    t.equal(window.slices[0]!.start, window.start, `${row.rule}: first slice starts at the lower bound`);
    t.equal(window.slices.at(-1)!.end, window.end, `${row.rule}: last slice ends at the upper bound`);
    t.ok(window.slices.every((s, i) => s.start < s.end && (i === 0 || s.start === window.slices[i - 1]!.end)), `${row.rule}: contiguous, oldest first`);
    for (const reason of row.reasons) t.ok(window.reasons.some((r) => reason.test(r)), `${row.rule}: reason ${reason}`, { reasons: window.reasons });
    if (row.last === undefined) t.notOk(window.reasons.some((r) => /overlap|catch-up/.test(r)), `${row.rule}: no file, no overlap`);
  }
});

t.test('an empty window is a config error, not a silent empty run', async (t) => {
  const cases: Array<[string, Partial<RcbsConfig>]> = [
    ['minDate older than now − maxAge', { minDate: Date.UTC(2015, 6, 31) }],
    ['maxDate newer than now − minAge', { maxDate: NOW - DAY_MS, minAge: 2 * DAY_MS, maxAge: 0 }],
  ];
  for (const [what, config] of cases) {
    try {
      computeWindow(configWith(config), NOW);
      t.fail(`${what}: should throw`);
    } catch (err) {
      t.ok(err instanceof RcbsError, what);
      t.equal((err as RcbsError).code, 'RCBS_CONFIG_INVALID', what);
      t.match((err as RcbsError).message, /the recording window is empty/, what);
    }
  }
});

t.test('the window is pure: same inputs, same window; now is an input', async (t) => {
  const config = configWith({});
  t.same(computeWindow(config, NOW, NOW - DAY_MS), computeWindow(config, NOW, NOW - DAY_MS));
  t.equal(computeWindow(config, NOW + HOUR_MS).end, NOW + HOUR_MS);
});
