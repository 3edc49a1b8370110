// Pins the GWS side of the packaged exports (README "Compliance export"): with
// `--set from=gws-recordings`, `agent-calls` reads the window from GWS instead of the
// backup and gives the same rows, one per media file of the agent's calls; `path` is
// filled for the media already backed up in targetDir (from the backup's index) and
// empty for the others. Expectations come from the sandbox's data.

import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { withSandbox } from './helpers/sandbox-run.js';

t.test('agent-calls from GWS: the agent\'s calls, paths of what is backed up', async (t) => {
  const f = await withSandbox(t, { sandbox: { recordings: 30, seed: 14 } });
  const backup = await f.run(['run', 'backup', '--config', f.configPath]);
  t.ok(backup.code === 0 || backup.code === 1, backup.stderr);

  const good = f.sandbox.recordings.filter((r) => !r.odd);
  const files = (r: (typeof good)[number]) => r.recording.mediaFiles as Array<{ mediaId: string; type: string; parameters: { username: string } }>;
  const agent = files(good[0]!)[0]!.parameters.username;
  const calls = good.filter((r) => files(r).some((m) => m.parameters.username === agent));

  const run = await f.run(['run', 'agent-calls', '--config', f.configPath, '--set', 'from=gws-recordings', '--set', `agent=${agent}`, '--set', 'out=agent.csv']);
  t.equal(run.code, 0, run.stderr);
  const rows = parse(readFileSync(path.join(f.dir, 'agent.csv')), { columns: true }) as Array<Record<string, string>>;
  t.same(rows.map((r) => r.mediaId).sort(), calls.flatMap((r) => files(r).map((m) => m.mediaId)).sort(), 'one row per media file of each call the agent is on');
  for (const row of rows) {
    const wanted = /^(audio\/mp3|video\/mp4)$/.test(row.type!);
    if (wanted) t.match(row.path, new RegExp(`/${row.mediaId!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.bin$`), `${row.mediaId}: backed up, its path`);
    else t.equal(row.path, '', `${row.mediaId} (${row.type}): not backed up, no path`);
  }
});
