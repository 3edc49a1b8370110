// Pins that the sandbox's S3 objects are what Genesys stores: real CMS EnvelopedData
// that the openssl CLI decrypts with the sandbox key to exactly that media's
// plaintext, one distinct object per media, fetched with the real SDK from s3rver
// under {keyPrefix}{mediaId} with the ETag the sandbox reports; that s3rver refuses
// a wrong secret (else credential tests would pass against anything); and that
// addLateMedia both uploads a new object and shows it in GWS.
import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const execFileAsync = promisify(execFile);

function s3Client(sandbox: Sandbox, secretAccessKey = sandbox.credentials.awsSecretAccessKey): S3Client {
  return new S3Client({
    endpoint: sandbox.s3Endpoint,
    region: sandbox.s3Region,
    forcePathStyle: true,
    credentials: { accessKeyId: sandbox.credentials.awsAccessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

async function fetchObject(client: S3Client, sandbox: Sandbox, key: string): Promise<{ body: Buffer; etag: string }> {
  const answer = await client.send(new GetObjectCommand({ Bucket: sandbox.bucket, Key: key }));
  return { body: Buffer.from(await answer.Body!.transformToByteArray()), etag: String(answer.ETag).replace(/"/g, '') };
}

async function opensslDecrypt(dir: string, name: string, encrypted: Buffer, keyPath: string): Promise<Buffer> {
  const input = path.join(dir, `${name}.cms`);
  const output = path.join(dir, `${name}.plain`);
  await writeFile(input, encrypted);
  await execFileAsync('openssl', ['cms', '-decrypt', '-binary', '-inform', 'DER', '-inkey', keyPath, '-in', input, '-out', output]);
  return readFile(output);
}

t.test('media objects decrypt with openssl and the sandbox key to their plaintext; a wrong secret is refused', async (t) => {
  const sandbox = await startSandbox({ recordings: 6, seed: 5, oddities: true });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  const client = s3Client(sandbox);
  t.teardown(() => client.destroy());

  const uploaded = sandbox.recordings.flatMap((r) => r.media.filter((m) => m.upload));
  t.ok(uploaded.length >= 7, 'several media objects');
  t.equal(new Set(uploaded.map((m) => m.encryptedMd5)).size, uploaded.length, 'every object is a distinct CMS file');

  // One voice and one screen recording when present, and the last media: enough to
  // catch a wrong key, a shared object or an off-by-one without decrypting them all.
  const voice = sandbox.recordings.find((r) => r.kind === 'voice' && !r.odd)!.media[0]!;
  const screen = sandbox.recordings.find((r) => r.kind === 'screen')?.media[0];
  const picks = [voice, uploaded[uploaded.length - 1]!, ...(screen ? [screen] : [])];
  for (const [i, media] of picks.entries()) {
    t.equal(media.key, sandbox.keyPrefix + media.mediaId);
    const { body, etag } = await fetchObject(client, sandbox, media.key);
    t.equal(body.length, media.encryptedSize);
    t.equal(etag, media.encryptedMd5, 'the ETag is the MD5 the sandbox reports');
    t.equal(createHash('md5').update(body).digest('hex'), media.encryptedMd5);
    const plain = await opensslDecrypt(dir, `m${i}`, body, sandbox.keyPath);
    t.ok(plain.equals(media.plain), `${media.type} object decrypts to its plaintext (${plain.length} bytes)`);
    const listed = sandbox.recordings.flatMap((r) => r.recording.mediaFiles as Array<{ mediaId: string; size: number | string }>).find((f) => f.mediaId === media.mediaId)!;
    t.equal(Number(listed.size), media.plain.length, 'metadata size is the plain size');
  }

  const wrong = s3Client(sandbox, 'not-the-secret');
  t.teardown(() => wrong.destroy());
  await t.rejects(fetchObject(wrong, sandbox, voice.key), { name: 'SignatureDoesNotMatch' });

  const traversal = sandbox.recordings.find((r) => r.odd === 'traversal-media-id')!;
  t.equal(traversal.media[0]!.upload, false, 'the path-traversal media has no object');
});

t.test('addLateMedia uploads a new object and GWS lists it on the same recording', async (t) => {
  const sandbox = await startSandbox({ recordings: 3, seed: 9, oddities: false, mediaSize: 333 });
  t.teardown(() => sandbox.close());
  const client = s3Client(sandbox);
  t.teardown(() => client.destroy());
  const target = sandbox.recordings[0]!;
  const before = (target.recording.mediaFiles as unknown[]).length;

  const late = await sandbox.addLateMedia(target.id!);
  t.equal((target.recording.mediaFiles as unknown[]).length, before + 1);
  t.equal(sandbox.media(late.mediaId), late);
  t.notOk(sandbox.recordings.some((r) => r !== target && r.media.some((m) => m.mediaId === late.mediaId)), 'the mediaId is new');

  const auth = 'Basic ' + Buffer.from(`${sandbox.credentials.gwsUsername}:${sandbox.credentials.gwsPassword}`).toString('base64');
  const page = (await (await fetch(`${sandbox.gwsUrl}/recordings?startTime=0&endTime=${Date.now()}&limit=100`, { headers: { authorization: auth } })).json()) as {
    recordings: Array<{ id: string; mediaFiles: Array<{ mediaId: string }> }>;
  };
  const served = page.recordings.find((r) => r.id === target.id)!;
  t.ok(served.mediaFiles.some((m) => m.mediaId === late.mediaId), 'GWS serves the late media');

  const { body } = await fetchObject(client, sandbox, late.key);
  const plain = await opensslDecrypt(t.testdir(), 'late', body, sandbox.keyPath);
  t.ok(plain.equals(late.plain));
  t.equal(plain.length, 333);

  await t.rejects(sandbox.addLateMedia('NO-SUCH-RECORDING'), { code: 'RCBS_USAGE' });
});

t.test('configProperties and env point rcbs at this sandbox; close() removes its folder', async (t) => {
  const sandbox = await startSandbox({ recordings: 1, oddities: false });
  const target = path.join(t.testdir(), 'backup');
  const properties = sandbox.configProperties(target, { decryptDir: path.join(path.dirname(target), 'plain') });
  t.match(properties, new RegExp(`^gwsUriPrefix = ${sandbox.gwsUrl.replace(/[.]/g, '\\.')}$`, 'm'));
  t.match(properties, new RegExp(`^s3Endpoint = ${sandbox.s3Endpoint.replace(/[.]/g, '\\.')}$`, 'm'));
  t.match(properties, /^s3ForcePathStyle = true$/m);
  t.match(properties, /^maxAge = [23]$/m, 'maxAge covers the last 47 hours');
  t.match(properties, new RegExp(`^decryptKey = ${sandbox.keyPath.replace(/\\/g, '/').replace(/[.]/g, '\\.')}$`, 'm'));
  t.notMatch(properties, sandbox.credentials.gwsPassword, 'no secret in the file');
  t.same(Object.keys(sandbox.env()).slice(0, 4), ['GWS_USERNAME', 'GWS_PASSWORD', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
  t.equal(await readFile(sandbox.keyPath, 'utf8'), sandbox.keyPem);

  await sandbox.close();
  await t.rejects(readFile(sandbox.keyPath), { code: 'ENOENT' }, 'the temp folder is gone');
  await t.rejects(fetch(`${sandbox.gwsUrl}/me/settings/rcbs`), { name: 'TypeError' }, 'GWS is closed');
});
