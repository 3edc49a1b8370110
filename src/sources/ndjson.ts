// Source `ndjson`: one JSON record per line from stdin or a file, so pipelines
// compose with other tools (`rcbs run export --ndjson | jq … | rcbs run fetch-media`).
// A line may be a bare recording or a record printed by the ndjson sink
// ({ recording, status, … }): either way the recording starts afresh here.
// A bad line is reported with its line number, counted as failed, and the run goes on.

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { fromAsyncIterable } from '../pipeline/streams.js';
import { defineComponent, newRecord, type PipelineRecord, type Recording } from '../pipeline/types.js';

interface Options {
  /** File to read; `-` or absent means stdin. */
  path?: string;
}

/** Splits a byte stream into lines without buffering more than one chunk ahead. When
 * `signal` aborts (Ctrl-C) the input is let go and the lines end there, even while it sends
 * nothing: a pipe whose writer is idle would otherwise keep the run waiting for its next byte. */
export async function* readLines(input: Readable, signal?: AbortSignal): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const onAbort = () => input.destroy();
  if (signal?.aborted) return;
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of input) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        yield pending.slice(0, newline);
        pending = pending.slice(newline + 1);
      }
    }
  } catch (err) {
    // The read ended by the abort (a destroyed stream says "premature close"): lines just stop.
    if (signal?.aborted) return;
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) return;
  pending += decoder.end();
  if (pending.length > 0) yield pending;
}

function asRecording(value: unknown): Recording | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const wrapped = (value as { recording?: unknown }).recording;
  if (wrapped !== null && typeof wrapped === 'object' && !Array.isArray(wrapped)) return wrapped as Recording;
  return value as Recording;
}

export default defineComponent<Options>({
  kind: 'source',
  name: 'ndjson',
  description: 'Reads recordings as NDJSON (one JSON object per line) from stdin or a file.',
  options: {
    type: 'object',
    properties: { path: { type: 'string', minLength: 1, description: 'file to read; "-" or absent reads stdin' } },
    additionalProperties: false,
  },
  create(options, context, self) {
    const fromStdin = options.path === undefined || options.path === '-';
    const source = options.path;
    return () => {
      const input = fromStdin ? context.stdin : createReadStream(source!);
      const where = fromStdin ? 'stdin' : source!;
      // Started by hand with nothing piped in, the run would sit silently: say what it waits for.
      if (fromStdin && (input as { isTTY?: boolean }).isTTY) {
        context.log.warn('waiting for recordings as NDJSON on stdin (one JSON object per line; Ctrl-D ends): pipe them in, e.g. rcbs run export --ndjson | rcbs run fetch-media');
      }
      async function* records(): AsyncGenerator<PipelineRecord> {
        let lineNumber = 0;
        for await (const line of readLines(input, context.signal)) {
          lineNumber++;
          if (line.trim() === '') continue;
          let recording: Recording | undefined;
          let problem = 'not a JSON object';
          try {
            recording = asRecording(JSON.parse(line));
          } catch (err) {
            problem = (err as Error).message;
          }
          if (recording) {
            yield newRecord(recording);
            continue;
          }
          self.fail({ code: 'RCBS_RECORD_INVALID', message: `${where} line ${lineNumber}: ${problem}` });
          context.log.warn('skipping a bad NDJSON line', { source: where, line: lineNumber, problem });
        }
      }
      return fromAsyncIterable(records());
    };
  },
});
