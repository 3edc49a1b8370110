// Pins the `decrypt` sink (SPEC §5, §6): media on disk (downloaded or skipped) is
// decrypted to <decryptDir>/<same folders>/<mediaId>, recorded in media.decrypted;
// an existing decrypted file is left alone; a file that fails marks its record
// failed with the code while the other records go on, in order; a metadata size
// that differs from the plaintext is a warning; decryptDir inside targetDir is a
// config error; without decryptDir records pass untouched.

import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import _ from 'highland';
import decryptSink from '../src/sinks/decrypt.js';
import { createRunContext } from '../src/pipeline/context.js';
import { componentEvents, tallyRun } from '../src/pipeline/outcome.js';
import { configWith } from '../src/config/defaults.js';
import { createLogger } from '../src/log.js';
import { newRecord, type PipelineRecord } from '../src/pipeline/types.js';
import type { RcbsConfig } from '../src/config/types.js';

const run = promisify(execFile);
const dir = t.testdir({ target: { t1: { day: {} } } });
const at = (...p: string[]) => path.join(dir, ...p);

t.before(async () => {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('key.pem'), '-out', at('cert.pem'), '-subj', '/CN=sink', '-days', '2']);
  for (const id of ['a', 'b', 'c']) {
    await writeFile(at('plain'), `media ${id}`);
    await run('openssl', ['cms', '-encrypt', '-binary', '-aes-128-cbc', '-outform', 'DER', '-in', at('plain'), '-out', at('target', 't1', 'day', `${id}.bin`), at('cert.pem')]);
  }
  await writeFile(at('target', 't1', 'day', 'bad.bin'), Buffer.from('30030401', 'hex'));
});

function record(id: string, mediaId: string, status: 'downloaded' | 'skipped', size?: number): PipelineRecord {
  const r = newRecord({ id, mediaFiles: [{ mediaId, size }] });
  r.status = 'done';
  r.media = [{ mediaId, status, path: `t1/day/${mediaId}.bin` }];
  return r;
}

async function runSink(config: Partial<RcbsConfig>, records: PipelineRecord[], lines: string[] = []) {
  const context = createRunContext({ config: configWith({ targetDir: at('target'), ...config }), log: createLogger({ write: (l) => lines.push(l) }) });
  const fn = await decryptSink.create({}, context, componentEvents('decrypt'));
  const out = await fn(_(records)).collect().toPromise(Promise);
  return { out, context };
}

t.test('decrypts in order, records failures per record, warns on size mismatch', async (t) => {
  const lines: string[] = [];
  const { out } = await runSink({ decryptDir: at('plain-out'), decryptKeys: [at('key.pem')], numThreads: 3 }, [
    record('r1', 'a', 'downloaded', 7),
    record('r2', 'bad', 'downloaded'),
    record('r3', 'b', 'skipped', 999),
    record('r4', 'c', 'downloaded'),
  ], lines);
  t.same(out.map((r) => r.recording.id), ['r1', 'r2', 'r3', 'r4'], 'order kept');
  t.same(out.map((r) => r.status), ['done', 'failed', 'done', 'done']);
  t.equal(out[0]!.media[0]!.decrypted, 't1/day/a');
  t.equal(await readFile(at('plain-out/t1/day/b'), 'utf8'), 'media b');
  t.equal((await stat(at('plain-out/t1/day/c'))).mode & 0o777, 0o600);
  t.equal(out[1]!.errors[0]!.code, 'RCBS_DECRYPT_MALFORMED');
  t.equal(tallyRun(out).failures.length, 1);
  t.match(lines.join('\n'), /warn: decrypted size differs.*mediaId=b/);
  t.notMatch(lines.join('\n'), /mediaId=a decrypted/, 'no warning when the sizes agree');
});

t.test('an already decrypted file is left alone', async (t) => {
  await mkdir(at('keep/t1/day'), { recursive: true });
  await writeFile(at('keep/t1/day/a'), 'kept');
  const { out } = await runSink({ decryptDir: at('keep'), decryptKeys: [at('key.pem')] }, [record('r1', 'a', 'skipped')]);
  t.equal(out[0]!.media[0]!.decrypted, 't1/day/a');
  t.equal(await readFile(at('keep/t1/day/a'), 'utf8'), 'kept');
});

t.test('decryptDir inside targetDir is refused; no decryptDir passes records through', async (t) => {
  await t.rejects(runSink({ decryptDir: at('target', 'plain'), decryptKeys: [at('key.pem')] }, []), { code: 'RCBS_CONFIG_INVALID' });
  const { out } = await runSink({ decryptKeys: [at('key.pem')] }, [record('r1', 'a', 'downloaded')]);
  t.equal(out[0]!.media[0]!.decrypted, undefined);
  await t.rejects(runSink({ decryptDir: at('x') }, []), { code: 'RCBS_CONFIG_INVALID', message: /decryptKey is not/ }, 'decryptDir without a key');
});
