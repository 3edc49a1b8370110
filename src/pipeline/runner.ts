// Runs a resolved pipeline: source → transforms → sinks composed with highland
// `.through()`, pulled from the end by a Node Writable through `pipeline()` so
// backpressure holds end to end and the first error fails the run (no hang).
//
// Stopping: an abort (SIGINT/SIGTERM) or a closed stdout (| head) shuts the gate
// behind the source: no new record enters, records already inside finish or are
// cleaned up by their sinks, then the run ends. last_recording_endtime.txt moves
// only after a complete, clean run (SPEC §3).

import { Writable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import _ from 'highland';
import { RcbsError, toRcbsError } from '../errors.js';
import { toReadable } from './streams.js';
import { newCounters, settleRunEnd } from './context.js';
import type { ResolvedStep } from './loader.js';
import { settleStatus, type PipelineRecord, type RecordFn, type RecordStream, type RunContext } from './types.js';

export interface RunOutcome {
  /** 0 all done, 1 finished with failures, 130 interrupted. */
  exitCode: number;
  /** The run stopped early (abort or closed stdout); the window was not completed. */
  stoppedEarly: boolean;
  reason?: 'aborted' | 'stdout-closed';
  records: number;
  elapsedMs: number;
  /** True when last_recording_endtime.txt was advanced. */
  windowCommitted: boolean;
}

export interface RunOptions {
  /** Called when the run has decided to stop early, e.g. to log it. */
  onStop?: (reason: 'aborted' | 'stdout-closed') => void;
  /** Whether the store was opened by a component (so the window can be committed). */
  storeOpened?: () => boolean;
}

/** A unique counter name per step: the component name, with its kind or position when it repeats. */
function counterName(steps: ResolvedStep[], index: number): string {
  const { name } = steps[index]!.component;
  const kind = steps[index]!.kind;
  if (steps.filter((s) => s.component.name === name).length === 1) return name;
  const sameKind = steps.filter((s) => s.component.name === name && s.kind === kind);
  return sameKind.length === 1 ? `${name} (${kind})` : `${name} (${kind} ${sameKind.indexOf(steps[index]!) + 1})`;
}

export async function runPipeline(steps: ResolvedStep[], context: RunContext, options: RunOptions = {}): Promise<RunOutcome> {
  const started = Date.now();
  let stopReason: RunOutcome['reason'];
  const stop = (reason: 'aborted' | 'stdout-closed') => {
    if (stopReason) return;
    stopReason = reason;
    options.onStop?.(reason);
  };
  const onAbort = () => stop('aborted');
  if (context.signal.aborted) onAbort();
  context.signal.addEventListener('abort', onAbort, { once: true });
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') stop('stdout-closed');
  };
  context.stdout.on('error', onStdoutError);

  // Destroyed at the end however the run ends, so the source lets go of its sockets
  // and files (highland never propagates an early end upstream by itself).
  let sourceStream: RecordStream | undefined;
  try {
    const fns: Array<{ fn: RecordFn; name: string }> = [];
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const name = counterName(steps, i);
      const counters = newCounters();
      context.counters.set(name, counters);
      const fn = await step.component.create(step.options as Record<string, unknown>, context, counters);
      fns.push({ fn, name });
    }

    const [source, ...rest] = fns;
    sourceStream = source!.fn(_<PipelineRecord>([]));
    let stream: RecordStream = sourceStream.consume<PipelineRecord>((err, record, push, next) => {
      // The gate: once stopping, no new record enters the pipeline.
      if (stopReason) return push(null, _.nil);
      if (err) {
        push(err);
        return next();
      }
      if (!_.isNil(record)) context.counters.get(source!.name)!.out++;
      push(null, record);
      if (!_.isNil(record)) next();
    });
    for (const { fn, name } of rest) {
      const counters = context.counters.get(name)!;
      stream = fn(stream.tap(() => counters.in++)).tap(() => counters.out++);
    }

    let records = 0;
    await pipelineAsync(
      toReadable(stream),
      new Writable({
        objectMode: true,
        highWaterMark: 1,
        write(record: PipelineRecord, _enc, done) {
          settleStatus(record);
          records++;
          done();
        },
      }),
    );

    // Files written whole (the file sink) go into place only after a complete run.
    await settleRunEnd(context, stopReason === undefined);
    const failed = context.totals.failed > 0 || context.totals.failures.length > 0;
    let windowCommitted = false;
    const writesTarget = steps.some((s) => s.component.writesTarget);
    if (!stopReason && !failed && !context.dryRun && context.window && writesTarget && (options.storeOpened?.() ?? true)) {
      const store = await context.store();
      await store.writeLastRecordingEndTime(context.window.end);
      windowCommitted = true;
    }
    return {
      exitCode: stopReason === 'aborted' ? 130 : failed ? 1 : 0,
      stoppedEarly: stopReason !== undefined,
      reason: stopReason,
      records,
      elapsedMs: Date.now() - started,
      windowCommitted,
    };
  } catch (err) {
    await settleRunEnd(context, false).catch((cleanup: unknown) => context.log.warn('cleaning up after the failed run failed too', { error: (cleanup as Error).message }));
    if (stopReason === 'aborted') {
      throw new RcbsError('RCBS_ABORTED', 'interrupted: in-flight work was finished or cleaned up', {}, { cause: err });
    }
    throw toRcbsError(err);
  } finally {
    sourceStream?.destroy();
    context.signal.removeEventListener('abort', onAbort);
    context.stdout.off('error', onStdoutError);
  }
}
