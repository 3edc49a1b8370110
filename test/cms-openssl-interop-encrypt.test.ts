// Pins the other direction of SPEC §7: what rcbs encrypts (when it produces CMS
// for plain media, per encryptionFormat) `openssl cms -decrypt` opens — DER when
// the size is known, indefinite-length BER when not, AES-128 and AES-256, one or
// two recipients (one made by openssl, one by generateIdentity without it) — and
// rcbs reads its own output back.

import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createEncryptStream, encryptBuffer, type EncryptOptions } from '../src/cms/encrypt.js';
import { createDecryptStream } from '../src/cms/decrypt.js';
import { generateIdentity } from '../src/cms/identity.js';
import { loadIdentities } from '../src/cms/keys.js';

const run = promisify(execFile);
const dir = t.testdir({});
const at = (name: string) => path.join(dir, name);

async function through(input: Buffer[], transform: NodeJS.ReadWriteStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(Readable.from(input), transform, new Writable({ write(c: Buffer, _e, done) { parts.push(c); done(); } }));
  return Buffer.concat(parts);
}

async function opensslDecrypt(file: string, key: string, cert?: string): Promise<Buffer> {
  const out = file + '.out';
  await run('openssl', ['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', file, '-inkey', key, ...(cert ? ['-recip', cert] : []), '-out', out]);
  return readFile(out);
}

t.before(async () => {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ossl.key'), '-out', at('ossl.crt'), '-subj', '/CN=openssl-made', '-days', '2']);
  const generated = await generateIdentity({ commonName: 'rcbs-made' });
  await writeFile(at('gen.key'), generated.keyPem);
  await writeFile(at('gen.crt'), generated.certPem);
});

const PLAINTEXTS: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  one: Buffer.from([0x42]),
  block: Buffer.alloc(32, 7),
  odd: Buffer.from(Array.from({ length: 70_001 }, (_, i) => (i * 13) & 0xff)),
};

/** The plaintext in pieces, as a file read would give it. */
const pieces = (plain: Buffer) => (plain.length === 0 ? [] : [plain.subarray(0, 5), plain.subarray(5, 40_000), plain.subarray(40_000)].filter((p) => p.length > 0));

for (const cipher of ['AES-128', 'AES-256'] as const) {
  for (const form of ['der', 'ber', 'buffer'] as const) {
    t.test(`${cipher} ${form}, two recipients: openssl decrypts with either key`, async (t) => {
      const certificates = [await readFile(at('ossl.crt'), 'utf8'), await readFile(at('gen.crt'))];
      for (const [name, plain] of Object.entries(PLAINTEXTS)) {
        const options: EncryptOptions = { certificates, cipher };
        const encrypted =
          form === 'buffer' ? encryptBuffer(plain, options) : await through(pieces(plain), createEncryptStream({ ...options, plaintextSize: form === 'der' ? plain.length : undefined }));
        t.equal(encrypted[1] === 0x80, form === 'ber', `${name}: ${form === 'ber' ? 'indefinite' : 'definite'} length`);
        const file = at(`${cipher}-${form}-${name}.p7m`);
        await writeFile(file, encrypted);
        t.ok((await opensslDecrypt(file, at('ossl.key'))).equals(plain), `${name}: openssl, openssl-made key`);
        t.ok((await opensslDecrypt(file, at('gen.key'), at('gen.crt'))).equals(plain), `${name}: openssl -recip, generated identity`);
        const ours = await through([encrypted], createDecryptStream({ identities: await loadIdentities([at('gen.key')]) }));
        t.ok(ours.equals(plain), `${name}: rcbs reads it back`);
      }
    });
  }
}

t.test('the cipher is the one asked for', async (t) => {
  const certificates = [await readFile(at('gen.crt'))];
  for (const [cipher, name] of [['AES-128', 'aes-128-cbc'], ['AES-256', 'aes-256-cbc']] as const) {
    const file = at(`which-${cipher}.p7m`);
    await writeFile(file, encryptBuffer(Buffer.from('x'), { certificates, cipher }));
    const { stdout } = await run('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file]);
    t.match(stdout, name.replace(/-/g, '-'), cipher);
  }
});

t.test('a plaintext of another size than announced fails instead of writing a broken file', async (t) => {
  const certificates = [await readFile(at('gen.crt'))];
  await t.rejects(through([Buffer.alloc(10)], createEncryptStream({ certificates, plaintextSize: 11 })), { code: 'RCBS_INTERNAL' });
  await t.rejects(through([Buffer.alloc(12)], createEncryptStream({ certificates, plaintextSize: 11 })), { code: 'RCBS_INTERNAL' });
});
