// Pins the `gws-recordings` component as the runner uses it: it declares gwsUriPrefix
// as required, so the one config check refuses a run without it (exit 2, not a crash at
// the first request; the component does not check again), computes the run's
// window with computeWindow and returns it with its records (the runner advances
// last_recording_endtime.txt from it), queries GWS slice by slice oldest first, and
// works with no target store at all (pure NDJSON runs).
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import _ from 'highland';
import source from '../src/sources/gws-recordings.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents } from '../src/pipeline/outcome.js';
import { configWith, DAY_MS } from '../src/config/defaults.js';
import { requireKeys } from '../src/config/load.js';
import type { PipelineRecord } from '../src/pipeline/types.js';

t.test('gwsUriPrefix is required through requiresConfig, checked once with the config', async (t) => {
  t.same(source.requiresConfig, ['gwsUriPrefix']);
  t.throws(() => requireKeys(configWith({ gwsUriPrefix: '' }), source.requiresConfig!, 'by gws-recordings'), {
    code: 'RCBS_CONFIG_INVALID',
    message: /gwsUriPrefix=\(not set\): required by gws-recordings/,
  });
});

t.test('queries each slice of the computed window, oldest first, and returns the window', async (t) => {
  const asked: Array<[number, number]> = [];
  const server = createServer((req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    const start = Number(q.get('startTime'));
    asked.push([start, Number(q.get('endTime'))]);
    res.writeHead(200).end(JSON.stringify({ statusCode: 0, recordings: [{ id: `rec-${start}` }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());

  const maxDate = Date.UTC(2024, 0, 1); // lower bound
  const minDate = maxDate + 2 * DAY_MS; // upper bound
  const context = createRunContext({
    config: configWith({ gwsUriPrefix: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxDate, minDate, shardBy: DAY_MS }),
    now: minDate + 10 * DAY_MS,
  });
  const fn = await source.create({ pageSize: 50 }, context, componentEvents('gws-recordings'));
  const records = fn(_<PipelineRecord>([]));
  const out = await new Promise<PipelineRecord[]>((resolve, reject) => records.stopOnError(reject).toArray(resolve));

  t.ok(fn.window, 'the source returns its window with its records');
  t.equal(fn.window!.start, maxDate);
  t.equal(fn.window!.end, minDate);
  t.same(asked, fn.window!.slices.map((s) => [s.start, s.end]), 'one query per slice, in order');
  t.same(asked, [
    [maxDate, maxDate + DAY_MS],
    [maxDate + DAY_MS, minDate],
  ]);
  t.same(out.map((r) => r.recording.id), [`rec-${maxDate}`, `rec-${maxDate + DAY_MS}`]);
  t.equal(out[0]!.status, 'pending');
});
