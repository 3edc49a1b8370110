// Pins SPEC §7's key formats: PKCS#1 and PKCS#8 PEM, DER, passphrase-encrypted PEM
// (PKCS#8 and traditional), PKCS#12 (OpenSSL 3's default AES/PBKDF2 and the
// -legacy form), a PEM with key and certificate, a certificate in a separate file;
// the passphrase from RCBS_KEY_PASSPHRASE or a file, never echoed; and the
// RCBS_KEY_INVALID errors an operator meets (missing or wrong passphrase, junk).

import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadIdentities, readPassphrase } from '../src/cms/keys.js';
import { decryptFile } from '../src/cms/file.js';
import { redact } from '../src/log.js';

const run = promisify(execFile);
const dir = t.testdir({});
const at = (name: string) => path.join(dir, name);
const PASS = 'correct horse battery';

t.before(async () => {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('pkcs8.pem'), '-out', at('cert.pem'), '-subj', '/CN=formats', '-days', '2']);
  const k = at('pkcs8.pem');
  await run('openssl', ['rsa', '-in', k, '-traditional', '-out', at('pkcs1.pem')]);
  await run('openssl', ['pkcs8', '-topk8', '-in', k, '-outform', 'DER', '-nocrypt', '-out', at('pkcs8.der')]);
  await run('openssl', ['rsa', '-in', k, '-traditional', '-outform', 'DER', '-out', at('pkcs1.der')]);
  await run('openssl', ['pkcs8', '-topk8', '-in', k, '-v2', 'aes-256-cbc', '-passout', `pass:${PASS}`, '-out', at('pkcs8-encrypted.pem')]);
  await run('openssl', ['rsa', '-in', k, '-traditional', '-aes256', '-passout', `pass:${PASS}`, '-out', at('pkcs1-encrypted.pem')]);
  await run('openssl', ['pkcs12', '-export', '-inkey', k, '-in', at('cert.pem'), '-passout', `pass:${PASS}`, '-out', at('modern.p12')]);
  await run('openssl', ['pkcs12', '-export', '-legacy', '-inkey', k, '-in', at('cert.pem'), '-passout', `pass:${PASS}`, '-out', at('legacy.p12')]).catch(() => undefined);
  await writeFile(at('key-and-cert.pem'), Buffer.concat([await readFile(k), await readFile(at('cert.pem'))]));
  await writeFile(at('plain'), 'the recording\n');
  await run('openssl', ['cms', '-encrypt', '-binary', '-aes-256-cbc', '-outform', 'DER', '-in', at('plain'), '-out', at('file.bin'), at('cert.pem')]);
  await writeFile(at('passphrase.txt'), PASS + '\n');
});

async function opens(t: Test, files: string[], passphrase?: string): Promise<void> {
  const identities = await loadIdentities(files.map(at), { passphrase });
  const out = at(`out-${files.join('+')}`);
  await decryptFile(at('file.bin'), out, identities);
  t.equal(await readFile(out, 'utf8'), 'the recording\n', files.join(' + '));
}

t.test('unencrypted forms', async (t) => {
  for (const file of ['pkcs8.pem', 'pkcs1.pem', 'pkcs8.der', 'pkcs1.der', 'key-and-cert.pem']) await opens(t, [file]);
});

t.test('passphrase-encrypted PEM and PKCS#12', async (t) => {
  for (const file of ['pkcs8-encrypted.pem', 'pkcs1-encrypted.pem', 'modern.p12']) await opens(t, [file], PASS);
  const legacy = await readFile(at('legacy.p12')).catch(() => undefined);
  if (legacy) await opens(t, ['legacy.p12'], PASS);
});

t.test('a certificate goes with its key, in the same file or another', async (t) => {
  t.equal((await loadIdentities([at('key-and-cert.pem')]))[0]!.certificates.length, 1, 'PEM with both');
  t.equal((await loadIdentities([at('pkcs1.pem'), at('cert.pem')]))[0]!.certificates.length, 1, 'separate certificate file');
  t.equal((await loadIdentities([at('modern.p12')], { passphrase: PASS }))[0]!.certificates.length, 1, 'PKCS#12');
  t.equal((await loadIdentities([at('pkcs8.pem')]))[0]!.certificates.length, 0, 'key alone');
});

t.test('the passphrase comes from a file or RCBS_KEY_PASSPHRASE and is never printed', async (t) => {
  t.equal(await readPassphrase(at('passphrase.txt'), {}), PASS, 'file, trailing newline dropped');
  t.equal(await readPassphrase(undefined, { RCBS_KEY_PASSPHRASE: 'from the env' }), 'from the env');
  t.equal(await readPassphrase(undefined, {}), undefined);
  t.equal(redact(`oops ${PASS} leaked`), 'oops [REDACTED] leaked', 'registered as a secret');
});

t.test('keys that cannot be used fail with RCBS_KEY_INVALID, saying what to do', async (t) => {
  await t.rejects(loadIdentities([at('pkcs8-encrypted.pem')]), { code: 'RCBS_KEY_INVALID', message: /RCBS_KEY_PASSPHRASE/ });
  await t.rejects(loadIdentities([at('pkcs1-encrypted.pem')]), { code: 'RCBS_KEY_INVALID', message: /passphrase/ });
  await t.rejects(loadIdentities([at('pkcs8-encrypted.pem')], { passphrase: 'wrong' }), { code: 'RCBS_KEY_INVALID', message: /passphrase is wrong/ });
  await t.rejects(loadIdentities([at('modern.p12')], { passphrase: 'wrong' }), { code: 'RCBS_KEY_INVALID', message: /wrong passphrase/ });
  await t.rejects(loadIdentities([at('plain')]), { code: 'RCBS_KEY_INVALID' });
  await t.rejects(loadIdentities([at('cert.pem')]), { code: 'RCBS_KEY_INVALID', message: /certificates alone/ });
  await t.rejects(loadIdentities([at('missing.pem')]), { code: 'RCBS_KEY_INVALID', message: /ENOENT/ });
  await t.rejects(loadIdentities([]), { code: 'RCBS_KEY_INVALID' });
  const err = await loadIdentities([at('pkcs8-encrypted.pem')], { passphrase: 'xyzzy-not-it' }).catch((e: Error) => e);
  t.notMatch(String((err as Error).message), /xyzzy/, 'the passphrase given is not in the message');
});
