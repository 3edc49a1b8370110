// Pins the two ways rcbs writes a span of time, under two names (they used to share
// one, formatDuration, in two files): formatIsoDuration is the ISO-8601 form operators
// write in config.properties and read back in the window's log lines (it parses back to
// the same milliseconds); formatElapsed is the run summary's and the progress ETA's.

import t from 'tap';
import { formatIsoDuration, parseIsoDuration, DAY_MS, HOUR_MS } from '../src/config/duration.js';
import { formatElapsed } from '../src/pipeline/report.js';

t.test('formatIsoDuration: the ISO-8601 form, which parses back', async (t) => {
  for (const [ms, text] of [
    [0, 'PT0S'],
    [2 * DAY_MS + 6 * HOUR_MS, 'P2DT6H'],
    [DAY_MS, 'P1D'],
    [30 * 60_000, 'PT30M'],
    [90_500, 'PT1M30.5S'],
  ] as const) {
    t.equal(formatIsoDuration(ms), text);
    t.equal(parseIsoDuration(text), ms, `${text} parses back`);
  }
});

t.test('formatElapsed: for people reading a summary', async (t) => {
  t.equal(formatElapsed(850), '850 ms');
  t.equal(formatElapsed(12_400), '12.4 s');
  t.equal(formatElapsed(63_000), '1 min 3 s');
  t.equal(formatElapsed(2 * 3_600_000 + 5 * 60_000), '2 h 5 min');
});
