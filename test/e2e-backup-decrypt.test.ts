// Pins the backup pipeline's optional decrypt step end to end (SPEC §5, §7): with
// decryptDir and decryptKey (the sandbox's private key) set, each wanted media is
// also decrypted to <decryptDir>/<same relative folders>/<mediaId> (no .bin), equal
// to the plaintext the sandbox encrypted, readable by the owner only, and nothing
// decrypted lands inside targetDir.
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { listFiles, mismatchedMedia, startBackupFixture } from './helpers/backup-run.js';

t.test('decryptDir + decryptKey in the backup pipeline', async (t) => {
  const decryptDir = path.join(t.testdir(), 'decrypted');
  const f = await startBackupFixture(t, { sandbox: { recordings: 8, seed: 11 }, config: { decryptDir } });
  const run = await f.backup();
  t.equal(run.code, 0, `exit 0\n${run.stderr}`);
  t.same(await mismatchedMedia(f.targetDir, f.wanted), [], 'the encrypted files are there, byte-exact');

  const expected = f.wanted.map((w) => w.relPath.replace(/\.bin$/, '')).sort();
  t.same(await listFiles(decryptDir), expected, 'one decrypted file per media, same folders, .bin dropped');
  for (const w of f.wanted) {
    const file = path.join(decryptDir, w.relPath.replace(/\.bin$/, ''));
    t.ok((await readFile(file)).equals(w.media.plain), `${w.media.mediaId} decrypts to the sandbox's plaintext`);
    t.equal((await stat(file)).mode & 0o777, 0o600, 'owner-only permissions');
  }
  t.same((await listFiles(f.targetDir)).filter((p) => !p.endsWith('.bin') && !p.endsWith('.json')), [], 'nothing decrypted inside targetDir');
});
