// Pins error propagation: a failing source or a throwing transform fails the run
// with its coded error (never a hang, never a silent success), and a bad NDJSON
// line is reported with its line number while the run goes on (exit 1).

import t from 'tap';
import { Readable, PassThrough } from 'node:stream';
import _ from 'highland';
import ndjsonSource from '../src/sources/ndjson.js';
import ndjsonSink from '../src/sinks/ndjson.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import { runPipeline } from '../src/pipeline/runner.js';
import { defineComponent, newRecord, type PipelineRecord } from '../src/pipeline/types.js';
import type { ResolvedStep } from '../src/pipeline/loader.js';
import { RcbsError } from '../src/errors.js';

const step = (kind: ResolvedStep['kind'], component: unknown): ResolvedStep => ({ kind, at: `/${kind}`, component: component as never, options: {} });

t.test('a source that fails mid-stream fails the run with its code', async (t) => {
  const failing = defineComponent({
    kind: 'source',
    name: 'failing',
    description: 'emits two records then fails',
    options: {},
    create: () => () =>
      _<PipelineRecord>((push) => {
        push(null, newRecord({ id: 'a' }));
        push(null, newRecord({ id: 'b' }));
        push(new RcbsError('RCBS_GWS_HTTP', 'GWS answered 500 after 6 attempts'));
        push(null, _.nil);
      }),
  });
  const context = createRunContext({ config: configWith({}) });
  await t.rejects(runPipeline([step('source', failing), step('sink', ndjsonSink)], context), { code: 'RCBS_GWS_HTTP' });
});

t.test('a transform that throws fails the run', async (t) => {
  const throwing = defineComponent({
    kind: 'transform',
    name: 'throwing',
    description: 'throws on the second record',
    options: {},
    create: () => (records) => {
      let n = 0;
      return records.map((r) => {
        if (++n === 2) throw new Error('boom');
        return r;
      });
    },
  });
  const input = Readable.from(['{"id":"1"}\n{"id":"2"}\n{"id":"3"}\n']);
  const context = createRunContext({ config: configWith({}), stdin: input });
  await t.rejects(runPipeline([step('source', ndjsonSource), step('transform', throwing), step('sink', ndjsonSink)], context), { message: 'boom' });
});

t.test('a bad NDJSON line is reported with its line number and the run goes on', async (t) => {
  const input = Readable.from(['{"id":"1"}\n', 'not json\n', '\n', '[1,2]\n', '{"recording":{"id":"4"},"status":"done"}\n']);
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const warnings: string[] = [];
  const log = { debug() {}, info() {}, error() {}, summary() {}, warn: (m: string, f?: Record<string, unknown>) => warnings.push(`${m} ${JSON.stringify(f)}`), child() { return log; } };
  const context = createRunContext({ config: configWith({}), stdin: input, stdout, log });
  const outcome = await runPipeline([step('source', ndjsonSource), step('sink', ndjsonSink)], context);
  t.equal(outcome.exitCode, 1, 'finished with failures');
  const lines = Buffer.concat(chunks).toString().trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.map((l) => l.recording.id), ['1', '4'], 'good lines flow, a printed record is read back as its recording');
  t.equal(outcome.totals.failures.length, 2);
  t.equal(outcome.totals.failed, 2);
  t.match(outcome.totals.failures[0]!, { component: 'ndjson', code: 'RCBS_RECORD_INVALID', message: /stdin line 2/ });
  t.match(outcome.totals.failures[1]!.message, /stdin line 4: not a JSON object/);
  t.equal(warnings.length, 2);
});
