// s3-download's prepare: the GWS settings call (where the media live) is started before
// any component is created, so it is on its way while the other components and the AWS SDK
// load (over a WAN it cost ~0.1-0.2 s of every backup's start to make it only when
// s3-download was created, after the source and the transforms). Pinned here with a source
// whose create() waits until GWS has answered the settings call: without prepare the call
// would come only after that create, and the run would fail on the source's timeout. The
// call is still made once per run (create takes up what prepare started), and a
// metadata-only run, which downloads nothing, makes none. A run that fails before
// s3-download is created ends the call it prepared (a GWS that does not answer would
// otherwise keep the process up until the request's own timeout).

import t, { type Test } from 'tap';
import http from 'node:http';
import _ from 'highland';
import type { ResolvedStep } from '../src/pipeline/loader.js';
import { loadComponent } from '../src/pipeline/registry.js';
import { runPipeline } from '../src/pipeline/runner.js';
import { defineComponent, type ComponentDef, type PipelineRecord } from '../src/pipeline/types.js';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { sandboxRunContext } from './helpers/run-context.js';
import { listenLocal } from './helpers/http-server.js';

const SETTINGS = '/me/settings/rcbs';

let sandbox: Sandbox;
t.before(async () => {
  sandbox = await startSandbox({ recordings: 1, oddities: false });
});
t.teardown(() => sandbox.close());

/** A source with no records whose create() returns only once GWS has answered the settings call. */
function sourceAwaitingSettings(): ComponentDef<Record<string, unknown>> {
  return defineComponent<Record<string, unknown>>({
    kind: 'source',
    name: 'awaits-settings',
    description: 'test source',
    options: { type: 'object' },
    async create() {
      await new Promise<void>((resolve, reject) => {
        if (sandbox.gws.requestCount(SETTINGS) > 0) return resolve();
        const timer = setTimeout(() => {
          stop();
          reject(new Error('GWS saw no settings call while the first component was created'));
        }, 10_000);
        const stop = sandbox.gws.onRequest((info) => {
          if (info.route !== SETTINGS) return;
          clearTimeout(timer);
          stop();
          resolve();
        });
      });
      return () => _<PipelineRecord>([]);
    },
  });
}

async function runWith(t: Test, source: ComponentDef<Record<string, unknown>>, extra: Record<string, string> = {}, gwsUriPrefix?: string) {
  const { context, storeOpened, closeStore } = await sandboxRunContext(sandbox, t.testdir(), {
    config: extra,
    ...(gwsUriPrefix ? { edit: (properties: string) => properties.replace(/^gwsUriPrefix = .*$/m, `gwsUriPrefix = ${gwsUriPrefix}`) } : {}),
  });
  const steps: ResolvedStep[] = [
    { kind: 'source', at: '/source', component: source, options: Object.freeze({}) },
    { kind: 'sink', at: '/sinks/0', component: (await loadComponent('sink', 's3-download'))!, options: Object.freeze({}) },
  ];
  try {
    return await runPipeline(steps, context, { storeOpened });
  } finally {
    await closeStore();
  }
}

t.test('the settings call is answered before the first component is created, and made once', async (t) => {
  const before = sandbox.gws.requestCount(SETTINGS);
  const outcome = await runWith(t, sourceAwaitingSettings());
  t.equal(outcome.exitCode, 0, 'the run ends well');
  t.equal(sandbox.gws.requestCount(SETTINGS) - before, 1, 'one settings call for the run');
});

t.test('a metadata-only run makes no settings call', async (t) => {
  const before = sandbox.gws.requestCount(SETTINGS);
  const empty = defineComponent<Record<string, unknown>>({ kind: 'source', name: 'empty', description: 'test source', options: { type: 'object' }, create: () => () => _<PipelineRecord>([]) });
  const outcome = await runWith(t, empty, { metadataOnly: 'true' });
  t.equal(outcome.exitCode, 0, 'the run ends well');
  t.equal(sandbox.gws.requestCount(SETTINGS) - before, 0, 'no settings call');
});

t.test('a run that fails while its components are created ends the settings call it prepared', async (t) => {
  // A GWS that takes the settings request and never answers it.
  let asked!: () => void;
  const settingsAsked = new Promise<void>((resolve) => (asked = resolve));
  let closed!: () => void;
  const clientGaveUp = new Promise<void>((resolve) => (closed = resolve));
  const server = http.createServer((req, res) => {
    asked();
    res.on('close', () => closed());
  });
  const port = await listenLocal(t, server);
  const failing = defineComponent<Record<string, unknown>>({
    kind: 'source',
    name: 'fails',
    description: 'test source',
    options: { type: 'object' },
    async create() {
      await settingsAsked;
      throw new Error('the source could not start');
    },
  });
  await t.rejects(runWith(t, failing, {}, `http://127.0.0.1:${port}/api/v2`), /the source could not start/);
  // Without the run ending it, the request would wait for undici's 30 s headers timeout.
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = await Promise.race([clientGaveUp.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5_000)))]);
  clearTimeout(timer);
  t.ok(gaveUp, 'the settings request was closed by the failed run');
});
