// Pins `npm start` (node dist/demo.js) as a newcomer meets it: in an empty folder it
// starts the sandbox, backs it up into ./sandbox-backup/, verifies it and exits 0
// even though the sandbox's broken records are quarantined; the encrypted files,
// JSON, key (0600) and decrypted copies are where it says, the decrypted copies
// equal what the real openssl CLI makes of the .bin files, no sandbox secret is
// printed or written, and a second start skips everything.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { SANDBOX_DEFAULTS } from '../src/sandbox/index.js';
import { cleanEnv, ROOT, runCli } from './helpers/cli.js';
import { listFiles } from './helpers/backup-run.js';

const DEMO = path.join(ROOT, 'dist', 'demo.js');

function runDemo(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO, ...args], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('npm start: backup + verify of the sandbox, twice', async (t) => {
  const cwd = t.testdir();
  const first = await runDemo(cwd, ['--recordings', '20']);
  t.equal(first.code, 0, `exit 0\n${first.stdout}\n${first.stderr}`);
  t.match(first.stdout, /backup complete; verify passed/);
  t.match(first.stderr, /quarantined\s+[1-9]/, 'the broken records were quarantined, and that did not fail the run');
  t.match(first.stdout, /find --target \.\/sandbox-backup\/target/, 'it says what to try next');
  t.match(first.stdout, /decrypt \.\/sandbox-backup\/target --key \.\/sandbox-backup\/key\.pem/);

  const demoDir = path.join(cwd, 'sandbox-backup');
  const target = path.join(demoDir, 'target');
  const decrypted = path.join(demoDir, 'decrypted');
  const files = await listFiles(target);
  const bins = files.filter((p) => p.endsWith('.bin'));
  t.ok(bins.length >= 20, `${bins.length} media files`);
  t.ok(files.filter((p) => p.endsWith('.json')).length === 20, 'one JSON per good recording');
  t.same(await listFiles(decrypted), bins.map((p) => p.replace(/\.bin$/, '')).sort(), 'a decrypted copy of each');
  t.equal((await stat(path.join(demoDir, 'key.pem'))).mode & 0o777, 0o600, 'the key is owner-only');
  t.ok((await readFile(path.join(target, '.rcbs', 'quarantine.ndjson'), 'utf8')).length > 0);

  const sample = bins[0]!;
  const { stdout: plain } = await promisify(execFile)(
    'openssl', ['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', path.join(target, sample), '-inkey', path.join(demoDir, 'key.pem')],
    { encoding: 'buffer', maxBuffer: 1 << 26 },
  );
  t.ok((plain as Buffer).equals(await readFile(path.join(decrypted, sample.replace(/\.bin$/, '')))), 'the decrypted copy equals openssl cms -decrypt');

  const offline = await runCli(['verify', '--config', 'sandbox-backup/config.properties'], { cwd });
  t.equal(offline.code, 0, `the printed verify command works after the sandbox stopped\n${offline.stderr}`);

  for (const secret of [SANDBOX_DEFAULTS.gwsPassword]) {
    t.notOk(first.stdout.includes(secret) || first.stderr.includes(secret), 'the GWS password is not printed');
    for (const f of ['config.properties', 'sandbox.json']) t.notOk((await readFile(path.join(demoDir, f), 'utf8')).includes(secret), `nor written to ${f}`);
  }

  const second = await runDemo(cwd, ['--recordings', '20']);
  t.equal(second.code, 0, `second start exits 0\n${second.stderr}`);
  t.match(second.stderr, /downloaded\s+0 files/, 'nothing downloaded again');
  t.match(second.stderr, new RegExp(`skipped\\s+${bins.length}\\b`), 'every media skipped');
  t.same((await listFiles(target)).filter((p) => p.endsWith('.bin')), bins, 'the same files');
});
