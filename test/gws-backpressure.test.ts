// Pins the source's backpressure (STYLE.md backpressure end to end): the next GWS page is
// fetched while the pipeline works through the current one (one page read ahead, so the
// wait for GWS overlaps the writes), and never further: a slow sink never makes rcbs run
// ahead through a huge window, and memory stays flat.
// Also pins the run total: one count per unique recording.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import _ from 'highland';
import { createGwsClient } from '../src/gws/client.js';
import { recordingStream } from '../src/sources/gws/source.js';
import { createRunContext } from '../src/pipeline/context.js';
import { configWith } from '../src/config/defaults.js';
import type { PipelineRecord } from '../src/pipeline/types.js';

t.test('a slow consumer sees exactly one page requested ahead of what it pulled', async (t) => {
  const pageSize = 5;
  const total = 23;
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const offset = Number(new URL(req.url!, 'http://x').searchParams.get('offset'));
    const recordings = Array.from({ length: Math.max(0, Math.min(pageSize, total - offset)) }, (_, i) => ({ id: `r${offset + i}` }));
    res.writeHead(200).end(JSON.stringify({ statusCode: 0, recordings }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const context = createRunContext({ config: configWith({ gwsUriPrefix: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }) });
  const client = createGwsClient(context);
  const records = recordingStream(context, client, { recordingsUri: '/recordings', pageSize, slices: [{ start: 0, end: 100 }] });

  const pull = () =>
    new Promise<PipelineRecord | undefined>((resolve, reject) =>
      records.pull((err, value) => (err ? reject(err) : resolve(_.isNil(value) ? undefined : (value as PipelineRecord)))),
    );
  const ids: string[] = [];
  let worstAhead = 0;
  for (;;) {
    const record = await pull();
    if (!record) break;
    ids.push(record.recording.id as string);
    // Pages the consumer has reached so far; anything beyond one more is running ahead.
    const pagesReached = Math.ceil(ids.length / pageSize);
    worstAhead = Math.max(worstAhead, requests - pagesReached);
    // Give the source every chance to run ahead before the next pull.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.equal(ids.length, total);
  t.equal(requests, Math.ceil(total / pageSize), 'one request per page, the last one not full');
  t.equal(worstAhead, 1, 'the next page is requested while the current one is consumed, and never more than that');
  t.equal(new Set(ids).size, total, 'each unique recording emitted once');
});

t.test('stopping early fetches no further pages', async (t) => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const offset = Number(new URL(req.url!, 'http://x').searchParams.get('offset'));
    res.writeHead(200).end(JSON.stringify({ statusCode: 0, recordings: [{ id: `a${offset}` }, { id: `b${offset}` }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const context = createRunContext({ config: configWith({ gwsUriPrefix: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }) });
  const records = recordingStream(context, createGwsClient(context), { recordingsUri: '/recordings', pageSize: 2, slices: [{ start: 0, end: 100 }] });
  const firstThree = await new Promise<PipelineRecord[]>((resolve, reject) => records.take(3).stopOnError(reject).toArray(resolve));
  t.same(firstThree.map((r) => r.recording.id), ['a0', 'b0', 'a2']);
  t.equal(requests, 2, 'the server that never ends is asked only for the pages read');
});
