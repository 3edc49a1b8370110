// Pins `rcbs verify --config …` (SPEC §2) on a real backup made by the CLI from the
// sandbox: a good backup exits 0; then one .bin with a flipped byte (same size),
// one truncated, one deleted, an orphan .bin nobody indexed and a JSON that no
// longer parses: exit 1 and every one of those problems named on stderr, so an
// operator learns what is wrong and where.
import t from 'tap';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startBackupFixture } from './helpers/backup-run.js';

t.test('verify: good backup exit 0; each kind of damage reported, exit 1', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 8, seed: 51 } });
  t.equal((await f.backup()).code, 0, 'the backup');
  const verify = () => f.cli(['verify', '--config', f.configPath]);

  const good = await verify();
  t.equal(good.code, 0, `a good backup verifies\n${good.stderr}`);
  t.notMatch(good.stderr, /corrupt|missing|orphan|does not parse/);

  const [flipped, truncated, deleted] = f.wanted;
  const file = (rel: string) => path.join(f.targetDir, rel);
  const bytes = await readFile(file(flipped!.relPath));
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  await writeFile(file(flipped!.relPath), bytes);
  await truncate(file(truncated!.relPath), 100);
  await rm(file(deleted!.relPath));
  const orphan = `${path.posix.dirname(f.wanted[3]!.relPath)}/not-indexed-media.bin`;
  await writeFile(file(orphan), 'nobody downloaded me');
  // A recording whose media are untouched, so its broken JSON is the only problem there.
  const damaged = new Set([flipped, truncated, deleted].map((w) => w!.recording));
  const intact = f.wanted.find((w) => !damaged.has(w.recording))!;
  const json = `${path.posix.dirname(intact.relPath)}/${intact.recording.id}.json`;
  await writeFile(file(json), '{"id": "cut off here');

  const bad = await verify();
  t.equal(bad.code, 1, `exit 1\n${bad.stderr}`);
  const reported = (rel: string, what: RegExp) => t.match(bad.stderr, new RegExp(`${rel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\n]*${what.source}`), `${rel}: ${what.source}`);
  reported(flipped!.relPath, /corrupt \(MD5/);
  reported(truncated!.relPath, /corrupt \(size 100/);
  reported(deleted!.relPath, /missing/);
  reported(orphan, /orphan/);
  reported(json, /does not parse/);
  t.match(bad.stderr, /RCBS_VERIFY_FAILED/);
  t.equal(f.proxy.requests.length, f.wanted.length, 'verify never talks to S3');
});
