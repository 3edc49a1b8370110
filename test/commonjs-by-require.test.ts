// Pins how rcbs loads its large CommonJS packages: by require(), each in one module
// (src/pipeline/highland.ts, src/s3/sdk.ts, src/gws/undici.ts, src/s3/object-check.ts for
// hash-wasm, src/cli.ts for commander). Imported from ESM, Node lexes a CommonJS package
// for its named exports before running it: highland cost 26-32 ms of every run's start
// that way against 5-8 ms by require, hash-wasm 22-30 against 5-6, commander ~10 ms more,
// the S3 SDK ~60 ms (BENCHMARKS.md). A value import of one of them anywhere in src/ brings
// the cost back without failing anything else, so this looks for one.

import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fg from 'fast-glob';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
const LOADERS: Record<string, string> = {
  highland: 'pipeline/highland.ts',
  '@aws-sdk/client-s3': 's3/sdk.ts',
  undici: 'gws/undici.ts',
  'hash-wasm': 's3/object-check.ts',
  commander: 'cli.ts',
};

/** `import … from 'pkg'` (not `import type`), `import('pkg')` and `export … from 'pkg'` of the packages above. */
function valueImports(text: string): string[] {
  const found: string[] = [];
  const names = Object.keys(LOADERS).map((n) => n.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&')).join('|');
  const fromClause = new RegExp(`^\\s*(import|export)\\s+(?!type\\b)[^;]*?from\\s+'(${names})(?:/[^']*)?'`, 'gms');
  const dynamic = new RegExp(`import\\(\\s*'(${names})(?:/[^']*)?'\\s*\\)`, 'g');
  for (const m of text.matchAll(fromClause)) found.push(m[2]!);
  for (const m of text.matchAll(dynamic)) found.push(m[1]!);
  return found;
}

t.test('the scan sees the imports it is meant to catch', async (t) => {
  t.same(valueImports("import _ from 'highland';\n"), ['highland']);
  t.same(valueImports("import { S3Client } from '@aws-sdk/client-s3';\n"), ['@aws-sdk/client-s3']);
  t.same(valueImports("const m = await import('undici');\n"), ['undici']);
  t.same(valueImports("export { Agent } from 'undici';\n"), ['undici']);
  t.same(valueImports("import type * as U from 'undici';\nexport type { Dispatcher } from 'undici';\n"), []);
  t.same(valueImports("import _ from './highland.js';\n"), []);
});

t.test('no module imports those packages as values: their loaders require() them', async (t) => {
  const files = await fg('**/*.ts', { cwd: src });
  t.ok(files.length > 50, `src/ has its modules (${files.length})`);
  const offenders: string[] = [];
  for (const file of files) {
    for (const pkg of valueImports(await readFile(path.join(src, file), 'utf8'))) {
      offenders.push(`${file} imports ${pkg}: require() it (as src/${LOADERS[pkg]} does)`);
    }
  }
  t.same(offenders, []);
});
