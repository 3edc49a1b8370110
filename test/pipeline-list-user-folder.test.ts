// Pins how named pipelines are found (src/pipeline/loader.ts listPipelines, read with a
// readdir since fast-glob cost every run ~30 ms of start-up): the packaged ones, then the
// `*.json` files of the user's folder (--pipelines), which override packaged ones by name.
// Hidden files, other extensions and sub-folders are not pipelines; a link to a file is.
// A folder that cannot be read lists only the packaged ones.

import t from 'tap';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { listPipelines } from '../src/pipeline/loader.js';

const pipeline = (name: string, description: string) => JSON.stringify({ name, description, source: { use: 'gws-recordings' }, sinks: [{ use: 'json-writer' }] });

t.test('the user folder adds and overrides by name; hidden, other files and folders are skipped', async (t) => {
  // One testdir per test (a second call would empty the first): the link's target sits beside.
  const root = t.testdir({ elsewhere: { 'linked.json': pipeline('linked', 'through a link') }, user: {} });
  const dir = path.join(root, 'user');
  writeFileSync(path.join(dir, 'mine.json'), pipeline('mine', 'my own'));
  writeFileSync(path.join(dir, 'backup-override.json'), pipeline('backup', 'my backup'));
  writeFileSync(path.join(dir, '.hidden.json'), pipeline('hidden', 'not listed'));
  writeFileSync(path.join(dir, 'notes.txt'), 'not a pipeline');
  mkdirSync(path.join(dir, 'sub.json'));
  symlinkSync(path.join(root, 'elsewhere', 'linked.json'), path.join(dir, 'link.json'));
  const list = await listPipelines(dir);
  const byName = new Map(list.map((p) => [p.name, p]));
  t.equal(byName.get('mine')?.packaged, false);
  t.equal(byName.get('mine')?.path, path.join(dir, 'mine.json'));
  t.equal(byName.get('backup')?.description, 'my backup', 'a user pipeline overrides the packaged one of its name');
  t.equal(byName.get('linked')?.path, path.join(dir, 'link.json'), 'a link to a file is a pipeline');
  t.notOk(byName.has('hidden'), 'hidden files are not');
  t.notOk(list.some((p) => p.path.endsWith('notes.txt') || p.path.endsWith('sub.json')), 'neither other files nor folders');
  t.ok(byName.get('export')?.packaged, 'the packaged ones are still there');
});

t.test('a folder that cannot be read lists the packaged pipelines only', async (t) => {
  const packaged = await listPipelines();
  const list = await listPipelines(path.join(t.testdir({}), 'no-such-folder'));
  t.same(list, packaged);
  t.ok(list.length > 5);
});
