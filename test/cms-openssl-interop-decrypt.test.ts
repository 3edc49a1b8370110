// Pins SPEC §7's promise: whatever `openssl cms`/`smime -encrypt` writes, rcbs
// decrypts to exactly the bytes `openssl cms -decrypt -binary` gives — DER and
// -stream BER, AES-128/192/256 and the 3DES default, two recipients, RSA-OAEP
// (SHA-1, SHA-256, MGF1 differing from the OAEP hash, a label), SKI recipients
// (-keyid), S/MIME and PEM text — for empty, 1-byte and odd-sized plaintexts,
// both from a file and when the input arrives one byte at a time.

import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createDecryptStream } from '../src/cms/decrypt.js';
import { decryptFile } from '../src/cms/file.js';
import { loadIdentities } from '../src/cms/keys.js';

const run = promisify(execFile);
const dir = t.testdir({});
const at = (name: string) => path.join(dir, name);

async function makeIdentity(name: string): Promise<void> {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${name}.key`), '-out', at(`${name}.crt`), '-subj', `/CN=${name}/O=rcbs test`, '-days', '2']);
}

async function collect(stream: Readable, keyFiles: string[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(stream, createDecryptStream({ identities: await loadIdentities(keyFiles) }), new Writable({ write(c: Buffer, _e, done) { parts.push(c); done(); } }));
  return Buffer.concat(parts);
}

function* bytesOf(data: Buffer): Generator<Buffer> {
  for (let i = 0; i < data.length; i++) yield data.subarray(i, i + 1);
}

interface Variant {
  name: string;
  tool: 'cms' | 'smime';
  args: string[];
  /** -inform for openssl's own decrypt. */
  inform: 'DER' | 'SMIME' | 'PEM';
}

const recip = (...names: string[]) => names.flatMap((n) => ['-recip', at(`${n}.crt`)]);
const VARIANTS: Variant[] = [
  { name: 'der-aes256', tool: 'cms', args: ['-aes-256-cbc', '-outform', 'DER', ...recip('alice')], inform: 'DER' },
  { name: 'der-aes192', tool: 'cms', args: ['-aes-192-cbc', '-outform', 'DER', ...recip('alice')], inform: 'DER' },
  { name: 'stream-aes128', tool: 'cms', args: ['-stream', '-aes-128-cbc', '-outform', 'DER', ...recip('alice')], inform: 'DER' },
  { name: 'der-3des-default', tool: 'cms', args: ['-outform', 'DER', ...recip('alice')], inform: 'DER' },
  { name: 'stream-3des-default', tool: 'cms', args: ['-stream', '-outform', 'DER', ...recip('alice')], inform: 'DER' },
  { name: 'two-recipients', tool: 'cms', args: ['-aes-256-cbc', '-outform', 'DER', ...recip('bob', 'alice')], inform: 'DER' },
  { name: 'oaep-sha1', tool: 'cms', args: ['-aes-128-cbc', '-outform', 'DER', ...recip('alice'), '-keyopt', 'rsa_padding_mode:oaep'], inform: 'DER' },
  { name: 'oaep-sha256', tool: 'cms', args: ['-aes-256-cbc', '-outform', 'DER', ...recip('alice'), '-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'], inform: 'DER' },
  {
    name: 'oaep-sha256-mgf1-sha1',
    tool: 'cms',
    args: ['-stream', '-aes-256-cbc', '-outform', 'DER', ...recip('alice'), '-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256', '-keyopt', 'rsa_mgf1_md:sha1'],
    inform: 'DER',
  },
  {
    name: 'oaep-sha256-label',
    tool: 'cms',
    args: ['-aes-256-cbc', '-outform', 'DER', ...recip('alice'), '-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256', '-keyopt', 'rsa_oaep_label:0102030405'],
    inform: 'DER',
  },
  { name: 'keyid', tool: 'cms', args: ['-keyid', '-aes-256-cbc', '-outform', 'DER', ...recip('alice')], inform: 'DER' },
  { name: 'cms-pem', tool: 'cms', args: ['-aes-128-cbc', '-outform', 'PEM', ...recip('alice')], inform: 'PEM' },
  { name: 'smime-aes256', tool: 'smime', args: ['-aes256', at('alice.crt')], inform: 'SMIME' },
  { name: 'smime-3des-stream', tool: 'smime', args: ['-stream', at('alice.crt')], inform: 'SMIME' },
];

const SIZES = { empty: 0, one: 1, odd: 4099 };

t.before(async () => {
  await Promise.all([makeIdentity('alice'), makeIdentity('bob')]);
  for (const [name, size] of Object.entries(SIZES)) {
    await writeFile(at(`plain-${name}`), Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff)));
  }
});

for (const variant of VARIANTS) {
  t.test(variant.name, async (t) => {
    for (const [sizeName] of Object.entries(SIZES)) {
      const plain = at(`plain-${sizeName}`);
      const encrypted = at(`${variant.name}-${sizeName}.enc`);
      await run('openssl', [variant.tool, '-encrypt', '-binary', '-in', plain, '-out', encrypted, ...variant.args]);
      const expected = at(`${variant.name}-${sizeName}.openssl`);
      await run('openssl', ['cms', '-decrypt', '-binary', '-inform', variant.inform, '-in', encrypted, '-inkey', at('alice.key'), '-out', expected]);
      const want = await readFile(expected);
      t.same(want, await readFile(plain), `${sizeName}: openssl itself round-trips`);

      const ours = at(`${variant.name}-${sizeName}.rcbs`);
      await decryptFile(encrypted, ours, await loadIdentities([at('alice.key')]));
      t.ok((await readFile(ours)).equals(want), `${sizeName}: file decrypt is byte-identical to openssl`);

      const input = await readFile(encrypted);
      t.ok((await collect(Readable.from(bytesOf(input)), [at('alice.key')])).equals(want), `${sizeName}: 1-byte chunks give the same bytes`);
    }
  });
}

t.test('two recipients: either key opens the file, and both keys at once too', async (t) => {
  const encrypted = at('two-recipients-odd.enc');
  const want = await readFile(at('plain-odd'));
  for (const keys of [['bob.key'], ['alice.key'], ['bob.key', 'alice.key']]) {
    t.ok((await collect(Readable.from([await readFile(encrypted)]), keys.map(at))).equals(want), keys.join('+'));
  }
});

t.test('a certificate beside the key picks the recipient (issuer+serial and SKI)', async (t) => {
  const combined = at('alice-with-cert.pem');
  await writeFile(combined, Buffer.concat([await readFile(at('alice.key')), await readFile(at('alice.crt'))]));
  const [identity] = await loadIdentities([combined]);
  t.equal(identity!.certificates.length, 1, 'the certificate is paired with its key');
  const want = await readFile(at('plain-odd'));
  for (const name of ['two-recipients-odd.enc', 'keyid-odd.enc']) {
    t.ok((await collect(Readable.from([await readFile(at(name))]), [combined, at('bob.key')])).equals(want), name);
  }
});

t.test('a large odd-sized -stream file in uneven chunks', async (t) => {
  const plain = Buffer.alloc(300_007);
  for (let i = 0; i < plain.length; i++) plain[i] = (i * 31 + (i >> 8)) & 0xff;
  await writeFile(at('big.plain'), plain);
  await run('openssl', ['cms', '-encrypt', '-binary', '-stream', '-aes-256-cbc', '-outform', 'DER', '-in', at('big.plain'), '-out', at('big.enc'), at('alice.crt')]);
  const input = await readFile(at('big.enc'));
  const pieces: Buffer[] = [];
  for (let i = 0, n = 1; i < input.length; i += n, n = (n * 7 + 3) % 9001 + 1) pieces.push(input.subarray(i, i + n));
  t.ok((await collect(Readable.from(pieces), [at('alice.key')])).equals(plain));
});
