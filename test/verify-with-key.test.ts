// Pins `rcbs verify --key KEY` (SPEC §2 "with a key, that it decrypts") on a real
// backup from the sandbox: with the sandbox's private key every media file
// decrypts and verify exits 0; with a key that is not a recipient it exits 1 and
// says which files do not decrypt, since an unreadable backup is no backup.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startBackupFixture } from './helpers/backup-run.js';

t.test('verify --key: decrypts with the right key, fails with a wrong one', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 5, seed: 61 } });
  t.equal((await f.backup()).code, 0, 'the backup');

  const good = await f.cli(['verify', '--config', f.configPath, '--key', f.sandbox.keyPath]);
  t.equal(good.code, 0, `every file decrypts with the sandbox key\n${good.stderr}`);
  t.match(good.stderr, /finished/);

  const wrongKey = path.join(f.dir, 'wrong.pem');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(wrongKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const bad = await f.cli(['verify', '--config', f.configPath, '--key', wrongKey]);
  t.equal(bad.code, 1, `exit 1 with a key that is no recipient\n${bad.stderr}`);
  for (const w of f.wanted) t.match(bad.stderr, `${w.relPath}: does not decrypt`, `${w.relPath} is named`);
});
