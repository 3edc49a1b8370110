// Medians of the start-up marks bench/startup-ab.sh collected: one line per build with each
// milestone after the process started (ms) and the spans between them, median (min-max).
//   node bench/startup-marks-summary.mjs <marks file>
// A line of the file is "<build label> startup-marks {json}" (bench/startup-marks.cjs's line).
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').trim().split('\n').filter((l) => l.includes('startup-marks {'))
  .map((l) => [l.split(' ')[0], JSON.parse(l.slice(l.indexOf('{')))]);
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const figures = [
  ['running pipeline', (m) => m.running],
  ['first connection dialled', (m) => m['first-connect']],
  ['settings request sent', (m) => m['settings-sent']],
  ['settings answered', (m) => m['settings-answered']],
  ['settings answered -> first page sent', (m) => m['first-page-sent'] - m['settings-answered']],
  ['first page sent -> 3rd page answered', (m) => m['page-3-answered'] - m['first-page-sent']],
  ['3rd page answered -> first S3 GET', (m) => m['first-s3-get'] - m['page-3-answered']],
  ['first S3 GET', (m) => m['first-s3-get']],
];
for (const build of [...new Set(rows.map(([b]) => b))]) {
  const marks = rows.filter(([b]) => b === build).map(([, m]) => m);
  const parts = figures.map(([name, f]) => {
    const values = marks.map(f).filter(Number.isFinite);
    return values.length ? `${name} ${median(values)} (${Math.min(...values)}-${Math.max(...values)})` : `${name} -`;
  });
  console.log(`${build}, ${marks.length} runs: ${parts.join('; ')}`);
}
