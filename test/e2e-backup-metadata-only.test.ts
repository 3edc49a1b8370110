// Pins SPEC §3 "metadataOnly=true needs no AWS credentials" on the backup pipeline
// itself (not only metadata-export): with the AWS variables unset, `rcbs -config`
// writes every well-formed recording's JSON at its §5 path, no .bin, sends nothing
// to S3, and exits 0. A user with GWS-only access must be able to run it.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { listFiles, startBackupFixture, recordingFolder } from './helpers/backup-run.js';

t.test('metadataOnly=true with the backup pipeline: JSON only, no AWS credentials', async (t) => {
  const f = await startBackupFixture(t, { sandbox: { recordings: 8, seed: 3 }, config: { metadataOnly: true } });
  const env = { ...f.env };
  delete env.AWS_ACCESS_KEY_ID;
  delete env.AWS_SECRET_ACCESS_KEY;
  // No profile chain to fall back on either.
  env.AWS_SHARED_CREDENTIALS_FILE = path.join(f.dir, 'no-such-credentials');
  env.AWS_CONFIG_FILE = path.join(f.dir, 'no-such-config');

  const run = await f.backup({ env });
  t.equal(run.code, 0, `exit 0 without AWS credentials\n${run.stderr}`);
  t.equal(f.proxy.requests.length, 0, 'nothing was asked of S3');

  // Metadata only: the media filter does not decide which metadata is exported
  // (src/transforms/media-type.ts), so the audio/wav recording's JSON is written too.
  // Records that fail the schema or carry an unsafe tenant are quarantined. Whether
  // the recording with an unsafe mediaId (no file is named after it here) is written
  // or quarantined is json-writer's policy, not pinned here.
  const good = f.sandbox.recordings.filter((r) => !r.odd || r.odd === 'wav-media');
  t.equal(good.length, 9);
  const files = (await listFiles(f.targetDir)).filter((p) => !p.endsWith(`/${f.sandbox.recordings.find((r) => r.odd === 'traversal-media-id')!.id}.json`));
  t.same(files.filter((p) => p.endsWith('.bin')), [], 'no media file');
  t.same(files, good.map((r) => `${recordingFolder(r)}/${r.id}.json`).sort(), 'one JSON per exportable recording at its §5 path');
  for (const r of good) {
    t.same(JSON.parse(await readFile(path.join(f.targetDir, recordingFolder(r), `${r.id}.json`), 'utf8')), r.recording);
  }
  t.notMatch(run.stderr, /RCBS_S3_CREDENTIALS/);
});
