// Pins that the package works as shipped, the way the Dockerfile builds the image
// (issue 13: there is no Docker engine here, so these are the Dockerfile's own
// steps without it): `npm pack` of the built tree, the tarball unpacked into a
// clean folder with package-lock.json, `npm ci --omit=dev` (production
// dependencies only, from the npm cache), `rcbs` reached through a symlink as
// /usr/local/bin/rcbs is in the image. Then `rcbs --version`, `rcbs sandbox`, a
// backup of it and `verify --key`, all from that install: proof that package.json's
// "files" ships everything needed at run time (dist/, pipelines/, schemas/) and
// that nothing at run time needs a dev dependency. Takes ~25 s (npm ci ~14 s).
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, cleanEnv } from './helpers/cli.js';

const run = promisify(execFile);

t.test('npm pack → npm ci --omit=dev → rcbs --version, sandbox backup, verify', async (t) => {
  const dir = t.testdir({ pack: {}, app: {}, bin: {}, sandbox: {} });
  const env = cleanEnv({ NODE_OPTIONS: '' });
  const started = Date.now();
  await run('npm', ['pack', '--pack-destination', path.join(dir, 'pack'), '--silent'], { cwd: ROOT, env });
  const [tarball] = readdirSync(path.join(dir, 'pack'));
  t.match(tarball, /^rcbs-.*\.tgz$/);

  const app = path.join(dir, 'app');
  await run('tar', ['-xzf', path.join(dir, 'pack', tarball!), '--strip-components=1', '-C', app]);
  for (const needed of ['dist/cli.js', 'pipelines/backup.json', 'schemas', 'package.json']) t.ok(existsSync(path.join(app, needed)), `the package ships ${needed}`);
  t.notOk(existsSync(path.join(app, 'src')), 'no TypeScript sources');
  t.notOk(existsSync(path.join(app, 'test')), 'no tests');
  copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(app, 'package-lock.json'));
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, env, maxBuffer: 1 << 24 });
  t.notOk(existsSync(path.join(app, 'node_modules', 'typescript')), 'no dev dependency installed');
  chmodSync(path.join(app, 'dist', 'cli.js'), 0o755);
  const rcbs = path.join(dir, 'bin', 'rcbs');
  symlinkSync(path.join(app, 'dist', 'cli.js'), rcbs);
  t.comment(`packed and installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const version = await run(rcbs, ['--version'], { env });
  t.equal(version.stdout.trim(), (await import('../package.json', { with: { type: 'json' } })).default.version, 'rcbs --version through the symlink');

  // `rcbs sandbox` from the install: ready when it prints its last line; Ctrl-C stops it.
  const sandboxDir = path.join(dir, 'sandbox');
  const sandbox = spawn(rcbs, ['sandbox', '--dir', sandboxDir, '--recordings', '6'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (sandbox.exitCode === null) sandbox.kill('SIGKILL');
  });
  let printed = '';
  await new Promise<void>((resolve, reject) => {
    sandbox.on('exit', (code) => reject(new Error(`the sandbox exited ${code}`)));
    sandbox.stdout.setEncoding('utf8').on('data', (d: string) => {
      printed += d;
      if (printed.includes('Ctrl-C stops the sandbox')) resolve();
    });
  });
  const sandboxEnv: NodeJS.ProcessEnv = { ...env };
  for (const [, key, value] of printed.matchAll(/^export (\w+)=(.*)$/gm)) sandboxEnv[key!] = value!.replace(/^'(.*)'$/, '$1');
  const config = path.join(sandboxDir, 'config.properties');

  const backup = await run(rcbs, ['-config', config, '--set', `decryptDir=${path.join(sandboxDir, 'decrypted')}`, '--set', `decryptKey=${path.join(sandboxDir, 'key.pem')}`], { env: sandboxEnv, cwd: dir }).catch((e: { code: number; stderr: string }) => e);
  t.equal('code' in backup ? backup.code : 0, 0, 'the backup from the install exits 0');
  t.match(backup.stderr, /rcbs backup: finished in[^]*downloaded\s+[1-9]\d* files[^]*decrypted\s+[1-9]/, 'downloaded and decrypted');
  const verify = await run(rcbs, ['verify', '--config', config, '--key', path.join(sandboxDir, 'key.pem')], { env: sandboxEnv, cwd: dir });
  t.match(verify.stderr, /rcbs verify: finished in/, 'verify --key passes');

  sandbox.kill('SIGINT');
  t.equal(await new Promise((resolve) => sandbox.on('close', resolve)), 0, 'the sandbox stops on Ctrl-C');
});
