// Pins the SPEC §5 layout and name sanitising: <tenant>/<recordingFolderFormat of
// startTime, UTC>/<id>.json and <mediaId>.bin; hostile names from the data either
// become a safe, one-to-one name or fail RCBS_UNSAFE_NAME (→ quarantine), and
// nothing is ever written outside targetDir. Names come from a remote API: a
// `../` in an id must not become a write anywhere else on the machine.

import t from 'tap';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { openStore } from '../src/store/index.js';
import { safeName, MAX_NAME_BYTES } from '../src/store/names.js';
import { silentLogger } from '../src/log.js';

const recording = (over: Record<string, unknown> = {}) => ({
  id: 'rec-1',
  startTime: '2015-09-01T16:42:59.000+0000',
  mediaFiles: [{ mediaId: 'm1', type: 'audio/mp3', tenant: 'Tenant_21-86_GIR_Team' }],
  ...over,
});

t.test('layout: tenant, start time in UTC by recordingFolderFormat, id.json and mediaId.bin', async (t) => {
  const dir = t.testdir();
  const store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy/MM/dd/HH', log: silentLogger });
  t.teardown(() => store.close());
  t.equal(store.recordingDir(recording()), 'Tenant_21-86_GIR_Team/2015/09/01/16');
  // +0200 offset: 16:42 local is 14:42 UTC.
  t.equal(store.recordingDir(recording({ startTime: '2015-09-01T16:42:59.000+0200' })), 'Tenant_21-86_GIR_Team/2015/09/01/14');
  t.equal(store.recordingFileName('rec-1'), 'rec-1.json');
  t.equal(store.mediaFileName('m1'), 'm1.bin');
  t.equal(store.resolve('Tenant/2015/a.bin'), path.join(dir, 'Tenant', '2015', 'a.bin'));

  const minutes = await openStore({ targetDir: path.join(dir, 'other'), recordingFolderFormat: 'yyyy-MM/dd/HHmmss', log: silentLogger });
  t.teardown(() => minutes.close());
  t.equal(minutes.recordingDir(recording()), 'Tenant_21-86_GIR_Team/2015-09/01/164259');
  t.throws(() => minutes.recordingDir(recording({ startTime: 'yesterday', mediaFiles: [{ mediaId: 'm', tenant: 't' }] })), { code: 'RCBS_UNSAFE_NAME' });
  t.throws(() => minutes.recordingDir(recording({ mediaFiles: [{ mediaId: 'm' }] })), { code: 'RCBS_UNSAFE_NAME' }, 'no tenant anywhere');
});

t.test('targetDir with forward slashes and a doubled leading slash (UNC form) resolves', async (t) => {
  const dir = t.testdir();
  const store = await openStore({ targetDir: dir.split(path.sep).join('/') + '/backup/', recordingFolderFormat: 'yyyy', log: silentLogger });
  t.teardown(() => store.close());
  t.equal(store.targetDir, path.join(dir, 'backup'));
  t.ok(statSync(path.join(dir, 'backup', '.rcbs')).isDirectory());
});

t.test('a recordingFolderFormat that would escape or is unsafe is a config error', async (t) => {
  const dir = t.testdir();
  for (const format of ['yyyy/../MM', 'yyyy\\MM', 'yyyy/CON', 'yyyy/a b']) {
    await t.rejects(openStore({ targetDir: dir, recordingFolderFormat: format, log: silentLogger, lock: false }), { code: 'RCBS_CONFIG_INVALID' }, format);
  }
});

t.test('hostile names: safe and distinct, or RCBS_UNSAFE_NAME; nothing lands outside targetDir', async (t) => {
  const root = t.testdir({ target: {} });
  const target = path.join(root, 'target');
  const store = await openStore({ targetDir: target, recordingFolderFormat: 'yyyy/MM/dd/HH', log: silentLogger });
  t.teardown(() => store.close());

  const refused = ['', '.', '..', '...', 'CON', 'con', 'nul.txt', 'COM1', 'lpt9.json', 'AUX ', undefined,
    // traversal attempts and corrupt names: quarantined, not filed under an encoded spelling
    '../x', '../../etc/passwd', 'a/b', 'a\\b', '..\\..\\x', '/abs/path', 'C:\\Windows\\x', 'nul\0byte', 'ctl\x01\x1f\x7f', 'tab\there'];
  for (const name of refused) {
    t.throws(() => store.mediaFileName(name as string), { code: 'RCBS_UNSAFE_NAME' }, `refused: ${JSON.stringify(name)}`);
  }

  const hostile = ['x.', '.hidden', 'CONSOLE', 'a%2Fb', 'é', 'x'.repeat(300), 'ü'.repeat(300), 'a:b', 'trail ', 'a_b', 'a b'];
  const seen = new Map<string, string>();
  for (const name of hostile) {
    const safe = safeName(name, 'test');
    t.match(safe, /^[A-Za-z0-9._@+=%~-]+$/, `only safe characters: ${JSON.stringify(name)} → ${safe}`);
    t.notOk(safe.startsWith('.') || safe.endsWith('.'), 'no leading or trailing dot');
    t.ok(Buffer.byteLength(safe) <= MAX_NAME_BYTES, 'length-limited');
    t.not(safe, '..');
    t.notOk(seen.has(safe), `distinct: ${JSON.stringify(name)} and ${JSON.stringify(seen.get(safe))}`);
    seen.set(safe, name);

    // Write it for real: as a tenant folder, a recording id and a mediaId.
    const rec = recording({ id: name, mediaFiles: [{ mediaId: name, tenant: name }] });
    const rel = `${store.recordingDir(rec)}/${store.recordingFileName(name)}`;
    await store.writeFileAtomic(rel, '{}');
    await store.writeFileAtomic(`${store.recordingDir(rec)}/${store.mediaFileName(name)}`, 'x');
  }
  t.equal(safeName('a:b', 't'), 'a%3Ab');
  t.equal(safeName('a%2Fb', 't'), 'a%252Fb', '% itself is encoded, so the two cannot collide');
  t.equal(safeName('x'.repeat(300), 't').length, MAX_NAME_BYTES);

  // Only the target folder was touched, and every file in it is in a tenant folder.
  t.same(readdirSync(root), ['target']);
  const files = await fg('**/*', { cwd: target, dot: true, onlyFiles: true });
  t.ok(files.length >= hostile.length * 2);
  for (const file of files) {
    if (file.startsWith('.rcbs/')) continue;
    t.equal(file.split('/').length, 6, `tenant/yyyy/MM/dd/HH/name: ${file}`);
    t.notOk(file.split('/').some((seg) => seg === '..' || seg === '.'));
  }
});

t.test('resolve() refuses paths outside targetDir', async (t) => {
  const dir = t.testdir();
  const store = await openStore({ targetDir: path.join(dir, 't'), recordingFolderFormat: 'yyyy', log: silentLogger });
  t.teardown(() => store.close());
  for (const rel of ['../x', 'a/../../x', '/etc/passwd', path.join(dir, 'elsewhere'), 'a\0b']) {
    t.throws(() => store.resolve(rel), { code: 'RCBS_UNSAFE_NAME' }, rel);
  }
  await t.rejects(store.writeFileAtomic('../escape.json', '{}'), { code: 'RCBS_UNSAFE_NAME' });
  t.same(readdirSync(dir), ['t']);
});

t.test('a targetDir that cannot be created is RCBS_TARGET_UNAVAILABLE (exit 4) naming the path and the OS error', async (t) => {
  const dir = t.testdir({ 'a-file': 'not a folder' });
  const err = await openStore({ targetDir: path.join(dir, 'a-file', 'target'), recordingFolderFormat: 'yyyy', log: silentLogger }).catch((e: unknown) => e);
  t.match(err, { code: 'RCBS_TARGET_UNAVAILABLE', exitCode: 4, message: /a-file.*ENOTDIR/ });
});

// safeName's shortcut for names with nothing to encode (src/store/names.ts PLAIN) must give
// exactly what the character loop gives: compared against a copy of that loop on names
// built from every kind of character (kept ones, dots at the ends, ones to encode, long).
t.test('safeName: plain names come back as they are, the same as the encoding loop would give', async (t) => {
  const KEPT = /^[A-Za-z0-9._@+=-]$/;
  const byLoop = (value: string) => [...value].map((ch, i, all) => (KEPT.test(ch) && !(ch === '.' && (i === 0 || i === all.length - 1)) ? ch : null));
  const alphabet = ['a', 'Z', '0', '.', '_', '-', '@', '+', '=', ' ', 'é', '%', '~', '#'];
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let compared = 0;
  for (let n = 0; n < 3000; n++) {
    const length = 1 + Math.floor(random() * (n % 10 === 0 ? 260 : 12));
    const value = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    let got: string;
    try {
      got = safeName(value, 'mediaId');
    } catch {
      continue; // only dots, a reserved name: refused either way
    }
    const loop = byLoop(value);
    if (loop.every((c) => c !== null) && value.length <= 200) {
      if (got !== value) t.fail(`${JSON.stringify(value)} became ${got}`);
    } else if (got === value) t.fail(`${JSON.stringify(value)} needed encoding or shortening but came back as it was`);
    compared++;
  }
  t.ok(compared > 2500, `${compared} names compared`);
  t.equal(safeName('CD9VL7RI6AJQIS60BT6FLLQT77SP26L6_2026-12-04_13-05-50-485C58F2-D24A9392-00000076.mp3', 'mediaId'), 'CD9VL7RI6AJQIS60BT6FLLQT77SP26L6_2026-12-04_13-05-50-485C58F2-D24A9392-00000076.mp3');
  t.equal(safeName('.hidden', 'mediaId'), '%2Ehidden', 'a dot first is still encoded');
  t.equal(safeName('end.', 'mediaId'), 'end%2E', 'a dot last too');
});
