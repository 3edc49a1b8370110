// Pins SPEC §4's paging tolerance end to end: whichever way the GWS pages
// (`links` with next links in three URL forms, plain `offset`, or `capped`, a
// server that ignores offset and never returns more than a page), a metadata
// export through the real CLI writes the same complete set of files with the
// same bytes. Small pages (gwsPageSize=4) make every mode actually page; each
// mode's request log proves it did (offsets > 0, or sliced time ranges).

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { PagingMode } from '../src/sandbox/index.js';
import { exportable, filesWithMtime, specJsonPath, withSandbox } from './helpers/sandbox-run.js';

const PAGE = 4;

t.test('links, offset and capped paging yield the same files', async (t) => {
  const fx = await withSandbox(t, { sandbox: { recordings: 30, seed: 11 }, config: { metadataOnly: true, gwsPageSize: PAGE } });
  const expected = exportable(fx.sandbox).map(specJsonPath).sort();
  const contents = new Map<PagingMode, Map<string, string>>();

  for (const mode of ['links', 'offset', 'capped'] as const) {
    fx.sandbox.gws.configure({ mode, cap: PAGE });
    const from = fx.gwsRequests.length;
    const targetDir = path.join(fx.dir, `target-${mode}`);
    const result = await fx.run(['run', 'metadata-export', '--config', fx.configPath, '--set', `targetDir=${targetDir}`]);
    t.equal(result.code, 0, `${mode}: exit 0`, { stderr: result.stderr });
    const queries = fx.gwsRequests.slice(from).filter((q) => q.route === '/recordings');
    const offsets = queries.map((q) => Number(q.query.get('offset') ?? 0));
    const slices = new Set(queries.map((q) => `${q.query.get('startTime')}-${q.query.get('endTime')}`));
    if (mode === 'capped') t.ok(slices.size > 4, `capped: the client split the time slices (${slices.size} distinct ranges)`);
    else t.ok(offsets.some((o) => o > 0), `${mode}: the client paged (offsets ${[...new Set(offsets)].join(',')})`);

    const files = await filesWithMtime(targetDir, true);
    t.same([...files.keys()].sort(), expected, `${mode}: every expected JSON, nothing else`);
    const bytes = new Map<string, string>();
    for (const rel of files.keys()) bytes.set(rel, await readFile(path.join(targetDir, rel), 'utf8'));
    contents.set(mode, bytes);
  }
  t.strictSame(contents.get('offset'), contents.get('links'), 'offset wrote the same bytes as links');
  t.strictSame(contents.get('capped'), contents.get('links'), 'capped wrote the same bytes as links');
});
