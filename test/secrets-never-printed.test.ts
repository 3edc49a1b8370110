// Pins SPEC §2 "Secrets never appear in logs, errors, NDJSON or files" across every
// command (issue 5): run backup (with decrypt through a passphrase-protected key),
// run metadata-export --ndjson, validate, verify --key, decrypt --key, find,
// pipelines, sandbox, -config with a bad config, a GWS answering 401 and an S3
// refusing the signature, all at --log-level debug where the command takes it,
// with distinctive values in GWS_PASSWORD, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN and RCBS_KEY_PASSPHRASE. Every stdout, stderr and every file
// written under the temp folders is searched for each value, and for the base64
// of user:password that HTTP Basic sends (which would leak the password too).

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startSandbox } from '../src/sandbox/index.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { cliEnv } from './helpers/backup-state.js';

const GWS_USER = 'backup-operator@tenant.example';
const SECRETS = {
  gwsPassword: 'gws-PW-7f1e9a-do-not-leak',
  wrongGwsPassword: 'gws-WRONG-c0ffee-do-not-leak',
  awsSecret: 'awsSECRETq9Z8y7X6w5V4u3T2s1R0-do-not-leak',
  wrongAwsSecret: 'awsWRONGSECRETa1b2c3d4e5-do-not-leak',
  sessionToken: 'FwoGZXIvYXdzEBsaDSESSIONTOKEN-do-not-leak',
  passphrase: 'key-passphrase-5e5e5e-do-not-leak',
};

function needles(): Map<string, string> {
  const out = new Map<string, string>(Object.entries(SECRETS));
  out.set('basic(user:gwsPassword)', Buffer.from(`${GWS_USER}:${SECRETS.gwsPassword}`).toString('base64'));
  out.set('basic(user:wrongGwsPassword)', Buffer.from(`${GWS_USER}:${SECRETS.wrongGwsPassword}`).toString('base64'));
  // The middle of each secret too, in case it is shown truncated or quoted.
  for (const [name, value] of Object.entries(SECRETS)) out.set(`${name} (fragment)`, value.slice(4, 20));
  return out;
}

function filesUnder(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(full, out);
    else if (statSync(full).size < 20_000_000) out.push(full);
  }
  return out;
}

t.test('no secret in any output or file of any command', async (t) => {
  const sandbox = await startSandbox({ recordings: 6, oddities: true, seed: 41, gwsUsername: GWS_USER, gwsPassword: SECRETS.gwsPassword, awsSecretAccessKey: SECRETS.awsSecret });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  const targetDir = path.join(dir, 'target');
  const decryptDir = path.join(dir, 'decrypted');
  const encryptedKey = path.join(dir, 'key-encrypted.pem');
  execFileSync('openssl', ['pkey', '-in', sandbox.keyPath, '-aes256', '-passout', `pass:${SECRETS.passphrase}`, '-out', encryptedKey]);
  t.match(readFileSync(encryptedKey, 'utf8'), /ENCRYPTED PRIVATE KEY/);
  const config = path.join(dir, 'config.properties');
  writeFileSync(config, sandbox.configProperties(targetDir, { decryptDir, decryptKey: encryptedKey }));
  const badConfig = path.join(dir, 'bad.properties');
  writeFileSync(badConfig, `gwsUriPrefix = ${sandbox.gwsUrl}\ntargetDir = ${targetDir}\nmaxAge = forever\nnumThreads = -3\n`);

  const env = cliEnv({ ...sandbox.env(), AWS_SESSION_TOKEN: SECRETS.sessionToken, RCBS_KEY_PASSPHRASE: SECRETS.passphrase });
  const debug = ['--log-level', 'debug'];
  const results: [string, CliResult][] = [];
  const run = async (name: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, input?: string) => {
    const started = Date.now();
    const result = await runCli(args, { env: { ...env, ...extraEnv }, cwd: dir, ...(input !== undefined ? { input } : {}) });
    t.comment(`${name}: exit ${result.code} in ${Date.now() - started} ms`);
    results.push([name, result]);
    return result;
  };

  t.equal((await run('run backup', [...debug, 'run', 'backup', '--config', config])).code, 0, 'backup (with decrypt through the encrypted key) works');
  // The others read the backup or write their own folders: run them side by side.
  const [exported, validated, verified, decrypted, found, listed, badConfigRun, wrongKey, unauthorized, refused] = await Promise.all([
    run('run metadata-export --ndjson', [...debug, 'run', 'metadata-export', '--config', config, '--set', `targetDir=${path.join(dir, 'export')}`, '--ndjson']),
    run('validate', [...debug, 'validate', 'backup', '--config', config]),
    run('verify --key', [...debug, 'verify', '--config', config, '--key', encryptedKey]),
    run('decrypt --key', [...debug, 'decrypt', targetDir, '--key', encryptedKey, '--out', path.join(dir, 'decrypt-cmd')]),
    run('find', [...debug, 'find', '--target', targetDir]),
    run('pipelines', [...debug, 'pipelines']),
    run('-config bad config', ['-config', badConfig]),
    run('decrypt with a wrong passphrase', [...debug, 'decrypt', targetDir, '--key', encryptedKey, '--out', path.join(dir, 'decrypt-wrong')], { RCBS_KEY_PASSPHRASE: SECRETS.wrongGwsPassword }),
    run('GWS answers 401', [...debug, 'run', 'backup', '--config', config, '--set', `targetDir=${path.join(dir, 't401')}`], { GWS_PASSWORD: SECRETS.wrongGwsPassword }),
    run('S3 refuses the signature', [...debug, 'run', 'backup', '--config', config, '--set', `targetDir=${path.join(dir, 't403')}`], { AWS_SECRET_ACCESS_KEY: SECRETS.wrongAwsSecret }),
  ]);
  for (const [name, result] of [['metadata-export', exported], ['validate', validated], ['verify', verified], ['decrypt', decrypted], ['find', found], ['pipelines', listed]] as const) t.equal(result.code, 0, `${name} works\n${result.stderr.slice(-500)}`);
  t.ok(found.stdout.length > 0 && exported.stdout.length > 0, 'find and --ndjson printed records');
  t.equal(badConfigRun.code, 2, 'a bad config is exit 2');
  t.equal(wrongKey.code, 2, 'a wrong passphrase is a key error');
  t.equal(unauthorized.code, 2, 'GWS 401 is a credentials error');
  t.match(unauthorized.stderr, /RCBS_GWS_AUTH/);
  t.equal(refused.code, 2, 'S3 refusing the signature is a credentials error: the run stops');
  t.match(refused.stderr, /RCBS_S3_AUTH[^\n]*SignatureDoesNotMatch|SignatureDoesNotMatch[^\n]*RCBS_S3_AUTH/);

  // `rcbs sandbox` briefly: it prints its own made-up credentials, never the caller's.
  const sandboxDir = path.join(dir, 'sandbox-cmd');
  const sandboxRun = await runCli([...debug, 'sandbox', '--port', '0', '--recordings', '1', '--dir', sandboxDir], {
    env,
    cwd: dir,
    onSpawn: (child) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/gwsUriPrefix|export /.test(out)) child.kill('SIGINT');
      });
    },
  });
  results.push(['sandbox', sandboxRun]);
  t.equal(sandboxRun.code, 0, `sandbox started and stopped on Ctrl-C\n${sandboxRun.stderr.slice(-500)}`);

  const files = filesUnder(dir);
  t.ok(files.some((f) => f.endsWith('.bin')) && files.some((f) => f.startsWith(decryptDir)), `${files.length} files written, media and decrypted copies among them`);
  for (const [label, needle] of needles()) {
    for (const [name, result] of results) {
      t.notOk(result.stdout.includes(needle), `${name}: stdout has no ${label}`);
      t.notOk(result.stderr.includes(needle), `${name}: stderr has no ${label}`);
    }
    const leaking = files.filter((f) => !f.endsWith('key-encrypted.pem') && readFileSync(f).includes(needle));
    t.same(leaking, [], `no file holds ${label}`);
  }
});
