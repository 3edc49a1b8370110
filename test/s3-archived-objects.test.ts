// Pins SPEC §5 "Real S3 answers" for archived objects and KMS refusals (issue 12),
// through the CLI against the sandbox behind test/helpers/s3-front.ts:
// - 403 InvalidObjectState (Glacier, Deep Archive) is the media outcome `archived`:
//   not retried, counted and listed apart from failures, a message naming the storage
//   class and saying to restore it first (not the credentials advice every 403 got),
//   exit 1 and the checkpoint held back;
// - with restoreArchivedDays = N, rcbs sends RestoreObject (Bulk tier, N days) and says
//   "restore requested";
// - a 403 AccessDenied that names KMS says the key may read the bucket but lacks kms:Decrypt.

import t from 'tap';
import { startSandbox } from '../src/sandbox/index.js';
import { runCli } from './helpers/cli.js';
import { backupState, sandboxBackup, wantedMedia } from './helpers/backup-state.js';
import { startS3Front } from './helpers/s3-front.js';

t.test('archived media: their own outcome, listed apart, restore on request; KMS refusal explained', async (t) => {
  const sandbox = await startSandbox({ recordings: 6, oddities: false, seed: 31, maxSegments: 1, mediaSize: { min: 10_000, max: 20_000 } });
  t.teardown(() => sandbox.close());
  const media = [...wantedMedia(sandbox).keys()];
  const key = (mediaId: string) => sandbox.media(mediaId)!.key;
  const front = await startS3Front(t, sandbox.s3Endpoint);
  const [glacier, deepArchive, kms] = media;
  front.rules.set(key(glacier!), { error: { kind: 'archived', storageClass: 'GLACIER' } });
  front.rules.set(key(deepArchive!), { error: { kind: 'archived', storageClass: 'DEEP_ARCHIVE' } });
  front.rules.set(key(kms!), { error: { kind: 'kms-denied' } });
  const { targetDir, config, env } = sandboxBackup(t.testdir(), sandbox, {}, (text) => text.replace(/^s3Endpoint = .*$/m, `s3Endpoint = ${front.endpoint}`));

  const first = await runCli(['-config', config], { env });
  t.equal(first.code, 1, `exit 1: the window is not complete\n${first.stderr.slice(-2500)}`);
  t.match(first.stderr, /archived\s+2 files \(restore them first\)/, 'counted apart');
  t.match(first.stderr, /failed\s+1\n/, 'only the KMS refusal counts as failed');
  t.match(first.stderr, /archived \(2\):\n(\s+- [^\n]*RCBS_S3_ARCHIVED[^\n]*\n){2}/, 'listed apart');
  t.match(first.stderr, /is archived \(storage class GLACIER\): restore it first/);
  t.match(first.stderr, /is archived \(storage class DEEP_ARCHIVE\): restore it first/);
  t.notMatch(first.stderr, /RCBS_S3_ARCHIVED[^\n]*check the AWS credentials/, 'not the credentials advice');
  t.match(first.stderr, /RCBS_S3_FORBIDDEN[^\n]*may read the bucket but lack kms:Decrypt/, 'the KMS refusal says what is missing');
  t.equal(front.gets(key(glacier!)), 1, 'an archived object is not retried');
  t.equal(front.restores.length, 0, 'no restore unless asked for');
  const state = backupState(targetDir, sandbox);
  t.same(state.problems, []);
  t.same(state.missing.sort(), [glacier!, deepArchive!, kms!].sort());
  t.equal(state.checkpoint, undefined, 'the checkpoint stays back');

  front.rules.delete(key(kms!));
  const restoring = await runCli(['-config', config, '--set', 'restoreArchivedDays=7'], { env });
  t.equal(restoring.code, 1, restoring.stderr.slice(-2000));
  t.match(restoring.stderr, /storage class GLACIER\): restore requested \(Bulk, 7 days\)/);
  t.same(front.restores.map((r) => r.key).sort(), [key(glacier!), key(deepArchive!)].sort(), 'RestoreObject sent for each archived object');
  for (const { body } of front.restores) t.match(body, /<Days>7<\/Days>.*<Tier>Bulk<\/Tier>/s, 'Bulk tier, 7 days');
  t.equal(backupState(targetDir, sandbox).checkpoint, undefined, 'still held back until they are downloaded');

  // Restored: the next run downloads them and the window completes.
  front.rules.clear();
  const done = await runCli(['-config', config], { env });
  t.equal(done.code, 0, done.stderr.slice(-1500));
  const final = backupState(targetDir, sandbox);
  t.ok(final.complete);
  t.ok(final.checkpoint, 'checkpoint written once nothing is archived any more');
});
