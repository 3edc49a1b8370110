// Pins the `filter` transform's condition language, exactly as SPEC §6 fixes it:
// each test (equals, oneOf, regex, gt/gte/lt/lte, exists), every test of a condition
// must hold, all/any/not, dot paths, "any element" through arrays, numeric strings
// compared as numbers (`size: "406080"`), time bounds in GWS, ISO-8601 and epoch ms
// compared as instants, paths that do not exist, values of the wrong type, and the
// problems reported at load (a bad regex, an unknown test) with their JSON pointer.
// A filter that keeps the wrong records makes a compliance export wrong without a
// sound, so every case must be able to fail; rejected records are dropped with a
// reason and counted.

import t from 'tap';
import _ from 'highland';
import filter, { compileCondition } from '../src/transforms/filter.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { configWith } from '../src/config/defaults.js';
import { newRecord, type PipelineRecord, type Recording } from '../src/pipeline/types.js';

const media = (mediaId: string, type: string, size: unknown, agentId: string) => ({
  mediaId, type, size, tenant: 'Environment', startTime: '2015-09-01T16:42:59.000+0000', parameters: { agentId, ani: '+14165550100' },
});

const recordings: Recording[] = [
  { id: 'r1', startTime: '2015-09-01T16:42:59.000+0000', stopTime: '2015-09-01T16:50:00.000+0000', parameters: { agentId: 'alice' }, mediaFiles: [media('m1', 'audio/mp3', '406080', '+1001'), media('m2', 'video/mp4', 1200, '+1002')] },
  { id: 'r2', startTime: '2015-09-02T08:00:00.000+0000', stopTime: '2015-09-02T08:10:00.000+0000', parameters: { agentId: 'bob' }, mediaFiles: [media('m3', 'audio/wav', 'n/a', '+1003')] },
  { id: 'r3', startTime: '2015-09-03T23:59:59.999+0000', stopTime: '2015-09-04T00:05:00.000+0000', parameters: { agentId: null }, mediaFiles: [] },
  { id: 'r4', startTime: 'not a time', region: 'EMEA' },
];

function ids(condition: unknown): string[] {
  const problems: string[] = [];
  const holds = compileCondition(condition, problems);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return recordings.map(newRecord).filter(holds).map((r) => r.recording.id as string);
}

t.test('equals: strings, numbers, numeric strings both ways, null absent', async (t) => {
  t.same(ids({ field: 'parameters.agentId', equals: 'alice' }), ['r1']);
  t.same(ids({ field: 'id', equals: 'R1' }), [], 'case-sensitive');
  t.same(ids({ field: 'mediaFiles.size', equals: 406080 }), ['r1'], 'the string "406080" equals the number');
  t.same(ids({ field: 'mediaFiles.size', equals: '1200' }), ['r1'], 'the number 1200 equals the string "1200"');
  t.same(ids({ field: 'mediaFiles.size', equals: '1200.0' }), ['r1'], 'a numeric string compares as a number');
  t.same(ids({ field: 'region', equals: 'EMEA' }), ['r4']);
  t.same(ids({ field: 'parameters', equals: { agentId: 'bob' } }), ['r2'], 'an object equals by value');
});

t.test('oneOf', async (t) => {
  t.same(ids({ field: 'parameters.agentId', oneOf: ['bob', 'carol', 'alice'] }), ['r1', 'r2']);
  t.same(ids({ field: 'mediaFiles.size', oneOf: [1, 406080] }), ['r1']);
  t.same(ids({ field: 'parameters.agentId', oneOf: [] }), [], 'an empty list matches nothing');
});

t.test('regex: found anywhere, (?i) ignores case, numbers as text, never objects', async (t) => {
  t.same(ids({ field: 'mediaFiles.type', regex: '^audio/' }), ['r1', 'r2'], 'any media file');
  t.same(ids({ field: 'mediaFiles.type', regex: 'MP4' }), []);
  t.same(ids({ field: 'mediaFiles.type', regex: '(?i)MP4' }), ['r1']);
  t.same(ids({ field: 'mediaFiles.size', regex: '^40' }), ['r1'], 'a number is tested as its text');
  t.same(ids({ field: 'parameters', regex: 'alice' }), [], 'an object is not text');
});

t.test('gt/gte/lt/lte on numbers; a value of another type never passes', async (t) => {
  t.same(ids({ field: 'mediaFiles.size', gt: 400000 }), ['r1'], 'the string size "406080" > 400000');
  t.same(ids({ field: 'mediaFiles.size', gte: 1200, lte: 1200 }), ['r1']);
  t.same(ids({ field: 'mediaFiles.size', lt: 1000 }), [], '"n/a" is not < 1000 ...');
  t.same(ids({ field: 'mediaFiles.size', gte: 1000 }), ['r1'], '... nor >= 1000');
  t.same(ids({ field: 'mediaFiles.size', gt: '1000' }), ['r1'], 'a numeric string bound is a number');
  t.same(ids({ field: 'parameters.agentId', gt: 5 }), [], 'text is not a number');
});

t.test('time bounds: GWS, ISO-8601, a date, epoch ms, compared as instants', async (t) => {
  const start = (condition: object) => ids({ field: 'startTime', ...condition });
  t.same(start({ gte: '2015-09-02T00:00:00Z', lt: '2015-09-03' }), ['r2'], 'ISO and a bare date (00:00 UTC)');
  t.same(start({ gte: '2015-09-02T10:00:00.000+0200' }), ['r2', 'r3'], 'a GWS time with an offset: 08:00Z is not before it');
  t.same(start({ gt: '2015-09-02T10:00:00.000+0200' }), ['r3']);
  t.same(start({ lt: Date.UTC(2015, 8, 2) }), ['r1'], 'epoch ms as a number');
  t.same(start({ lt: String(Date.UTC(2015, 8, 2)) }), ['r1'], 'epoch ms as a string');
  t.same(start({ gte: '2015-09-03T23:59:59.999+0000', lte: '2015-09-03T23:59:59.999Z' }), ['r3'], 'milliseconds count');
  t.same(ids({ field: 'stopTime', gte: '2015-09-04' }), ['r3']);
});

t.test('exists; null counts as absent; missing paths', async (t) => {
  t.same(ids({ field: 'region', exists: true }), ['r4']);
  t.same(ids({ field: 'parameters.agentId', exists: true }), ['r1', 'r2']);
  t.same(ids({ field: 'parameters.agentId', exists: false }), ['r3', 'r4'], 'null and missing');
  t.same(ids({ field: 'mediaFiles.mediaId', exists: false }), ['r3', 'r4'], 'an empty media list has no mediaId');
  t.same(ids({ field: 'no.such.path', equals: 'x' }), []);
  t.same(ids({ field: 'no.such.path', exists: false }), ['r1', 'r2', 'r3', 'r4']);
  t.same(ids({ field: 'id.length', exists: true }), [], 'a string has no fields');
  t.same(ids({ field: 'constructor', exists: true }), [], 'only own fields of the data');
});

t.test('through arrays a test holds for any element; each test on its own', async (t) => {
  t.same(ids({ field: 'mediaFiles.parameters.agentId', equals: '+1002' }), ['r1'], 'the second media file');
  t.same(ids({ field: 'mediaFiles.type', equals: 'video/mp4', regex: '^audio' }), ['r1'], 'every test given must hold, each for some element');
  t.same(ids({ field: 'mediaFiles', exists: true }), ['r1', 'r2', 'r3']);
});

t.test('all / any / not, nested', async (t) => {
  t.same(ids({ all: [{ field: 'mediaFiles.type', regex: '^audio/' }, { field: 'parameters.agentId', equals: 'bob' }] }), ['r2']);
  t.same(ids({ any: [{ field: 'parameters.agentId', equals: 'alice' }, { field: 'region', exists: true }] }), ['r1', 'r4']);
  t.same(ids({ not: { field: 'parameters.agentId', oneOf: ['alice', 'bob'] } }), ['r3', 'r4']);
  t.same(ids({ all: [] }), ['r1', 'r2', 'r3', 'r4'], 'all of nothing holds');
  t.same(ids({ any: [] }), [], 'any of nothing does not');
  t.same(ids({ not: { any: [{ field: 'startTime', lt: '2015-09-02' }, { all: [{ field: 'region', exists: true }] }] } }), ['r2', 'r3']);
});

t.test('every problem is reported at load with its pointer, never at run time', async (t) => {
  const problemsOf = (condition: unknown) => {
    const problems: string[] = [];
    compileCondition(condition, problems);
    return problems;
  };
  t.same(problemsOf({ field: 'a', equals: 1 }), []);
  t.match(problemsOf({ field: 'a', regex: '(' }), [/^\/regex: "\(" is not a valid regular expression/]);
  t.match(problemsOf({ all: [{ field: 'a', equals: 1 }, { field: 'b', eqals: 2 }] }), [/^\/all\/1\/eqals: unknown test "eqals"; did you mean "equals"\?/, /^\/all\/1: the condition on b has no test/]);
  t.match(problemsOf({ field: 'a', gt: 'yesterday' }), [/^\/gt: must be a number or a time .*got "yesterday"/]);
  t.match(problemsOf({ field: 'a..b', exists: true }), [/^\/field: "a\.\.b" is not a field path/]);
  t.match(problemsOf({ equals: 1 }), [/^\/field: is missing/]);
  t.match(problemsOf({ all: [{ field: 'a', exists: true }], not: { field: 'b', exists: true } }), [/must be alone/]);
  t.match(problemsOf({ any: 'x' }), [/^\/any: must be an array/]);
  t.match(problemsOf({ not: [1] }), [/^\/not: a condition must be an object/]);
  t.match(problemsOf({ field: 'a', oneOf: 'x', exists: 'yes' }), [/^\/oneOf: must be an array/, /^\/exists: must be true or false/]);
  t.match(problemsOf({ field: '@colour', exists: true }), [/@colour is not an outcome field/]);
});

t.test('the transform drops with a reason, counts, and keeps order', async (t) => {
  const debug: Array<Record<string, unknown>> = [];
  const log = { debug: (_m: string, f?: Record<string, unknown>) => debug.push(f ?? {}), info() {}, warn() {}, error() {} };
  const context = createRunContext({ config: configWith({}), log: log as never });
  const self = componentEvents('filter');
  const fn = await filter.create({ field: 'mediaFiles.type', regex: '^audio/' }, context, self);
  const kept = (await fn(_(recordings.map(newRecord))).collect().toPromise(Promise)) as PipelineRecord[];
  t.same(kept.map((r) => r.recording.id), ['r1', 'r2']);
  t.equal(self.dropped, 2);
  t.equal(self.droppedBy.filtered, 2, 'counted as filtered');
  t.same(debug.map((d) => d.recordingId), ['r3', 'r4']);
  t.match(debug[0]!.reason, /does not match the filter: mediaFiles\.type regex "\^audio\/"/);
  t.throws(() => filter.create({ field: 'a', regex: '[' }, context, self), { code: 'RCBS_PIPELINE_INVALID' }, 'create refuses what check reports');
});

t.test('a row made by select is what the filter sees; @ fields see the outcome', async (t) => {
  const record = newRecord(recordings[0]!);
  record.row = { agent: '+1001', type: 'audio/mp3' };
  record.media = [{ mediaId: 'm1', status: 'skipped', path: 'Environment/2015/09/01/16/m1.bin' }];
  const holds = (condition: unknown) => compileCondition(condition, [])(record);
  t.ok(holds({ field: 'agent', equals: '+1001' }));
  t.notOk(holds({ field: 'parameters.agentId', exists: true }), 'the recording is no longer the subject');
  t.ok(holds({ field: '@path', regex: 'm1\\.bin$' }));
  t.ok(holds({ field: '@mediaStatus', equals: 'skipped' }));
});
