// Pins the cross-host stale-lock rule (issue 5): a Kubernetes pod killed on a
// persistent volume leaves `.rcbs/lock` naming another hostname, which the pid
// rule cannot judge. The holder therefore refreshes the lock file's mtime every
// LOCK_REFRESH_MS; a lock from another host untouched for longer than
// LOCK_STALE_MS is taken over with a warning naming the old holder, a fresher one
// is still held (exit 3 through the CLI). Without this, one killed pod would
// block its volume forever; with a too-eager rule, two pods would share a folder.

import t from 'tap';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { acquireLock, LOCK_REFRESH_MS, LOCK_STALE_MS } from '../src/store/lock.js';
import { openStore } from '../src/store/index.js';
import { createLogger, silentLogger } from '../src/log.js';
import { runCli } from './helpers/cli.js';
import { cliEnv } from './helpers/backup-state.js';

const OTHER = { pid: 4242, host: 'rcbs-backup-0-x7k2p', startedAt: 1_700_000_000_000 };

function lockDir(t: { testdir(fixture: { '.rcbs': { lock: string } }): string }): { dir: string; lock: string } {
  const dir = t.testdir({ '.rcbs': { lock: JSON.stringify(OTHER) + '\n' } });
  return { dir, lock: path.join(dir, '.rcbs', 'lock') };
}

function ageLock(lock: string, ageMs: number): void {
  const when = new Date(Date.now() - ageMs);
  utimesSync(lock, when, when);
}

t.test('the documented periods: refresh every 30 s, stale after 10 minutes (20 missed refreshes)', async (t) => {
  t.equal(LOCK_REFRESH_MS, 30_000);
  t.equal(LOCK_STALE_MS, 600_000);
  t.ok(LOCK_STALE_MS / LOCK_REFRESH_MS >= 10, 'many refreshes must be missed before a lock is judged stale');
});

t.test('another host, mtime older than the staleness period: taken over with a warning naming the old holder', async (t) => {
  const { dir, lock } = lockDir(t);
  ageLock(lock, LOCK_STALE_MS + 60_000);
  const lines: string[] = [];
  const store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: createLogger({ write: (l) => lines.push(l) }) });
  t.teardown(() => store.close());
  const warning = lines.join('\n');
  t.match(warning, /warn: took over a stale lock: it was taken on another host and not refreshed for 11 minutes/);
  t.match(warning, /pid=4242/);
  t.match(warning, /host=rcbs-backup-0-x7k2p/);
  t.match(JSON.parse(readFileSync(lock, 'utf8')), { pid: process.pid, host: os.hostname() }, 'the lock is ours now');
});

t.test('another host, refreshed recently (just under the period): still held, naming holder and age', async (t) => {
  const { dir, lock } = lockDir(t);
  ageLock(lock, LOCK_STALE_MS - 60_000);
  await t.rejects(openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger }), {
    code: 'RCBS_LOCK_HELD',
    message: /pid 4242 on host rcbs-backup-0-x7k2p.*another host and refreshed \d+ s ago.*10 minutes/,
  });
  t.same(JSON.parse(readFileSync(lock, 'utf8')), OTHER, 'a held lock is left untouched');
});

t.test('through the CLI: a fresh foreign lock exits 3; once stale, the run takes it over', async (t) => {
  const { dir, lock } = lockDir(t);
  // A one-recording GWS: the store (and its lock) opens when the first record reaches it.
  const recording = { id: 'R1', startTime: '2024-03-05T10:20:30.000+0000', stopTime: '2024-03-05T10:25:30.000+0000', mediaFiles: [{ mediaId: 'M1', type: 'audio/mp3', tenant: 'T' }] };
  const STOP = Date.parse('2024-03-05T10:25:30.000Z');
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const inWindow = Number(query.get('startTime')) <= STOP && STOP < Number(query.get('endTime')) && query.get('offset') === '0';
    if (req.url?.includes('/recordings')) res.end(JSON.stringify({ statusCode: 0, recordings: inWindow ? [recording] : [] }));
    else res.end(JSON.stringify({ statusCode: 0, settings: { s3: { bucket: 'b', region: 'us-east-1', keyPrefix: '' } } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const config = path.join(dir, 'config.properties');
  writeFileSync(config, `gwsUriPrefix = http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2\ntargetDir = ${dir}\nmetadataOnly = true\nmaxDate = 2024-03-01\nminDate = 2024-03-10\n`);
  const env = cliEnv({ GWS_USERNAME: 'u', GWS_PASSWORD: 'p' });
  const held = await runCli(['run', 'backup', '--config', config], { env });
  t.equal(held.code, 3, held.stderr);
  t.match(held.stderr, /RCBS_LOCK_HELD/);
  t.match(held.stderr, /pid 4242 on host rcbs-backup-0-x7k2p/);
  t.notMatch(held.stderr, /\n\s+at /, 'no stack trace');

  ageLock(lock, 2 * LOCK_STALE_MS);
  const taken = await runCli(['run', 'backup', '--config', config], { env });
  t.equal(taken.code, 0, taken.stderr);
  t.match(taken.stderr, /took over a stale lock.*rcbs-backup-0-x7k2p/);
  t.notMatch(taken.stderr, /\n\s+at /, 'no stack trace');
});

t.test('the holder refreshes the mtime while it holds the lock, and stops after release', async (t) => {
  const dir = t.testdir({ '.rcbs': {} });
  const lock = path.join(dir, '.rcbs', 'lock');
  const held = await acquireLock(lock, dir, silentLogger, 40);
  ageLock(lock, LOCK_STALE_MS + 60_000);
  const aged = statSync(lock).mtimeMs;
  const deadline = Date.now() + 5_000;
  while (statSync(lock).mtimeMs === aged && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.ok(Date.now() - statSync(lock).mtimeMs < 5_000, 'the mtime was brought back to now by the refresh timer');

  await held.release();
  writeFileSync(lock, JSON.stringify(OTHER));
  ageLock(lock, LOCK_STALE_MS + 60_000);
  const before = statSync(lock).mtimeMs;
  await new Promise((r) => setTimeout(r, 200)); // several refresh periods: nothing may touch a lock no longer ours
  t.equal(statSync(lock).mtimeMs, before, 'a released lock (now someone else’s) is not refreshed');
});

t.test('the same-host dead-pid rule still holds: a fresh lock of a dead local pid is taken over at once', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const dir = t.testdir({ '.rcbs': { lock: JSON.stringify({ pid: Number(dead.stdout), host: os.hostname(), startedAt: Date.now() }) } });
  const lines: string[] = [];
  const store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: createLogger({ write: (l) => lines.push(l) }) });
  t.teardown(() => store.close());
  t.match(lines.join('\n'), /took over a stale lock: its holder is no longer running/);
});
