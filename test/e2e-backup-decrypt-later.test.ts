// Pins decrypting an existing backup made by the CLI from the sandbox, both ways a
// user can (SPEC §2, §6): the named pipeline `rcbs run decrypt --config …` (decryptDir
// and decryptKey from the config) and `rcbs decrypt <targetDir> --key K --out D`.
// Both keep the backup's layout, drop .bin, and give the sandbox's plaintexts.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { listFiles, startBackupFixture } from './helpers/backup-run.js';

t.test('run decrypt and rcbs decrypt over an existing backup keep the layout', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 6, seed: 71 } });
  t.equal((await f.backup()).code, 0, 'the backup (no decryptDir)');
  const expected = f.wanted.map((w) => w.relPath.replace(/\.bin$/, '')).sort();
  const same = async (dir: string, how: string) => {
    t.same(await listFiles(dir), expected, `${how}: same folders, .bin dropped, nothing else`);
    for (const w of f.wanted) {
      t.ok((await readFile(path.join(dir, w.relPath.replace(/\.bin$/, '')))).equals(w.media.plain), `${how}: ${w.media.mediaId} is the plaintext`);
    }
  };

  const pipelineOut = path.join(f.dir, 'decrypted-by-pipeline');
  const run = await f.cli(['run', 'decrypt', '--config', f.configPath, '--set', `decryptDir=${pipelineOut}`, '--set', `decryptKey=${f.sandbox.keyPath}`]);
  t.equal(run.code, 0, `rcbs run decrypt exits 0\n${run.stderr}`);
  await same(pipelineOut, 'run decrypt');

  const commandOut = path.join(f.dir, 'decrypted-by-command');
  const cmd = await f.cli(['decrypt', f.targetDir, '--key', f.sandbox.keyPath, '--out', commandOut]);
  t.equal(cmd.code, 0, `rcbs decrypt exits 0\n${cmd.stderr}`);
  await same(commandOut, 'rcbs decrypt');
});
