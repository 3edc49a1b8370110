// Build step (npm run build, after tsc): writes dist/validators/<name>.cjs, Ajv's standalone
// code for each schema rcbs validates against at run time, with the SHA-256 of that schema
// (src/pipeline/validators.ts says why and how they are used).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type Options } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { loadAllComponents } from '../pipeline/registry.js';
import { optionsValidatorName, PIPELINE_AJV_OPTIONS, RECORDING_AJV_OPTIONS, schemaHash } from '../pipeline/validators.js';
import { SCHEMAS_DIR } from '../pipeline/loader.js';

const outDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'validators');

function write(name: string, schema: object, options: Options): void {
  const ajv = new Ajv({ ...options, code: { source: true } });
  const validate = ajv.compile(schema);
  const code = standalone.default(ajv, validate);
  writeFileSync(path.join(outDir, `${name}.cjs`), `${code}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(schema))};\n`);
}

mkdirSync(outDir, { recursive: true });
const readSchema = (file: string) => JSON.parse(readFileSync(path.join(SCHEMAS_DIR, file), 'utf8')) as object;
write('pipeline', readSchema('pipeline.schema.json'), PIPELINE_AJV_OPTIONS);
write('recording', readSchema('recording.schema.json'), RECORDING_AJV_OPTIONS);
const components = await loadAllComponents();
for (const component of components) write(optionsValidatorName(component.kind, component.name), component.options as object, PIPELINE_AJV_OPTIONS);
process.stdout.write(`wrote ${components.length + 2} validators to ${outDir}\n`);
