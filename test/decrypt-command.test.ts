// Pins `rcbs decrypt <file or dir>… --key … --out DIR` (SPEC §2, §7): a folder is
// walked for .bin files and keeps its layout, names lose .bin, files are 0600; a
// file that fails is logged with its code while the others are decrypted (exit
// 1); key and usage problems exit 2 before anything is written; --out inside the
// backup is refused; the passphrase file works and is never logged.

import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import fg from 'fast-glob';
import { decryptCommand } from '../src/commands/decrypt.js';
import { createLogger } from '../src/log.js';

const run = promisify(execFile);
const dir = t.testdir({ backup: { tenant: { '2024': {} } } });
const at = (...p: string[]) => path.join(dir, ...p);
const PASS = 'open sesame 42';

function capture(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ write: (l) => lines.push(l), level: 'debug' }), lines };
}

t.before(async () => {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('key.pem'), '-out', at('cert.pem'), '-subj', '/CN=cmd', '-days', '2']);
  await run('openssl', ['pkcs8', '-topk8', '-in', at('key.pem'), '-v2', 'aes-256-cbc', '-passout', `pass:${PASS}`, '-out', at('key-encrypted.pem')]);
  await writeFile(at('passphrase'), PASS);
  for (const [rel, text] of [['tenant/2024/m1.bin', 'first'], ['tenant/2024/m2.bin', 'second'], ['tenant/m3.bin', 'third']]) {
    await writeFile(at('plain'), text);
    await run('openssl', ['cms', '-encrypt', '-binary', '-aes-256-cbc', '-outform', 'DER', '-in', at('plain'), '-out', at('backup', rel!), at('cert.pem')]);
  }
  await writeFile(at('backup', 'tenant/2024/rec.json'), '{}');
  await writeFile(at('backup', 'tenant/2024/broken.bin'), 'not cms');
});

t.test('a folder keeps its layout; a bad file fails alone (exit 1)', async (t) => {
  const { log, lines } = capture();
  const code = await decryptCommand([at('backup')], { keys: [at('key.pem')], out: at('out1') }, log);
  t.equal(code, 1);
  t.same((await fg('**/*', { cwd: at('out1'), dot: true })).sort(), ['tenant/2024/m1', 'tenant/2024/m2', 'tenant/m3']);
  t.equal(await readFile(at('out1/tenant/2024/m2'), 'utf8'), 'second');
  t.equal((await stat(at('out1/tenant/m3'))).mode & 0o777, 0o600);
  t.match(lines.join('\n'), /broken\.bin: .* code=RCBS_DECRYPT_MALFORMED/);
});

t.test('single files, an encrypted key with a passphrase file: exit 0, nothing secret logged', async (t) => {
  const { log, lines } = capture();
  const code = await decryptCommand([at('backup/tenant/m3.bin'), at('backup/tenant/2024/m1.bin')], { keys: [at('key-encrypted.pem')], out: at('out2'), passphraseFile: at('passphrase') }, log);
  t.equal(code, 0);
  t.same((await readdir(at('out2'))).sort(), ['m1', 'm3']);
  t.notMatch(lines.join('\n'), PASS);
});

t.test('usage and key problems exit 2 and write nothing', async (t) => {
  const cases: Array<[string, Parameters<typeof decryptCommand>]> = [
    ['no key', [[at('backup')], { keys: [], out: at('out3') }, capture().log]],
    ['encrypted key, no passphrase', [[at('backup')], { keys: [at('key-encrypted.pem')], out: at('out3') }, capture().log]],
    ['missing input', [[at('nope.bin')], { keys: [at('key.pem')], out: at('out3') }, capture().log]],
    ['out inside the backup (refuseInside)', [[at('elsewhere')], { keys: [at('key.pem')], out: at('backup/plain'), refuseInside: at('backup') }, capture().log]],
    ['out inside the input folder', [[at('backup')], { keys: [at('key.pem')], out: at('backup/decrypted') }, capture().log]],
  ];
  await mkdir(at('elsewhere'), { recursive: true });
  for (const [name, args] of cases) t.equal(await decryptCommand(...args), 2, name);
  t.same(await fg('**/out3/**', { cwd: dir }), []);
  t.same(await fg('backup/{plain,decrypted}/**', { cwd: dir }), []);
});
