// Pins what hostile recording metadata can do (SPEC §5 "Names from the data are
// sanitised… never writes outside targetDir"; issue 5): a small real node:http GWS
// serves copies of sandbox recordings (so their media really exist in the
// sandbox's S3) with one hostile field each: path traversal in tenant, id or
// mediaId, absolute paths, NUL and control characters, Windows reserved names,
// huge strings, wrong types, and a recording repeated on the next page. One
// `rcbs -config` run takes them all: each row ends quarantined with its reason
// (or, for the repeat, written once), the good control recording lands, nothing
// is written outside targetDir, no S3 request carries a hostile key, and stderr
// has no stack trace.

import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startSandbox, type SandboxRecording } from '../src/sandbox/index.js';
import { runCli } from './helpers/cli.js';
import { cliEnv } from './helpers/backup-state.js';

type Rec = Record<string, unknown> & { id?: unknown; mediaFiles?: Record<string, unknown>[] };
interface Row {
  name: string;
  make: (base: Rec) => Rec;
  /** What quarantine.ndjson must say for this row; or, for a name that can be made safe, the file name it gets. */
  reason?: RegExp;
  writtenAs?: RegExp;
}

const media0 = (r: Rec) => r.mediaFiles![0]!;
const withMedia = (r: Rec, change: Record<string, unknown>): Rec => ({ ...r, mediaFiles: [{ ...media0(r), ...change }] });

const ROWS: Row[] = [
  { name: 'tenant ../../etc', make: (r) => withMedia(r, { tenant: '../../etc' }), reason: /tenant|separator|dots/i },
  { name: 'tenant ..', make: (r) => withMedia(r, { tenant: '..' }), reason: /only dots/ },
  { name: 'tenant absolute /etc', make: (r) => withMedia(r, { tenant: '/etc' }), reason: /separator|tenant/i },
  { name: 'tenant with a backslash path C:\\Windows', make: (r) => withMedia(r, { tenant: 'C:\\Windows' }), reason: /separator|tenant|reserved|character/i },
  { name: 'tenant with a newline', make: (r) => withMedia(r, { tenant: 'Ten\nant' }), reason: /control/i },
  { name: 'tenant Windows reserved CON', make: (r) => withMedia(r, { tenant: 'CON' }), reason: /reserved/i },
  { name: 'id with path traversal', make: (r) => ({ ...r, id: '../../../escaped-id' }), reason: /separator|id/i },
  { name: 'id absolute', make: (r) => ({ ...r, id: '/tmp/rcbs-escaped' }), reason: /separator|id/i },
  { name: 'id with NUL', make: (r) => ({ ...r, id: 'abc\u0000def' }), reason: /control|character/i },
  { name: 'id Windows reserved NUL.txt', make: (r) => ({ ...r, id: 'NUL.txt' }), reason: /reserved/i },
  // Made safe rather than refused: cut to fit NAME_MAX with a hash of the whole id, so two long ids never collide.
  { name: 'id a huge string (10 000 chars)', make: (r) => ({ ...r, id: 'X'.repeat(10_000) }), writtenAs: /^X{100,}~[0-9a-f]{16}\.json$/ },
  { name: 'id of the wrong type (object)', make: (r) => ({ ...r, id: { $ne: null } }), reason: /\/id|must be string|id/i },
  { name: 'mediaId with path traversal', make: (r) => withMedia(r, { mediaId: '../../../../tmp/rcbs-escaped.mp3' }), reason: /mediaId.*separator/ },
  { name: 'mediaId absolute', make: (r) => withMedia(r, { mediaId: '/etc/passwd' }), reason: /mediaId.*separator/ },
  { name: 'mediaId with a control character', make: (r) => withMedia(r, { mediaId: 'media\u001b[31m.mp3' }), reason: /mediaId.*control/ },
  { name: 'mediaId Windows reserved COM1', make: (r) => withMedia(r, { mediaId: 'COM1' }), reason: /reserved/i },
  { name: 'mediaFiles not an array', make: (r) => ({ ...r, mediaFiles: 'none' as unknown as Record<string, unknown>[] }), reason: /mediaFiles.*array|must be array/ },
  { name: 'media type of the wrong type (number)', make: (r) => withMedia(r, { type: 3 }), reason: /type.*string|must be string/ },
];

t.test('hostile metadata: quarantined with a reason, nothing outside targetDir, no crash', async (t) => {
  const sandbox = await startSandbox({ recordings: ROWS.length + 8, oddities: false, seed: 51, maxSegments: 1 });
  t.teardown(() => sandbox.close());
  const voice = sandbox.recordings.filter((r) => r.media.length === 1 && r.media[0]!.type === 'audio/mp3');
  t.ok(voice.length >= ROWS.length + 1, 'enough voice recordings to copy');
  const clone = (r: SandboxRecording): Rec => JSON.parse(JSON.stringify(r.recording)) as Rec;
  const hostile = ROWS.map((row, i) => ({ row, base: voice[i]!, served: row.make(clone(voice[i]!)) }));
  const control = voice[ROWS.length]!;
  // Served by stopTime like GWS, 10 a page: the control comes first and again last, so
  // its repeat arrives on a later page (a GWS listing one recording twice).
  const served = [clone(control), ...hostile.map((h) => h.served), clone(control)];
  const stopOf = (r: Rec) => Date.parse(String(r.stopTime).replace(/\+0000$/, 'Z'));
  const gws = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.endsWith('/settings/rcbs')) return res.end(JSON.stringify({ statusCode: 0, settings: { s3: { bucket: sandbox.bucket, region: sandbox.s3Region, keyPrefix: sandbox.keyPrefix } } }));
    const q = (name: string) => Number(url.searchParams.get(name));
    const inWindow = served.filter((r) => stopOf(r) >= q('startTime') && stopOf(r) < q('endTime'));
    res.end(JSON.stringify({ statusCode: 0, recordings: inWindow.slice(q('offset'), q('offset') + q('limit')) }));
  });
  await new Promise<void>((resolve) => gws.listen(0, '127.0.0.1', resolve));
  t.teardown(() => gws.close());

  const dir = t.testdir();
  const targetDir = path.join(dir, 'target');
  const config = path.join(dir, 'config.properties');
  writeFileSync(
    config,
    sandbox
      .configProperties(targetDir)
      .replace(/^gwsUriPrefix = .*$/m, `gwsUriPrefix = http://127.0.0.1:${(gws.address() as AddressInfo).port}/api/v2`)
      .replace(/^maxAge = .*$/m, 'maxAge = 4\ngwsPageSize = 10'),
  );
  const result = await runCli(['-config', config], { env: cliEnv(sandbox.env()) });
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
  const raw = [...result.stderr.matchAll(/[\u0000-\u0008\u000b-\u001f\u007f]/g)].map((m) => JSON.stringify(result.stderr.slice(Math.max(0, m.index - 60), m.index + 20)));
  t.same(raw, [], 'no raw control character reaches the terminal (escape-sequence injection)');
  t.equal(result.code, 0, `quarantined records do not fail the run\n${result.stderr.slice(-2000)}`);

  const quarantine = readFileSync(path.join(targetDir, '.rcbs', 'quarantine.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { recordingId?: string; reason: string; code: string; recording?: Rec });
  const files = readdirSync(targetDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  for (const { row, served } of hostile) {
    if (row.writtenAs) {
      const written = files.filter((e) => row.writtenAs!.test(e.name));
      t.equal(written.length, 1, `${row.name}: written once under a safe name`);
      t.ok(written.every((e) => Buffer.byteLength(e.name) <= 255), `${row.name}: the name fits NAME_MAX`);
      t.ok(written.every((e) => (JSON.parse(readFileSync(path.join(e.parentPath, e.name), 'utf8')) as Rec).id === served.id), `${row.name}: the JSON keeps the id as received`);
      continue;
    }
    const entry = quarantine.find((q) => JSON.stringify(q.recording) === JSON.stringify(served));
    t.ok(entry, `${row.name}: quarantined`);
    if (entry) {
      t.match(entry.reason, row.reason!, `${row.name}: reason "${entry.reason.slice(0, 140)}"`);
      t.match(entry.code, /^RCBS_(UNSAFE_NAME|RECORD_INVALID)$/, `${row.name}: coded`);
    }
  }
  t.equal(quarantine.length, hostile.filter((h) => h.row.reason).length, 'each refused record quarantined exactly once');

  // The control recording, served on both pages: written once, with its media.
  const controlJson = files.filter((e) => e.name === `${control.id}.json`);
  t.equal(controlJson.length, 1, 'the recording repeated across pages is written once');
  t.ok(files.some((e) => e.name === `${control.media[0]!.mediaId}.bin`), 'its media landed');
  t.match(result.stderr, /recordings\s+1\b|recordings\s+\d+/, 'summary printed');

  // Nothing escaped: every file sits under targetDir, and the traversal targets do not exist.
  for (const e of files) t.ok(path.resolve(e.parentPath, e.name).startsWith(targetDir + path.sep), `${e.name.slice(0, 60)} is inside targetDir`);
  for (const escaped of ['/tmp/rcbs-escaped', '/tmp/rcbs-escaped.mp3', '/tmp/rcbs-escaped.json', path.join(dir, 'escaped-id.json'), path.join(path.dirname(dir), 'escaped-id.json')]) t.notOk(existsSync(escaped), `${escaped} was not created`);
  t.same(files.filter((e) => !e.parentPath.startsWith(path.join(targetDir, '.rcbs')) && !/^(Environment|Tenant_B)$/.test(path.relative(targetDir, e.parentPath).split(path.sep)[0]!)).map((e) => e.name), [], 'only the sandbox tenants have folders');
});
