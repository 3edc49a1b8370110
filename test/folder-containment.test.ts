// Pins the one folder-containment check (src/cms/paths.ts isInside) that keeps decrypted
// plaintext out of the encrypted backup (SPEC §5): the config's decryptDir/targetDir rule,
// the decrypt sink and `rcbs decrypt` share it. Two copies used to disagree: one compared
// string prefixes, the other took any relative path starting with ".." as outside, so a
// folder named "..notes" inside targetDir passed as outside. Cases are by path segment,
// per platform (Windows and macOS ignore letter case, Windows takes either slash).

import t from 'tap';
import { isInside } from '../src/cms/paths.js';
import { loadConfig } from '../src/config/load.js';

t.test('inside means the same folder or below it, by path segments', async (t) => {
  const rows: Array<[string, string, NodeJS.Platform, boolean]> = [
    ['/data', '/data', 'linux', true],
    ['/data/', '/data', 'linux', true],
    ['/data/plain', '/data', 'linux', true],
    ['/data/a/b/c', '/data/', 'linux', true],
    ['/data2', '/data', 'linux', false],
    ['/data2/plain', '/data', 'linux', false],
    ['/dat', '/data', 'linux', false],
    ['/', '/data', 'linux', false],
    ['/data', '/', 'linux', true],
    ['/data/..notes', '/data', 'linux', true],
    ['/data/../data2', '/data', 'linux', false],
    ['/Data/plain', '/data', 'linux', false],
    ['/Data/plain', '/data', 'darwin', true],
    ['C:/Backup/plain', 'c:/backup', 'win32', true],
    ['C:\\backup\\plain', 'C:/backup', 'win32', true],
    ['C:/backup2', 'C:/backup', 'win32', false],
    ['D:/backup', 'C:/backup', 'win32', false],
    ['//server/share/backup/plain', '//server/share/backup', 'win32', true],
    ['//server/share/backup2', '//server/share/backup', 'win32', false],
  ];
  for (const [child, parent, platform, expected] of rows) {
    t.equal(isInside(child, parent, platform), expected, `${child} inside ${parent} on ${platform}: ${expected}`);
  }
});

t.test('the config refuses decryptDir inside targetDir and accepts a sibling with a longer name', async (t) => {
  const load = (targetDir: string, decryptDir: string) => loadConfig({ env: {}, sets: [`targetDir=${targetDir}`, `decryptDir=${decryptDir}`] });
  await t.rejects(load('/data/backup', '/data/backup/..plain'), { code: 'RCBS_CONFIG_INVALID', message: /decryptDir/ });
  await t.rejects(load('/data/backup/plain', '/data/backup'), { code: 'RCBS_CONFIG_INVALID', message: /decryptDir/ });
  const { config } = await load('/data/backup', '/data/backup2');
  t.equal(config.decryptDir, '/data/backup2');
});
