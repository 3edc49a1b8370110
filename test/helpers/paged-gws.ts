// A GWS for paging tests: slice k ([k × SLICE, (k + 1) × SLICE)) holds `pagesPerSlice`
// full pages of `pageSize` recordings (ids s<k>-<n>) plus one short page, paged by offset
// with no links. It counts requests in flight and those the client closed unanswered, so
// tests see concurrency and cancellation from the server's side.
import type { Test } from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const SLICE = 1000;

export interface PageRequest {
  slice: number;
  offset: number;
  req: IncomingMessage;
  res: ServerResponse;
}

/**
 * A GWS whose slice k holds `pagesPerSlice` full pages of `pageSize` recordings plus one
 * short page, answered by `answer` (default: at once). It counts requests in flight and
 * notes which were closed by the client before an answer.
 */
export async function startGws(
  t: Test,
  options: { pageSize: number; pagesPerSlice: number; answer?: (request: PageRequest, respond: () => void) => void; onRequest?: (request: PageRequest) => void },
) {
  const state = {
    /** Requests received and not answered yet. */
    inFlight: 0,
    maxInFlight: 0,
    requests: [] as Array<{ slice: number; offset: number }>,
    closedUnanswered: 0,
    /** The slices of the requests the client closed before an answer came. */
    closedSlices: [] as number[],
  };
  let idle: (() => void) | undefined;
  /** Resolves when no request is waiting (answered, or closed by the client). */
  const whenIdle = () => new Promise<void>((resolve) => (state.inFlight === 0 ? resolve() : (idle = resolve)));
  const settled = () => {
    state.inFlight--;
    if (state.inFlight === 0) idle?.();
  };
  const server = createServer((req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    const slice = Number(q.get('startTime')) / SLICE;
    const offset = Number(q.get('offset'));
    state.requests.push({ slice, offset });
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    let answered = false;
    res.on('close', () => {
      if (answered) return;
      answered = true;
      state.closedUnanswered++;
      state.closedSlices.push(slice);
      settled();
    });
    const respond = () => {
      if (answered || res.destroyed) return;
      answered = true;
      settled();
      const page = offset / options.pageSize;
      const count = page < options.pagesPerSlice ? options.pageSize : page === options.pagesPerSlice ? 1 : 0;
      const recordings = Array.from({ length: count }, (_, i) => ({ id: `s${slice}-${offset + i}`, stopTime: new Date(slice * SLICE + offset + i).toISOString() }));
      res.writeHead(200).end(JSON.stringify({ statusCode: 0, recordings }));
    };
    options.onRequest?.({ slice, offset, req, res });
    if (options.answer) options.answer({ slice, offset, req, res }, respond);
    else respond();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { state, whenIdle, prefix: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export const slices = (count: number) => Array.from({ length: count }, (_, k) => ({ start: k * SLICE, end: (k + 1) * SLICE }));

