// Pins SPEC §2 "credentials that S3 rejects in the middle of a run: the run stops
// taking work at once" and exit 4 for an S3 endpoint that cannot be reached (issue
// 12), end to end through the CLI against the sandbox:
// - a wrong secret (s3rver verifies SigV4 and answers SignatureDoesNotMatch): exit 2
//   after a handful of requests, one message, not one failure per file (before: every
//   media file failed with RCBS_S3_FORBIDDEN and the run exited 1);
// - an endpoint nothing listens on: exit 4 after the retries, one message;
// - ExpiredToken: the credentials are refreshed once before the run stops.
// Either way nothing is left half-written and the checkpoint stays back.

import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { downloadObject } from '../src/s3/transfer.js';
import { startS3rver, S3RVER_KEY } from './helpers/s3rver.js';
import { startSandbox } from '../src/sandbox/index.js';
import { runCli } from './helpers/cli.js';
import { backupState, sandboxBackup, wantedMedia } from './helpers/backup-state.js';
import { startS3Front } from './helpers/s3-front.js';

t.test('a wrong AWS secret stops the run: exit 2, one message, a handful of requests', async (t) => {
  const sandbox = await startSandbox({ recordings: 12, oddities: false, seed: 41, maxSegments: 1, mediaSize: { min: 5_000, max: 10_000 } });
  t.teardown(() => sandbox.close());
  t.ok(wantedMedia(sandbox).size >= 12);
  const front = await startS3Front(t, sandbox.s3Endpoint);
  const { targetDir, config, env } = sandboxBackup(t.testdir(), sandbox, {}, (text) => text.replace(/^s3Endpoint = .*$/m, `s3Endpoint = ${front.endpoint}`));
  const secret = 'wrong-secret-wrong-secret-0123456789';
  const run = await runCli(['-config', config], { env: { ...env, AWS_SECRET_ACCESS_KEY: secret } });
  t.equal(run.code, 2, run.stderr.slice(-2000));
  t.match(run.stderr, /RCBS_S3_AUTH/);
  t.match(run.stderr, /S3 rejected the credentials \(HTTP 403 SignatureDoesNotMatch\)/);
  t.notMatch(run.stderr, /media file not downloaded/, 'no per-file failures');
  t.notMatch(run.stderr, new RegExp(secret), 'the secret is never printed');
  t.equal(run.stderr.match(/^(?:\S+ )?rcbs error:.*S3 rejected the credentials/gm)?.length, 1, 'one error line (the summary names the reason too)');
  t.match(run.stderr, /not done\s+\d+ files/, 'the rest counted as not done, not failed');
  t.notMatch(run.stderr, /rcbs warn/, 'no warning per record either');
  const gets = front.requests.filter((r) => r.method === 'GET');
  t.ok(gets.length >= 1 && gets.length <= 4, `a handful of requests (numThreads 4), not one per file: ${gets.length}`);
  const state = backupState(targetDir, sandbox);
  t.same(state.problems, []);
  t.same(state.temps, [], 'no temp file left');
  t.equal(state.checkpoint, undefined, 'the checkpoint stays back');
});

t.test('an S3 endpoint nothing listens on stops the run after the retries: exit 4, one message', async (t) => {
  const sandbox = await startSandbox({ recordings: 6, oddities: false, seed: 43, maxSegments: 1, mediaSize: { min: 5_000, max: 10_000 } });
  t.teardown(() => sandbox.close());
  // A port that was free a moment ago: connections are refused.
  const closed = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
  const { targetDir, config, env } = sandboxBackup(t.testdir(), sandbox, {}, (text) => text.replace(/^s3Endpoint = .*$/m, `s3Endpoint = http://127.0.0.1:${closed}`));
  const run = await runCli(['-config', config], { env });
  t.equal(run.code, 4, run.stderr.slice(-2000));
  t.match(run.stderr, /RCBS_S3_UNREACHABLE/);
  t.match(run.stderr, new RegExp(`S3 could not be reached for s3://[^ ]+ after 6 attempts[^\\n]*ECONNREFUSED`));
  t.notMatch(run.stderr, /media file not downloaded/, 'no per-file failures');
  const state = backupState(targetDir, sandbox);
  t.same(state.temps, []);
  t.equal(state.checkpoint, undefined);
});

// ExpiredToken: credentials from a role or SSO may only need fetching again, so they
// are refreshed once; if S3 still says the token expired, the run stops (RCBS_S3_AUTH).
t.test('ExpiredToken: the credentials are refreshed once, then the transfer goes on or the run stops', async (t) => {
  const dir = t.testdir({});
  const s3 = await startS3rver(t, dir);
  const object = randomBytes(50_000);
  await s3.put('m-1', object);
  const front = await startS3Front(t, s3.endpoint);
  let fetched = 0;
  const client = new S3Client({
    region: 'us-east-1', endpoint: front.endpoint, forcePathStyle: true, maxAttempts: 1, responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: async () => {
      fetched++;
      return { accessKeyId: S3RVER_KEY.awsAccessKeyId, secretAccessKey: S3RVER_KEY.awsSecretAccessKey, sessionToken: `token-${fetched}` };
    },
  });
  t.teardown(() => client.destroy());
  const tempPath = path.join(dir, 'm-1.part');

  front.rules.set('m-1', { error: { kind: 'expired-token', times: 1 } });
  const result = await downloadObject({ client, bucket: s3.bucket, key: 'm-1', tempPath, delayMs: () => 0 });
  t.ok((await readFile(tempPath)).equals(object), 'downloaded after one refresh');
  t.equal(result.bytes, object.length);
  t.equal(fetched, 2, 'the credentials were fetched again once');

  front.rules.set('m-1', { error: { kind: 'expired-token' } });
  const before = front.gets('m-1');
  await t.rejects(downloadObject({ client, bucket: s3.bucket, key: 'm-1', tempPath, delayMs: () => 0 }), { code: 'RCBS_S3_AUTH', exitCode: 2, message: /session token \(HTTP 400 ExpiredToken\)/ });
  t.equal(front.gets('m-1') - before, 2, 'one request, one after the refresh, then the run stops');
});
