// JSON-schema validators, compiled at build time when they can be (SPEC §6 pipelines, the
// recording schema of `validate`, each component's options).
//
// Ajv builds a validator by generating JavaScript: for the pipeline schema (every config key,
// every component) that was ~90 ms of every run's start, the recording schema ~45 ms, and
// importing Ajv ~60 ms. `npm run build` runs dist/tools/compile-validators.js, which writes
// each validator as Ajv's standalone code to dist/validators/<name>.cjs with the SHA-256 of
// the schema it came from. At run time a precompiled validator is used only when that hash
// is the hash of the schema in hand; otherwise (tests run from src/, an edited schema file, a
// schema an operator gives `validate`) Ajv compiles it here as before, with the same options,
// so both give the same answers and the same errors (test/validators-precompiled.test.ts).

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Options, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/** Options of the pipeline and component-options validators: every problem at once, and
 * verbose errors (the offending value and its schema) so messages can name both. */
export const PIPELINE_AJV_OPTIONS: Options = { allErrors: true, strict: false, useDefaults: false, verbose: true };
/** Options of `validate`'s recording schema. */
export const RECORDING_AJV_OPTIONS: Options = { allErrors: true, strict: false, verbose: true };

/** The name a component's options validator is written under. */
export function optionsValidatorName(kind: string, name: string): string {
  return `options-${kind}-${name}`;
}

export function schemaHash(schema: unknown): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

/** Validators compiled here, by options and schema: a schema met again (another run in the same
 * process) is not compiled again. */
const compiled = new Map<Options, Map<string, ValidateFunction>>();

/** Compiled by Ajv now, loaded only then; a fresh instance each time, so two schemas with the
 * same $id (the packaged recording schema and an operator's stricter copy) never clash. */
function compileHere(schema: object, options: Options, hash: string): ValidateFunction {
  let byHash = compiled.get(options);
  if (!byHash) compiled.set(options, (byHash = new Map()));
  let validate = byHash.get(hash);
  if (!validate) {
    const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
    validate = new AjvClass(options).compile(schema);
    byHash.set(hash, validate);
  }
  return validate;
}

/** The build's validator for `schema` under `name`, if there is one for exactly this schema
 * (`hash`: its schemaHash, when the caller has it already). */
export function precompiledValidator(name: string, schema: unknown, hash = schemaHash(schema)): ValidateFunction | undefined {
  let compiled: (ValidateFunction & { schemaHash?: string }) | undefined;
  try {
    compiled = require(`../validators/${name}.cjs`) as ValidateFunction & { schemaHash?: string };
  } catch {
    return undefined;
  }
  return typeof compiled === 'function' && compiled.schemaHash === hash ? compiled : undefined;
}

/** A validator for `schema`: the build's when it is for this very schema, else compiled now
 * (throws what Ajv throws for a schema it cannot use). */
export function validatorFor(name: string, schema: object, options: Options): ValidateFunction {
  const hash = schemaHash(schema);
  return precompiledValidator(name, schema, hash) ?? compileHere(schema, options, hash);
}
