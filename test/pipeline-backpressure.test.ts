// Pins backpressure end to end: with a slow sink, the ndjson source never reads
// more than a bounded number of records ahead of what the sink has finished,
// however long the input is. This is what keeps memory flat on huge inputs.

import t from 'tap';
import { Readable } from 'node:stream';
import _ from 'highland';
import ndjsonSource from '../src/sources/ndjson.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import { runPipeline } from '../src/pipeline/runner.js';
import { defineComponent, type PipelineRecord } from '../src/pipeline/types.js';
import type { ResolvedStep } from '../src/pipeline/loader.js';

t.test('the source stays a bounded distance ahead of a slow sink', async (t) => {
  const total = 3000;
  let produced = 0;
  let consumed = 0;
  let maxAhead = 0;
  const input = Readable.from(
    (function* () {
      for (let i = 0; i < total; i++) {
        produced++;
        yield `{"id":"rec-${i}"}\n`;
      }
    })(),
    { objectMode: false, highWaterMark: 1 },
  );

  const slowSink = defineComponent({
    kind: 'sink',
    name: 'slow',
    description: 'test sink that takes a tick per record',
    options: {},
    create: () => (records) =>
      records.consume<PipelineRecord>((err, record, push, next) => {
        if (err || _.isNil(record)) return push(err, record);
        setImmediate(() => {
          consumed++;
          maxAhead = Math.max(maxAhead, produced - consumed);
          push(null, record);
          next();
        });
      }),
  });

  const context = createRunContext({ config: configWith({}), stdin: input });
  const steps: ResolvedStep[] = [
    { kind: 'source', at: '/source', component: ndjsonSource as never, options: {} },
    { kind: 'sink', at: '/sinks/0', component: slowSink as never, options: {} },
  ];
  const outcome = await runPipeline(steps, context);
  t.equal(outcome.exitCode, 0);
  t.equal(consumed, total, 'every record reached the sink');
  t.equal(outcome.components[0]!.out, total);
  t.equal(outcome.totals.recordings, total);
  t.ok(maxAhead < 200, `source read at most ${maxAhead} records ahead (bound 200 of ${total})`);
});
