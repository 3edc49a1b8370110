// Every registered component, run by the real runner against the real sandbox
// (HTTP GWS, s3rver with CMS-encrypted media), must keep the run's bookkeeping
// honest, whatever it does (Vector's assert_transform_compliance):
//   - records in = records out + records it dropped with a reason;
//   - the checkpoint (last_recording_endtime.txt) moves only when every item is done:
//     a failed item, an archived one or a stopped run always hold it back;
//   - an abort mid-run ends the run (no hang) and leaves the checkpoint alone.
// It also pins the runner's side: a component that lets a record vanish without a
// drop, or fails an item, holds the checkpoint back; stopRun ends the run with the
// error's exit code and counts unstarted work as interrupted, not failed.
// A new component is covered by being registered: nothing to add here (one that needs
// options runs with its documented example; a component that fans out, select's
// flatten, is held to in <= out + dropped instead).

import t, { type Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import _ from 'highland';
import { RcbsError } from '../src/errors.js';
import type { ResolvedStep } from '../src/pipeline/loader.js';
import { failMedia, failRecord } from '../src/pipeline/outcome.js';
import { componentNames, loadAllComponents, loadComponent } from '../src/pipeline/registry.js';
import { runPipeline, type RunOutcome } from '../src/pipeline/runner.js';
import { defineComponent, type ComponentDef, type PipelineRecord } from '../src/pipeline/types.js';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { sandboxRunContext } from './helpers/run-context.js';

const CHECKPOINT = path.join('.rcbs', 'last_recording_endtime.txt');

const COMPONENTS = await loadAllComponents();
const findComponent = (kind: ResolvedStep['kind'], name: string) => COMPONENTS.find((c) => c.kind === kind && c.name === name);

t.test('each listed name loads the component of that name and kind; nothing else loads', async (t) => {
  for (const kind of ['source', 'transform', 'sink'] as const) {
    for (const name of componentNames(kind)) {
      const component = await loadComponent(kind, name);
      t.equal(component?.name, name, `${kind} ${name}: its module's component has that name`);
      t.equal(component?.kind, kind, `${kind} ${name}: and that kind`);
    }
  }
  t.equal(COMPONENTS.length, componentNames('source').length + componentNames('transform').length + componentNames('sink').length);
  t.equal(await loadComponent('sink', 'constructor'), undefined, 'a prototype name is no component');
  t.equal(await loadComponent('transform', 's3-download'), undefined, 'a sink is no transform');
});

let sandbox: Sandbox;
t.before(async () => {
  sandbox = await startSandbox({ recordings: 12, seed: 7 });
});
t.teardown(() => sandbox.close());

function step(kind: ResolvedStep['kind'], component: ComponentDef<never> | ComponentDef<Record<string, unknown>>, options: Record<string, unknown> = {}): ResolvedStep {
  return { kind, at: `/${kind}`, component: component as ComponentDef<Record<string, unknown>>, options: Object.freeze(options) };
}

const gwsSource = () => step('source', findComponent('source', 'gws-recordings')!);

/** A context for the sandbox with its own targetDir (and decryptDir beside it). */
function sandboxContext(dir: string, signal?: AbortSignal, stdin?: PassThrough) {
  return sandboxRunContext(sandbox, dir, { config: { decryptDir: path.join(dir, 'plain'), decryptKey: sandbox.keyPath }, ...(signal ? { signal } : {}), ...(stdin ? { stdin } : {}) });
}

async function run(dir: string, steps: ResolvedStep[], signal?: AbortSignal, stdin?: PassThrough): Promise<{ outcome: RunOutcome; targetDir: string }> {
  const { context, targetDir, storeOpened, closeStore } = await sandboxContext(dir, signal, stdin);
  try {
    const outcome = await runPipeline(steps, context, { storeOpened });
    return { outcome, targetDir };
  } finally {
    await closeStore();
  }
}

/** The options a component runs with here: none, or its documented example (docs/components.md),
 * with a file path moved under the test's folder. */
function sampleOptions(component: ComponentDef<Record<string, unknown>>, dir: string): Record<string, unknown> {
  const example = component.example?.with ?? {};
  return typeof example.path === 'string' ? { ...example, path: path.join(dir, 'exports', example.path) } : example;
}

function assertBookkeeping(t: Test, outcome: RunOutcome, targetDir: string, fansOut: ReadonlySet<string> = new Set()) {
  for (const [i, c] of outcome.components.entries()) {
    if (i === 0) continue;
    if (fansOut.has(c.name)) t.ok(c.in <= c.out + c.dropped, `${c.name}: records in (${c.in}) <= out (${c.out}) + dropped (${c.dropped})`);
    else t.equal(c.in, c.out + c.dropped, `${c.name}: records in (${c.in}) = out (${c.out}) + dropped (${c.dropped})`);
  }
  t.notOk(outcome.totals.failures.some((f) => f.code === 'RCBS_INTERNAL'), 'no record vanished without an outcome');
  const done = outcome.totals.failed === 0 && outcome.totals.archived === 0 && outcome.totals.interrupted === 0;
  if (!done) t.notOk(outcome.windowCommitted, 'a failed item holds the checkpoint back');
  if (outcome.windowCommitted) t.equal(readFileSync(path.join(targetDir, CHECKPOINT), 'utf8').trim(), String(outcome.window!.end));
  else t.notOk(existsSync(path.join(targetDir, CHECKPOINT)), 'no checkpoint written');
  t.equal(outcome.exitCode, done ? 0 : 1);
}

for (const component of COMPONENTS.filter((c) => c.kind !== 'source')) {
  t.test(`${component.kind} ${component.name}: in = out + dropped, the checkpoint only when all is done, abort ends the run`, async (t) => {
    const first = t.testdir();
    const steps = [gwsSource(), step(component.kind, component, sampleOptions(component, first))];
    const { outcome, targetDir } = await run(first, steps);
    t.equal(outcome.components[1]!.in, outcome.totals.recordings, 'every recording the source emitted reached the component');
    assertBookkeeping(t, outcome, targetDir, new Set(component.fansOut ? [component.name] : []));

    // Abort once GWS has answered a page: the run must end (resolve or RCBS_ABORTED), checkpoint untouched.
    const controller = new AbortController();
    const off = sandbox.gws.onRequest(() => controller.abort(new Error('SIGINT')));
    const dir = t.testdir();
    try {
      const ended = await Promise.race([
        run(dir, [gwsSource(), step(component.kind, component, sampleOptions(component, dir))], controller.signal).then(({ outcome }) => outcome.exitCode, (err: RcbsError) => err.code),
        new Promise((resolve) => setTimeout(resolve, 30_000, 'hang')),
      ]);
      t.ok(ended === 130 || ended === 'RCBS_ABORTED', `an aborted run ends as interrupted (got ${String(ended)})`);
      t.notOk(existsSync(path.join(dir, 'backup', CHECKPOINT)), 'an interrupted run leaves the checkpoint alone');
    } finally {
      off();
    }
  });
}

t.test('sources: the runner counts what they emit; an aborted source ends the run', async (t) => {
  const lines = sandbox.recordings.map((r) => JSON.stringify(r.recording)).join('\n') + '\nnot json\n';
  const stdin = new PassThrough();
  stdin.end(lines);
  const { outcome } = await run(t.testdir(), [step('source', findComponent('source', 'ndjson')!), step('sink', findComponent('sink', 'ndjson')!)], undefined, stdin);
  t.equal(outcome.totals.recordings, sandbox.recordings.length, 'ndjson: one record per good line');
  t.match(outcome.totals.failures, [{ component: 'ndjson', code: 'RCBS_RECORD_INVALID' }], 'a bad line is an item failure of the source');
  t.equal(outcome.exitCode, 1);

  const gws = await run(t.testdir(), [gwsSource(), step('sink', findComponent('sink', 'json-writer')!, { requireMedia: false })]);
  t.equal(gws.outcome.totals.recordings, gws.outcome.components[0]!.out);
  t.ok(gws.outcome.window, 'gws-recordings returns its window with its records');
});

// The runner's side, with components written to misbehave.
const dropsSilently = defineComponent<Record<string, never>>({
  kind: 'transform',
  name: 'drops-silently',
  description: 'loses every second record without saying why (a bug)',
  options: {},
  create: () => (records) => {
    let n = 0;
    return records.filter(() => n++ % 2 === 0);
  },
});

const failsOne = defineComponent<Record<string, never>>({
  kind: 'sink',
  name: 'fails-one',
  description: 'fails the first record and its first media file',
  options: {},
  create: () => (records) => {
    let first = true;
    return records.map((record: PipelineRecord) => {
      if (first) {
        first = false;
        if (record.media[0]) failMedia(record, record.media[0], 'fails-one', { code: 'RCBS_S3_TRANSFER', message: 'boom' });
        else failRecord(record, 'fails-one', { code: 'RCBS_STORE_IO', message: 'boom' });
      }
      return record;
    });
  },
});

const stopsTheRun = defineComponent<Record<string, never>>({
  kind: 'sink',
  name: 'stops-the-run',
  description: 'stops the run at its third record, as a run-stopping failure would',
  options: {},
  create: (_options, context) => (records) => {
    let n = 0;
    return records.map((record: PipelineRecord) => {
      if (++n === 3) context.stopRun(new RcbsError('RCBS_GWS_UNREACHABLE', 'GWS could not be reached after retries'));
      if (context.signal.aborted) for (const media of record.media) failMedia(record, media, 'stops-the-run', { code: 'RCBS_ABORTED', message: 'interrupted' });
      return record;
    });
  },
});

const mediaType = () => step('transform', findComponent('transform', 'media-type')!);
const jsonWriter = () => step('sink', findComponent('sink', 'json-writer')!, { requireMedia: false });

t.test('a record that vanishes without a drop is a failure (RCBS_INTERNAL) and holds the checkpoint back', async (t) => {
  const { outcome, targetDir } = await run(t.testdir(), [gwsSource(), step('transform', dropsSilently), jsonWriter()]);
  t.match(outcome.totals.failures, [{ component: 'drops-silently', code: 'RCBS_INTERNAL', message: /let \d+ record\(s\) go without an outcome/ }]);
  t.equal(outcome.exitCode, 1);
  t.notOk(outcome.windowCommitted);
  t.notOk(existsSync(path.join(targetDir, CHECKPOINT)));
});

t.test('one failed item holds the checkpoint back; the same run without it advances it', async (t) => {
  const failing = await run(t.testdir(), [gwsSource(), mediaType(), jsonWriter(), step('sink', failsOne)]);
  t.equal(failing.outcome.totals.failed, 1);
  t.match(failing.outcome.totals.failures[0], { component: 'fails-one', code: 'RCBS_S3_TRANSFER' });
  t.notOk(failing.outcome.windowCommitted);
  t.equal(failing.outcome.exitCode, 1);

  const clean = await run(t.testdir(), [gwsSource(), mediaType(), jsonWriter()]);
  t.equal(clean.outcome.totals.failed, 0);
  t.ok(clean.outcome.windowCommitted, 'a clean run with a writing sink advances the checkpoint');
  t.equal(clean.outcome.exitCode, 0);
});

t.test('stopRun: the run ends with the error\'s exit code, unstarted work is interrupted (not failed), no checkpoint', async (t) => {
  const { outcome, targetDir } = await run(t.testdir(), [gwsSource(), mediaType(), step('sink', stopsTheRun), jsonWriter()]);
  t.equal(outcome.reason, 'stopped');
  t.equal(outcome.stopError?.code, 'RCBS_GWS_UNREACHABLE');
  t.equal(outcome.exitCode, 4);
  t.equal(outcome.totals.failed, 0, 'no cascade of per-item failures');
  t.ok(outcome.totals.interrupted > 0, 'the work the run stopped before is counted as interrupted');
  t.notOk(outcome.windowCommitted);
  t.notOk(existsSync(path.join(targetDir, CHECKPOINT)));
});
