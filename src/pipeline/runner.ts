// Runs a resolved pipeline: source → transforms → sinks composed with highland
// `.through()`, pulled from the end by a Node Writable through `pipeline()` so
// backpressure holds end to end and the first error fails the run (no hang).
//
// Stopping: an abort (SIGINT/SIGTERM) or a closed stdout (| head) shuts the gate
// behind the source: no new record enters, records already inside finish or are
// cleaned up by their sinks, then the run ends. last_recording_endtime.txt moves
// only after a complete, clean run (SPEC §3).
//
// Outcomes: components put them on the records (src/pipeline/outcome.ts); the
// runner alone folds the records that reach the end, and each component's events,
// into the run's totals, and derives the exit code and the checkpoint from them.
// A source returns its time window with its records; nothing else publishes it.

import { Writable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import _ from './highland.js';
import type { RecordingWindow } from '../config/window.js';
import { RcbsError, toRcbsError } from '../errors.js';
import { toReadable } from './streams.js';
import { settleRunEnd } from './context.js';
import type { ResolvedStep } from './loader.js';
import { allItemsDone, componentEvents, emptyTotals, tallyComponent, tallyRecord, type RunTotals } from './outcome.js';
import { settleStatus, type ComponentEvents, type PipelineRecord, type RecordFn, type RecordStream, type RunContext } from './types.js';

export type StopReason = 'aborted' | 'stdout-closed' | 'stopped';

export interface RunOutcome {
  /** 0 all done, 1 finished with failures, 130 interrupted, or the exit code of the
   * error that stopped the run (2 credentials, 4 cannot go on). */
  exitCode: number;
  /** The run stopped early (abort, closed stdout, stopRun); the window was not completed. */
  stoppedEarly: boolean;
  reason?: StopReason;
  /** The failure that stopped the run (context.stopRun). */
  stopError?: RcbsError;
  records: number;
  elapsedMs: number;
  /** The time window the source covered, if it queried one. */
  window?: RecordingWindow;
  /** True when last_recording_endtime.txt was advanced. */
  windowCommitted: boolean;
  totals: RunTotals;
  /** Each step's events, in pipeline order (names unique within the run). */
  components: ComponentEvents[];
}

export interface RunOptions {
  /** Called when the run has decided to stop early, e.g. to log it. */
  onStop?: (reason: StopReason) => void;
  /** Whether the store was opened by a component (so the window can be committed). */
  storeOpened?: () => boolean;
  /** Sees each record that reached the end, settled (e.g. to list the failed ones). */
  onRecord?: (record: PipelineRecord) => void | Promise<void>;
  /** Called once the run has ended, however it ended, with what is known of it: the
   * run report is written from here even when the run failed with an error. */
  onEnd?: (outcome: RunOutcome, error?: RcbsError) => void | Promise<void>;
}

/** A unique counter name per step: the component name, with its kind or position when it repeats. */
function counterName(steps: ResolvedStep[], index: number): string {
  const { name } = steps[index]!.component;
  const kind = steps[index]!.kind;
  if (steps.filter((s) => s.component.name === name).length === 1) return name;
  const sameKind = steps.filter((s) => s.component.name === name && s.kind === kind);
  return sameKind.length === 1 ? `${name} (${kind})` : `${name} (${kind} ${sameKind.indexOf(steps[index]!) + 1})`;
}

/** records in = records out + dropped, for every step but the source and those that fan out:
 * a record that vanished without a reason is a lost item, and holds the checkpoint back. */
function lostRecords(steps: ResolvedStep[], events: ComponentEvents[]): Array<{ component: string; lost: number }> {
  const lost: Array<{ component: string; lost: number }> = [];
  for (let i = 1; i < steps.length; i++) {
    const e = events[i]!;
    if (steps[i]!.component.fansOut) continue;
    const missing = e.in - e.out - e.dropped;
    if (missing !== 0) lost.push({ component: e.name, lost: missing });
  }
  return lost;
}

export async function runPipeline(steps: ResolvedStep[], context: RunContext, options: RunOptions = {}): Promise<RunOutcome> {
  const started = Date.now();
  let stopReason: StopReason | undefined;
  const stop = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    options.onStop?.(reason);
  };
  const onAbort = () => stop(context.stopError ? 'stopped' : 'aborted');
  if (context.signal.aborted) onAbort();
  context.signal.addEventListener('abort', onAbort, { once: true });
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') stop('stdout-closed');
  };
  context.stdout.on('error', onStdoutError);

  // Destroyed at the end however the run ends, so the source lets go of its sockets
  // and files (highland never propagates an early end upstream by itself).
  let sourceStream: RecordStream | undefined;
  let failure: RcbsError | undefined;
  const events = steps.map((_step, i) => componentEvents(counterName(steps, i)));
  const totals = emptyTotals();
  let window: RecordingWindow | undefined;
  let records = 0;
  let tallied = false;
  const tallyComponents = () => {
    if (tallied) return;
    tallied = true;
    totals.recordings = events[0]!.out;
    for (const e of events) tallyComponent(totals, e);
  };
  const outcomeOf = (exitCode: number, windowCommitted: boolean): RunOutcome => ({
    exitCode,
    stoppedEarly: stopReason !== undefined,
    ...(stopReason ? { reason: stopReason } : {}),
    ...(context.stopError ? { stopError: context.stopError } : {}),
    records,
    elapsedMs: Date.now() - started,
    ...(window ? { window } : {}),
    windowCommitted,
    totals,
    components: events,
  });
  try {
    const fns: RecordFn[] = [];
    for (const step of steps) step.component.prepare?.(step.options as Record<string, unknown>, context);
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const fn = await step.component.create(step.options as Record<string, unknown>, context, events[i]!);
      if (i === 0) window = fn.window;
      fns.push(fn);
    }

    const [source, ...rest] = fns;
    const sourceEvents = events[0]!;
    sourceStream = source!(_<PipelineRecord>([]));
    let stream: RecordStream = sourceStream.consume<PipelineRecord>((err, record, push, next) => {
      // The gate: once stopping, no new record enters the pipeline.
      if (stopReason) return push(null, _.nil);
      if (err) {
        push(err);
        return next();
      }
      if (!_.isNil(record)) sourceEvents.out++;
      push(null, record);
      if (!_.isNil(record)) next();
    });
    rest.forEach((fn, i) => {
      const e = events[i + 1]!;
      stream = fn(stream.tap(() => e.in++)).tap(() => e.out++);
    });

    await pipelineAsync(
      toReadable(stream),
      new Writable({
        objectMode: true,
        highWaterMark: 1,
        write(record: PipelineRecord, _enc, done) {
          settleStatus(record);
          tallyRecord(totals, record);
          records++;
          if (!options.onRecord) return done();
          Promise.resolve(options.onRecord(record)).then(() => done(), done);
        },
      }),
    );

    // Files written whole (the file sink) go into place only after a complete run.
    await settleRunEnd(context, stopReason === undefined);
    tallyComponents();
    if (!stopReason) {
      for (const { component, lost } of lostRecords(steps, events)) {
        totals.failed++;
        totals.failures.push({ component, code: 'RCBS_INTERNAL', message: `${component} let ${lost} record(s) go without an outcome (a bug in that component); the checkpoint is held back` });
      }
    }

    let windowCommitted = false;
    const writesTarget = steps.some((s) => s.component.writesTarget);
    if (!stopReason && allItemsDone(totals) && !context.dryRun && window && writesTarget && (options.storeOpened?.() ?? true)) {
      const store = await context.store();
      await store.writeLastRecordingEndTime(window.end);
      windowCommitted = true;
    }
    const exitCode = context.stopError ? context.stopError.exitCode : stopReason === 'aborted' ? 130 : totals.failed > 0 || totals.archived > 0 || totals.interrupted > 0 ? 1 : 0;
    const outcome = outcomeOf(exitCode, windowCommitted);
    await options.onEnd?.(outcome);
    return outcome;
  } catch (err) {
    await settleRunEnd(context, false).catch((cleanup: unknown) => context.log.warn('cleaning up after the failed run failed too', { error: (cleanup as Error).message }));
    // A run-stopping failure wins over what the wind-down threw (an abort, a closed stream).
    const error = context.stopError ?? (stopReason === 'aborted' ? new RcbsError('RCBS_ABORTED', 'interrupted: in-flight work was finished or cleaned up', {}, { cause: err }) : toRcbsError(err));
    tallyComponents();
    await options.onEnd?.(outcomeOf(error.exitCode, false), error);
    failure = error;
    throw error;
  } finally {
    sourceStream?.destroy();
    context.signal.removeEventListener('abort', onAbort);
    context.stdout.off('error', onStdoutError);
    // What a component's prepare started and its create never took up (a failure in an
    // earlier create: s3-download's settings call) ends with the run instead of keeping the
    // process up until GWS answers.
    if (failure) context.stopRun(failure);
  }
}
