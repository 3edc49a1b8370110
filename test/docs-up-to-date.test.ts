// Pins that docs/components.md and the component name lists in
// schemas/pipeline.schema.json match the registry: run `npm run docs` after
// adding or changing a component.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { renderComponentsDoc, renderPipelineSchema, renderConfigDoc, DOCS_FILE, SCHEMA_FILE, CONFIG_DOCS_FILE } from '../src/tools/components-doc.js';

t.test('generated docs and schema lists are up to date', async (t) => {
  t.equal(readFileSync(DOCS_FILE, 'utf8'), renderComponentsDoc(), 'docs/components.md is current (npm run docs)');
  t.equal(readFileSync(CONFIG_DOCS_FILE, 'utf8'), renderConfigDoc(), 'docs/config.md is current (npm run docs)');
  t.equal(readFileSync(SCHEMA_FILE, 'utf8'), renderPipelineSchema(), 'schemas/pipeline.schema.json component lists are current (npm run docs)');
});
