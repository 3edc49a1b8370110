// Pins that docs/components.md and the component name lists in
// schemas/pipeline.schema.json match the registry, docs/config.md the config keys, and
// the README's error-code and exit-code tables src/errors.ts: run `npm run docs` after
// adding or changing a component, a key, an error code or an exit status. (The README's
// hand-kept error table once missed RCBS_INTERNAL.)

import t from 'tap';
import { readFileSync } from 'node:fs';
import { renderComponentsDoc, renderPipelineSchema, renderConfigDoc, renderReadme, DOCS_FILE, SCHEMA_FILE, CONFIG_DOCS_FILE, README_FILE } from '../src/tools/components-doc.js';
import { ERROR_CODES, EXIT_CODES } from '../src/errors.js';

t.test('generated docs and schema lists are up to date', async (t) => {
  t.equal(readFileSync(DOCS_FILE, 'utf8'), await renderComponentsDoc(), 'docs/components.md is current (npm run docs)');
  t.equal(readFileSync(CONFIG_DOCS_FILE, 'utf8'), renderConfigDoc(), 'docs/config.md is current (npm run docs)');
  t.equal(readFileSync(SCHEMA_FILE, 'utf8'), renderPipelineSchema(), 'schemas/pipeline.schema.json component lists are current (npm run docs)');
});

t.test("the README's error-code and exit-code tables are generated from src/errors.ts", async (t) => {
  const readme = readFileSync(README_FILE, 'utf8');
  t.equal(readme, renderReadme(readme), 'README.md tables are current (npm run docs)');
  for (const code of Object.keys(ERROR_CODES)) t.match(readme, `| \`${code}\` |`, `${code} has a row`);
  for (const exit of Object.keys(EXIT_CODES)) t.match(readme, `| \`${exit}\` |`, `exit ${exit} has a row`);
});
