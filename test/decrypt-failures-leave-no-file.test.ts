// Pins what an operator sees when a decrypt cannot succeed (SPEC §7): a wrong key
// names the recipients present (RCBS_DECRYPT_NO_RECIPIENT); a key that unwraps
// garbage (what implicit rejection gives) or a damaged last block fails the final
// padding check (RCBS_DECRYPT_WRONG_KEY); truncated, garbage, empty and
// non-EnvelopedData input is RCBS_DECRYPT_MALFORMED; an unknown cipher is
// RCBS_DECRYPT_UNSUPPORTED naming its OID. In every case no output file — final or
// temporary — is left, where openssl leaves a full-size garbage file.

import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { constants, createCipheriv, createDecipheriv, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { decryptFile } from '../src/cms/file.js';
import { loadIdentities, type Identity } from '../src/cms/keys.js';
import { encryptBuffer } from '../src/cms/encrypt.js';
import { der, derHeader, CONTEXT, TAG, UNIVERSAL } from '../src/cms/asn1.js';
import { certificateId } from '../src/cms/keys.js';

const run = promisify(execFile);
const dir = t.testdir({ out: {} });
const at = (name: string) => path.join(dir, name);
const outDir = at('out');
let alice: Identity[];

t.before(async () => {
  for (const name of ['alice', 'mallory']) {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${name}.key`), '-out', at(`${name}.crt`), '-subj', `/CN=${name}`, '-days', '2']);
  }
  await writeFile(at('plain'), Buffer.alloc(50_000, 0x61));
  await run('openssl', ['cms', '-encrypt', '-binary', '-aes-256-cbc', '-outform', 'DER', '-in', at('plain'), '-out', at('good.bin'), at('alice.crt')]);
  await run('openssl', ['cms', '-encrypt', '-binary', '-stream', '-aes-128-cbc', '-outform', 'DER', '-in', at('plain'), '-out', at('good-stream.bin'), at('alice.crt')]);
  alice = await loadIdentities([at('alice.key')]);
});

async function failsCleanly(t: Test, input: string, identities: Identity[], code: string, message?: RegExp): Promise<void> {
  const output = path.join(outDir, path.basename(input) + '.out');
  await t.rejects(decryptFile(input, output, identities), { code, ...(message ? { message } : {}) }, path.basename(input));
  t.same(await readdir(outDir), [], 'nothing left in the output folder');
}

t.test('a key for no recipient names the recipients present', async (t) => {
  const mallory = await loadIdentities([at('mallory.key')]);
  const serial = new X509Certificate(await readFile(at('alice.crt'))).serialNumber.toLowerCase().replace(/^0+/, '');
  await failsCleanly(t, at('good.bin'), mallory, 'RCBS_DECRYPT_NO_RECIPIENT', new RegExp(`CN=alice.*serial 0*${serial}`, 'i'));
  const withCert = await loadIdentities([at('mallory.key'), at('mallory.crt')]);
  await failsCleanly(t, at('good-stream.bin'), withCert, 'RCBS_DECRYPT_NO_RECIPIENT', /CN=mallory/);
});

t.test('a key that unwraps a wrong content key fails the padding check, no file kept', async (t) => {
  // What implicit rejection hands back: a well-formed but wrong key. Built by hand:
  // the content is encrypted with one key, the recipient gets another.
  const cert = new X509Certificate(await readFile(at('alice.crt')));
  const id = certificateId(cert.raw);
  const iv = randomBytes(16);
  const contentKey = randomBytes(32);
  const cipher = createCipheriv('aes-256-cbc', contentKey, iv);
  const ciphertext = Buffer.concat([cipher.update(Buffer.alloc(100_000, 1)), cipher.final()]);
  // A wrong key still passes CBC padding about 1 time in 256 (openssl has the same
  // limit): pick one that does not, so the test is deterministic.
  let wrongKey: Buffer;
  for (;;) {
    wrongKey = randomBytes(32);
    const tail = createDecipheriv('aes-256-cbc', wrongKey, ciphertext.subarray(-32, -16));
    try {
      tail.update(ciphertext.subarray(-16));
      tail.final();
    } catch {
      break;
    }
  }
  const wrapped = publicEncrypt({ key: cert.publicKey, padding: constants.RSA_PKCS1_PADDING }, wrongKey);
  const serial = Buffer.concat([derHeader(UNIVERSAL, false, TAG.INTEGER, id.serial.length), id.serial]);
  const ktri = der.sequence(der.integer(0), der.sequence(id.issuer, serial), der.sequence(der.oid('1.2.840.113549.1.1.1'), der.null()), der.octetString(wrapped));
  const eci = der.sequence(der.oid('1.2.840.113549.1.7.1'), der.sequence(der.oid('2.16.840.1.101.3.4.1.42'), der.octetString(iv)), Buffer.concat([derHeader(CONTEXT, false, 0, ciphertext.length), ciphertext]));
  const file = der.sequence(der.oid('1.2.840.113549.1.7.3'), der.explicit(0, der.sequence(der.integer(0), der.setOf(ktri), eci)));
  await writeFile(at('wrong-cek.bin'), file);
  await failsCleanly(t, at('wrong-cek.bin'), alice, 'RCBS_DECRYPT_WRONG_KEY', /padding/);
});

t.test('a damaged last block is RCBS_DECRYPT_WRONG_KEY', async (t) => {
  const data = await readFile(at('good.bin'));
  data[data.length - 1]! ^= 0xff;
  data[data.length - 17]! ^= 0x55; // the padding lives in the last block, decrypted with the one before
  await writeFile(at('damaged.bin'), data);
  await failsCleanly(t, at('damaged.bin'), alice, 'RCBS_DECRYPT_WRONG_KEY', /recipients present/i);
});

t.test('truncated input is RCBS_DECRYPT_MALFORMED wherever it is cut', async (t) => {
  for (const source of ['good.bin', 'good-stream.bin']) {
    const data = await readFile(at(source));
    for (const cut of [1, 10, 300, 600, data.length - 4096, data.length - 16, data.length - 1]) {
      const file = at(`${source}-cut-${cut}`);
      await writeFile(file, data.subarray(0, cut));
      await failsCleanly(t, file, alice, 'RCBS_DECRYPT_MALFORMED');
    }
  }
});

t.test('garbage, empty and non-EnvelopedData input is RCBS_DECRYPT_MALFORMED', async (t) => {
  await writeFile(at('garbage.bin'), randomBytes(5000).fill(0x31, 0, 1));
  await writeFile(at('text.bin'), 'hello, this is not CMS at all\n');
  await writeFile(at('empty.bin'), '');
  await run('openssl', ['cms', '-data_create', '-binary', '-outform', 'DER', '-in', at('plain'), '-out', at('data-only.bin')]);
  for (const name of ['garbage.bin', 'text.bin', 'empty.bin']) await failsCleanly(t, at(name), alice, 'RCBS_DECRYPT_MALFORMED');
  await failsCleanly(t, at('data-only.bin'), alice, 'RCBS_DECRYPT_MALFORMED', /not EnvelopedData/);
});

t.test('an unsupported content cipher is named', async (t) => {
  await run('openssl', ['cms', '-encrypt', '-binary', '-camellia-128-cbc', '-outform', 'DER', '-in', at('plain'), '-out', at('camellia.bin'), at('alice.crt')]);
  await failsCleanly(t, at('camellia.bin'), alice, 'RCBS_DECRYPT_UNSUPPORTED', /1\.2\.392\.200011\.61\.1\.1\.1\.2/);
});

t.test('a good file still decrypts (the checks above can pass), with owner-only permissions', async (t) => {
  const output = path.join(outDir, 'good');
  t.equal(await decryptFile(at('good.bin'), output, alice), 50_000);
  t.equal((await stat(output)).mode & 0o777, 0o600);
  const own = encryptBuffer(Buffer.from('x'), { certificates: [await readFile(at('alice.crt'))] });
  await writeFile(at('own.bin'), own);
  t.equal(await decryptFile(at('own.bin'), path.join(outDir, 'own'), alice), 1);
});
