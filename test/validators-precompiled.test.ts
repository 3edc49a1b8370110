// Pins the build-time validators (src/pipeline/validators.ts, src/tools/compile-validators.ts):
// `npm run build` writes one for the pipeline schema, the recording schema and every
// component's options, each for exactly the schema of this tree (a stale one would be
// ignored at run time, and the start would be slower again); each gives the same answer
// and the same errors as Ajv compiling the schema at run time with the same options, on
// good and broken inputs; a schema that differs from the one compiled gets no
// precompiled validator. Uses dist/ as the CLI does (npm test builds first).

import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { loadAllComponents } from '../src/pipeline/registry.js';
import { optionsValidatorName, PIPELINE_AJV_OPTIONS, RECORDING_AJV_OPTIONS } from '../src/pipeline/validators.js';
const root = path.resolve(import.meta.dirname, '..');
// The dist copy: its require() of ../validators/ finds the build's files.
const distModule = path.join(root, 'dist', 'pipeline', 'validators.js');
const { precompiledValidator } = (await import(distModule)) as typeof import('../src/pipeline/validators.js');
const json = (file: string) => JSON.parse(readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>;

function sameAsRuntime(t: Test, name: string, schema: object, options: object, inputs: unknown[]): void {
  const built = precompiledValidator(name, schema);
  t.ok(built, `${name}: the build has a validator for this very schema`);
  if (!built) return;
  const runtime = new Ajv(options).compile(schema);
  for (const input of inputs) {
    const a: boolean = built(input) as boolean;
    const b: boolean = runtime(input) as boolean;
    t.equal(a, b, `${name}: same answer for ${JSON.stringify(input).slice(0, 60)}`);
    t.same(built.errors ?? null, runtime.errors ?? null, `${name}: same errors`);
  }
}

t.test('pipeline schema: the packaged pipelines and broken ones, same answers and errors', async (t) => {
  const schema = json('schemas/pipeline.schema.json');
  const packaged = ['backup', 'metadata-export', 'calls-csv', 'export'].map((n) => json(`pipelines/${n}.json`));
  const broken = [
    { name: 'x', source: { use: 'gws-recordngs' }, sinks: [{ use: 'json-writer' }] },
    { name: 'x', source: { use: 'gws-recordings', with: 3 }, sinks: [] },
    { name: 7, source: {}, extra: true },
    'not an object',
  ];
  sameAsRuntime(t, 'pipeline', schema, PIPELINE_AJV_OPTIONS, [...packaged, ...broken]);
});

t.test('recording schema: a good recording and bad ones', async (t) => {
  const schema = json('schemas/recording.schema.json');
  const good = { id: 'r1', startTime: '2024-03-05T10:00:00.000+0000', stopTime: '2024-03-05T10:05:00.000+0000', mediaFiles: [{ mediaId: 'm1', type: 'audio/mp3', tenant: 'Environment', startTime: '2024-03-05T10:00:00.000+0000' }] };
  sameAsRuntime(t, 'recording', schema, RECORDING_AJV_OPTIONS, [good, { id: 5 }, { ...good, mediaFiles: 'none' }, null]);
});

t.test("every component's options: {} and a wrong type", async (t) => {
  for (const component of await loadAllComponents()) {
    sameAsRuntime(t, optionsValidatorName(component.kind, component.name), component.options as object, PIPELINE_AJV_OPTIONS, [{}, { unexpected: true }, 'text']);
  }
});

t.test('a schema other than the one compiled gets no precompiled validator', async (t) => {
  const schema = json('schemas/recording.schema.json');
  t.ok(precompiledValidator('recording', schema));
  t.equal(precompiledValidator('recording', { ...schema, required: ['somethingElse'] }), undefined);
  t.equal(precompiledValidator('no-such-validator', schema), undefined);
});
