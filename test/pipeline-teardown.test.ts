// Pins teardown when a run ends early: highland never tells a source that its
// reader went away, so the runner destroys the source stream and
// fromAsyncIterable returns the iterator — the source's `finally` (closing GWS
// sockets, files) runs. Also pins that an error in a component that logs at the
// end (onEnd) fails the run instead of crashing the process with an unhandled
// 'error' event (what `.on('end')` on a highland stream causes).

import t from 'tap';
import _ from 'highland';
import { fromAsyncIterable, onEnd } from '../src/pipeline/streams.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import { runPipeline } from '../src/pipeline/runner.js';
import { defineComponent, newRecord, type PipelineRecord } from '../src/pipeline/types.js';
import type { ResolvedStep } from '../src/pipeline/loader.js';
import { RcbsError } from '../src/errors.js';

const step = (kind: ResolvedStep['kind'], component: unknown): ResolvedStep => ({ kind, at: `/${kind}`, component: component as never, options: {} });

t.test('an aborted run closes its source', async (t) => {
  let released = false;
  let produced = 0;
  const controller = new AbortController();
  const endless = defineComponent({
    kind: 'source',
    name: 'endless',
    description: 'an endless source holding a resource',
    options: {},
    create: () => () =>
      fromAsyncIterable(
        (async function* () {
          try {
            for (;;) {
              produced++;
              yield newRecord({ id: `r${produced}` });
            }
          } finally {
            released = true;
          }
        })(),
      ),
  });
  const stopper = defineComponent({
    kind: 'sink',
    name: 'stopper',
    description: 'aborts the run at the fifth record',
    options: {},
    create: () => (records) => records.tap((r) => r.recording.id === 'r5' && controller.abort()),
  });
  const context = createRunContext({ config: configWith({}), signal: controller.signal });
  const outcome = await runPipeline([step('source', endless), step('sink', stopper)], context);
  t.equal(outcome.exitCode, 130);
  t.equal(outcome.reason, 'aborted');
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(released, "the source's finally ran");
  t.ok(produced < 50, `the source stopped (${produced} produced)`);
});

t.test('an error passing a component that logs at the end fails the run, no crash', async (t) => {
  let ended = false;
  const failing = defineComponent({
    kind: 'source',
    name: 'failing',
    description: 'one record then an error',
    options: {},
    create: () => () =>
      _<PipelineRecord>((push) => {
        push(null, newRecord({ id: 'a' }));
        push(new RcbsError('RCBS_STORE_IO', 'disk gone'));
        push(null, _.nil);
      }),
  });
  const tally = defineComponent({
    kind: 'transform',
    name: 'tally',
    description: 'logs a tally at the end',
    options: {},
    create: () => (records) => onEnd(records, () => (ended = true)),
  });
  const context = createRunContext({ config: configWith({}) });
  await t.rejects(runPipeline([step('source', failing), step('transform', tally)], context), { code: 'RCBS_STORE_IO' });
  t.notOk(ended, 'the run failed before the end');
});
