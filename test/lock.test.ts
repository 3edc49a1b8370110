// Pins the targetDir lock (SPEC §5; the guide: "the second instance will
// terminate immediately if they share the same path"): a second instance fails
// at once with RCBS_LOCK_HELD (exit 3) naming the holder's pid and host; a lock
// whose holder is provably dead (same host, pid gone) is taken over with a
// warning; a lock from another host cannot be judged and is held; close()
// releases it. Two writers on one folder would corrupt the index.

import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../src/store/index.js';
import { createLogger, silentLogger } from '../src/log.js';
import type { RcbsError } from '../src/errors.js';
import { collect } from './helpers/async.js';

const open = (targetDir: string, log = silentLogger) => openStore({ targetDir, recordingFolderFormat: 'yyyy', log });

t.test('a second instance on the same folder fails at once, naming pid and host; close releases', async (t) => {
  const dir = t.testdir();
  const first = await open(dir);
  const lockFile = path.join(dir, '.rcbs', 'lock');
  t.match(JSON.parse(readFileSync(lockFile, 'utf8')), { pid: process.pid, host: os.hostname(), startedAt: Number });

  const err = (await open(dir).catch((e: unknown) => e)) as RcbsError;
  t.equal(err.code, 'RCBS_LOCK_HELD');
  t.equal(err.exitCode, 3);
  t.match(err.message, new RegExp(`pid ${process.pid} on host ${os.hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  t.match(err.message, /delete .*lock/, 'says what to do');
  t.ok(existsSync(lockFile), 'the refused instance did not touch the lock');

  await first.close();
  t.notOk(existsSync(lockFile), 'close() removes the lock');
  const again = await open(dir);
  await again.close();
});

t.test('a stale lock (same host, dead pid) is taken over with a warning naming the old pid', async (t) => {
  const dir = t.testdir({ '.rcbs': {} });
  const child = spawn(process.execPath, ['-e', '']);
  const deadPid = child.pid!;
  await once(child, 'exit');
  writeFileSync(path.join(dir, '.rcbs', 'lock'), JSON.stringify({ pid: deadPid, host: os.hostname(), startedAt: 1 }));

  const lines: string[] = [];
  const store = await open(dir, createLogger({ write: (l) => lines.push(l) }));
  t.teardown(() => store.close());
  t.match(lines.join('\n'), new RegExp(`warn: took over a stale lock.*pid=${deadPid}`));
  t.match(JSON.parse(readFileSync(path.join(dir, '.rcbs', 'lock'), 'utf8')), { pid: process.pid });
});

t.test('a lock held by another live process on this host is held until that process dies', async (t) => {
  const dir = t.testdir({ '.rcbs': {} });
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  t.teardown(() => holder.kill('SIGKILL'));
  await once(holder, 'spawn');
  writeFileSync(path.join(dir, '.rcbs', 'lock'), JSON.stringify({ pid: holder.pid, host: os.hostname(), startedAt: Date.now() }));
  await t.rejects(open(dir), { code: 'RCBS_LOCK_HELD', message: new RegExp(`pid ${holder.pid} .*that process is running`) });

  holder.kill('SIGKILL');
  await once(holder, 'exit');
  const store = await open(dir);
  await store.close();
});

t.test('a lock from another host, or an unreadable one, counts as held', async (t) => {
  const dir = t.testdir({ '.rcbs': { lock: JSON.stringify({ pid: 1, host: 'some-other-host.example', startedAt: 1 }) } });
  await t.rejects(open(dir), { code: 'RCBS_LOCK_HELD', message: /pid 1 on host some-other-host\.example.*another host/ });
  writeFileSync(path.join(dir, '.rcbs', 'lock'), 'garbage');
  await t.rejects(open(dir), { code: 'RCBS_LOCK_HELD', message: /unreadable/ });
  t.equal(readFileSync(path.join(dir, '.rcbs', 'lock'), 'utf8'), 'garbage', 'left as it was');
});

t.test('read-only opens take no lock and write nothing', async (t) => {
  const dir = t.testdir();
  const writer = await open(dir);
  t.teardown(() => writer.close());
  const reader = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy', log: silentLogger, readOnly: true });
  await t.rejects(reader.writeFileAtomic('T/x.json', '{}'), { code: 'RCBS_STORE_IO' });
  await t.rejects(reader.recordMedia({ recordingId: 'r', mediaId: 'm', path: 'T/m.bin', size: 1, md5: '', completedAt: 1 }), { code: 'RCBS_STORE_IO' });
  await reader.close();
  t.ok(existsSync(path.join(dir, '.rcbs', 'lock')), 'the writer still holds its lock');
  // A dry run on a new install: an empty store, and the folder is not created.
  const empty = await openStore({ targetDir: path.join(dir, 'missing'), recordingFolderFormat: 'yyyy', log: silentLogger, readOnly: true });
  t.equal((await collect(empty.allMedia())).length, 0);
  await empty.close();
  t.notOk(existsSync(path.join(dir, 'missing')));
});
