// Pins issue 13's "clean interrupts everywhere" and SPEC §7 ("plaintext is never
// left in a temp file"): each command that writes gets SIGINT or SIGTERM while a
// file is in progress, exits 130, and leaves no temp file: the file in progress is
// finished or removed, nothing half-written has a final name. Before, `rcbs
// decrypt <folder>` died at once on Ctrl-C and left its plaintext `.tmp` (0600) in
// the output folder, and a later run did not remove it; now a later run removes a
// temp file whose writer is gone (the only way to leave one is SIGKILL).
//
// "Mid-file" is a real event, never a sleep: the child's open file descriptors in
// /proc/<pid>/fd show the temp file being written (or, for verify, the .bin being
// read with its offset inside the file). For `rcbs decrypt <file>` the input is a
// FIFO fed half of a ciphertext, so the signal surely lands mid-file.
import t from 'tap';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createEncryptStream } from '../src/cms/encrypt.js';
import { generateIdentity } from '../src/cms/identity.js';
import { startSandbox } from '../src/sandbox/index.js';
import { CLI, runCli, type CliResult } from './helpers/cli.js';
import { backupState, cliEnv, sandboxBackup, walk } from './helpers/backup-state.js';

/** What the process has open under `dir` whose name matches `name`, with the offset of its descriptor. */
function openFiles(pid: number, dir: string, name: RegExp): Array<{ file: string; pos: number }> {
  const found: Array<{ file: string; pos: number }> = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return found;
  }
  for (const fd of fds) {
    try {
      const file = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (!file.startsWith(dir + path.sep) || !name.test(path.basename(file))) continue;
      const pos = Number(/^pos:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1] ?? 0);
      found.push({ file, pos });
    } catch {
      // closed meanwhile
    }
  }
  return found;
}

/** Polls (every 2 ms: a decrypt of tens of MiB takes a few hundred ms) until `check` returns a value. */
async function when<T>(what: string, check: () => T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): { child: ChildProcess; done: Promise<CliResult>; stderrMatches(re: RegExp): Promise<void> } {
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of waiters.filter((w) => w.re.test(stderr))) w.resolve();
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const stderrMatches = (re: RegExp) => new Promise<void>((resolve) => (re.test(stderr) ? resolve() : waiters.push({ re, resolve })));
  return { child, done, stderrMatches };
}

const TEMP = /\.tmp$/;
const identity = generateIdentity();

/** A CMS file (BER, like openssl -stream) of `size` plaintext bytes, and the plaintext's first bytes pattern. */
async function encryptedFile(file: string, size: number): Promise<void> {
  const { certPem } = await identity;
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
  async function* plain() {
    for (let left = size; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
  }
  await pipeline(Readable.from(plain()), createEncryptStream({ certificates: [certPem] }), createWriteStream(file));
}

async function keyFile(dir: string): Promise<string> {
  const key = path.join(dir, 'key.pem');
  writeFileSync(key, (await identity).keyPem, { mode: 0o600 });
  return key;
}

t.test('rcbs decrypt <file>: SIGINT mid-file removes the plaintext temp file, exit 130', async (t) => {
  const dir = t.testdir({ out: {} });
  const key = await keyFile(dir);
  const whole = path.join(dir, 'whole.bin');
  await encryptedFile(whole, 4 << 20);
  const fifo = path.join(dir, 'call.bin');
  execFileSync('mkfifo', [fifo]);
  const out = path.join(dir, 'out');
  const { child, done, stderrMatches } = spawnCli(['decrypt', fifo, '--key', key, '--out', out], cliEnv());
  // Half of the ciphertext goes in; the rest never comes: the decrypt waits mid-file.
  const writer = await open(fifo, 'w');
  const bytes = readFileSync(whole);
  await writer.write(bytes.subarray(0, bytes.length >> 1));
  const temp = await when('the temp file to hold plaintext', () => walk(out).find((f) => TEMP.test(f) && statSync(f).size > 0));
  t.equal(statSync(temp).mode & 0o777, 0o600, 'the temp file is owner-only');
  child.kill('SIGINT');
  // Once the signal is taken, end the input: a read blocked on the FIFO would keep the process from exiting.
  await stderrMatches(/SIGINT received/);
  await writer.close();
  const run = await done;
  t.equal(run.code, 130, run.stderr);
  t.same(walk(out), [], 'nothing left in the output folder: no temp file, no final file');
  t.match(run.stderr, /interrupted, its partial output was removed/);
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
});

t.test('rcbs decrypt <folder>: SIGTERM mid-file finishes or removes each file; a SIGKILLed temp is removed by the next run', async (t) => {
  const dir = t.testdir({ enc: { a: {}, b: {} }, out: {} });
  const key = await keyFile(dir);
  const names = ['a/one.bin', 'a/two.bin', 'b/three.bin'];
  for (const name of names) await encryptedFile(path.join(dir, 'enc', name), 48 << 20);
  const out = path.join(dir, 'out');
  const expected = readFileSync(path.join(dir, 'enc', 'a/one.bin')).length; // ciphertext size (> plaintext)

  const { child, done } = spawnCli(['decrypt', path.join(dir, 'enc'), '--key', key, '--out', out], cliEnv());
  const writing = await when('a temp file half written', () => openFiles(child.pid!, out, TEMP).find((f) => f.pos > 0));
  child.kill('SIGTERM');
  const run = await done;
  t.comment(`SIGTERM with ${path.basename(writing.file)} at byte ${writing.pos}`);
  t.equal(run.code, 130, run.stderr);
  const left = walk(out).map((f) => path.relative(out, f));
  t.same(left.filter((f) => TEMP.test(f)), [], 'no temp file left');
  for (const f of left) t.equal(statSync(path.join(out, f)).size, 48 << 20, `${f}: a final file is whole`);
  t.ok(left.length < names.length, `stopped early: ${left.length} of ${names.length} decrypted`);
  t.ok(expected > 48 << 20);

  // SIGKILL cannot be caught: the plaintext temp file stays, until the next run into that folder.
  const killed = spawnCli(['decrypt', path.join(dir, 'enc'), '--key', key, '--out', out], cliEnv());
  const stale = await when('a temp file being written', () => openFiles(killed.child.pid!, out, TEMP)[0]);
  killed.child.kill('SIGKILL');
  await killed.done;
  t.ok(existsSync(stale.file), 'SIGKILL left a temp file');
  const rerun = await runCli(['decrypt', path.join(dir, 'enc'), '--key', key, '--out', out], { env: cliEnv() });
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, /removed a temp file an interrupted decrypt left behind/);
  t.notOk(existsSync(stale.file), 'the stale temp file is removed');
  t.same(walk(out).map((f) => path.relative(out, f)).sort(), ['a/one', 'a/two', 'b/three'], 'only final files remain');
});

t.test('a backup with decryptDir: SIGTERM mid-decrypt, then verify --key: SIGINT mid-file; nothing left', async (t) => {
  const size = 40 << 20;
  const sandbox = await startSandbox({ recordings: 3, oddities: false, seed: 71, maxSegments: 1, mediaSize: size });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  const key = path.join(dir, 'key.pem');
  writeFileSync(key, sandbox.keyPem, { mode: 0o600 });
  const decryptDir = path.join(dir, 'decrypted');
  const { targetDir, config, env } = sandboxBackup(dir, sandbox, { decryptDir, decryptKey: key, numThreads: 1 });

  const backup = spawnCli(['-config', config], env);
  const writing = await when('a decrypt temp file half written', () => openFiles(backup.child.pid!, decryptDir, TEMP).find((f) => f.pos > 0));
  backup.child.kill('SIGTERM');
  const run = await backup.done;
  t.comment(`SIGTERM with ${path.basename(writing.file)} at byte ${writing.pos}`);
  t.equal(run.code, 130, run.stderr.slice(-1500));
  t.same(walk(decryptDir).filter((f) => TEMP.test(f)), [], 'no decrypt temp file left');
  for (const f of walk(decryptDir)) t.equal(statSync(f).size, size, `${path.basename(f)}: a decrypted file is whole`);
  t.same(backupState(targetDir, sandbox).temps, [], 'no download temp file left');
  t.same(backupState(targetDir, sandbox).problems, []);

  const complete = await runCli(['-config', config], { env });
  t.equal(complete.code, 0, complete.stderr.slice(-1500));
  // Run reports (.rcbs/runs/) are the one thing a verify adds.
  const files = () => walk(dir).filter((f) => !f.includes(`${path.sep}.rcbs${path.sep}runs${path.sep}`)).sort();
  const before = files();

  const verify = spawnCli(['verify', '--config', config, '--key', key], env);
  const reading = await when('verify to be inside a media file', () =>
    openFiles(verify.child.pid!, targetDir, /\.bin$/).find((f) => f.pos > 0 && f.pos < statSync(f.file).size),
  );
  verify.child.kill('SIGINT');
  const checked = await verify.done;
  t.comment(`SIGINT with ${path.basename(reading.file)} at byte ${reading.pos}`);
  t.equal(checked.code, 130, checked.stderr.slice(-1500));
  t.same(files(), before, 'verify --key wrote nothing, left nothing');
});

t.test('metadata-export (json-writer): SIGINT while JSON files are written leaves no temp file and only whole JSON', async (t) => {
  const sandbox = await startSandbox({ recordings: 3000, oddities: false, seed: 72, media: false });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  const { targetDir, config, env } = sandboxBackup(dir, sandbox);
  const run = spawnCli(['run', 'metadata-export', '--config', config], env);
  await when('the first JSON files', () => (walk(targetDir).filter((f) => f.endsWith('.json')).length >= 20 ? true : undefined));
  run.child.kill('SIGINT');
  const done = await run.done;
  t.equal(done.code, 130, done.stderr.slice(-1500));
  const files = walk(targetDir);
  t.same(files.filter((f) => f.endsWith('.part')), [], 'no temp file left');
  const jsons = files.filter((f) => f.endsWith('.json') && !f.includes(`${path.sep}.rcbs${path.sep}`));
  t.ok(jsons.length > 0 && jsons.length < 3000, `stopped early with ${jsons.length} JSON files`);
  let whole = 0;
  for (const f of jsons) {
    try {
      JSON.parse(readFileSync(f, 'utf8'));
      whole++;
    } catch {
      t.fail(`${f} is not whole JSON`);
    }
  }
  t.equal(whole, jsons.length, 'every JSON file parses');
});
