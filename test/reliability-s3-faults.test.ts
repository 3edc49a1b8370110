// Pins what a backup does when S3 misbehaves (issue 5): an HTTP fault proxy between
// `rcbs -config` and the sandbox's s3rver (which verifies every SigV4 signature
// the proxy relays untouched) breaks chosen GetObject answers: 503 SlowDown, a
// reset mid-body, a body shorter than its Content-Length (retried or resumed:
// those files arrive byte-exact), 403 AccessDenied and 404 NoSuchKey (those media
// fail, the others go on). The run exits 1 naming the failed media, leaves no
// temp file and no partial file, and does not write last_recording_endtime.txt;
// a rerun once S3 behaves fetches only what is missing and completes the set.

import t from 'tap';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { startSandbox } from '../src/sandbox/index.js';
import { runCli } from './helpers/cli.js';
import { backupState, wantedMedia, sandboxBackup } from './helpers/backup-state.js';
import { listenLocal } from './helpers/http-server.js';

type Fault = 'slowdown' | 'reset-mid-body' | 'short-body' | '403' | '404';

const xmlError = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

t.test('S3 faults: retried or resumed where they can be, coded failures where not, then a rerun completes', async (t) => {
  const sandbox = await startSandbox({ recordings: 10, oddities: false, seed: 11, maxSegments: 1, mediaSize: { min: 30_000, max: 60_000 } });
  t.teardown(() => sandbox.close());
  const media = [...wantedMedia(sandbox).keys()];
  t.ok(media.length >= 8, `${media.length} media`);
  // mediaId → fault for its first GET (403/404: every GET).
  const plan = new Map<string, Fault>([
    [media[0]!, 'slowdown'],
    [media[1]!, 'reset-mid-body'],
    [media[2]!, 'short-body'],
    [media[3]!, '403'],
    [media[4]!, '404'],
  ]);
  const gets = new Map<string, number>();
  let faultsOn = true;

  const upstream = new URL(sandbox.s3Endpoint);
  const forward = (req: IncomingMessage, res: ServerResponse, onAnswer?: (answer: IncomingMessage) => void) => {
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (onAnswer) return onAnswer(answer);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
  const server = createServer((req, res) => {
    const mediaId = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.split('/').pop() ?? '');
    const fault = plan.get(mediaId);
    if (req.method !== 'GET' || !fault || !faultsOn) return forward(req, res);
    const n = (gets.get(mediaId) ?? 0) + 1;
    gets.set(mediaId, n);
    const xml = (status: number, code: string, message: string) => res.writeHead(status, { 'content-type': 'application/xml' }).end(xmlError(code, message));
    if (fault === '403') return xml(403, 'AccessDenied', 'Access Denied');
    if (fault === '404') return xml(404, 'NoSuchKey', 'The specified key does not exist.');
    if (n > 1) return forward(req, res);
    if (fault === 'slowdown') return xml(503, 'SlowDown', 'Please reduce your request rate.');
    forward(req, res, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      const half = Number(answer.headers['content-length']) / 2;
      let sent = 0;
      answer.on('data', (chunk: Buffer) => {
        if (sent >= half) return;
        const part = chunk.subarray(0, Math.max(0, Math.min(chunk.length, half - sent)));
        sent += part.length;
        res.write(part);
        if (sent >= half) {
          answer.destroy();
          // reset: RST mid-body; short-body: a clean FIN before Content-Length is reached.
          if (fault === 'reset-mid-body') res.socket?.resetAndDestroy();
          else res.socket?.end();
        }
      });
    });
  });
  const port = await listenLocal(t, server);

  const { targetDir, config, env } = sandboxBackup(t.testdir(), sandbox, {}, (text) => text.replace(/^s3Endpoint = .*$/m, `s3Endpoint = http://127.0.0.1:${port}`));

  const first = await runCli(['-config', config], { env });
  t.equal(first.code, 1, `some media failed: exit 1\n${first.stderr.slice(-2500)}`);
  t.match(first.stderr, /RCBS_S3_FORBIDDEN/);
  t.match(first.stderr, /RCBS_S3_NOT_FOUND/);
  t.match(first.stderr, new RegExp(media[3]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the refused media is named');
  t.match(first.stderr, new RegExp(media[4]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the missing media is named');
  t.notMatch(first.stderr, /\n\s+at /, 'no stack trace');
  const state = backupState(targetDir, sandbox);
  t.same(state.problems, [], 'nothing partial or corrupt under a final name, index honest');
  t.same(state.missing.sort(), [media[3]!, media[4]!].sort(), 'only the 403 and the 404 media are missing');
  for (const id of media.slice(0, 3)) t.ok(state.media.has(id), `${plan.get(id)}: retried or resumed, byte-exact`);
  t.ok((gets.get(media[1]!) ?? 0) >= 2 && (gets.get(media[2]!) ?? 0) >= 2, 'the cut transfers were fetched again');
  t.equal(gets.get(media[3]!), 1, '403 is not retried');
  t.equal(state.checkpoint, undefined, 'last_recording_endtime.txt is held back by the failed media');
  t.same(state.temps, [], 'no temp file left');

  faultsOn = false;
  const rerun = await runCli(['-config', config], { env });
  t.equal(rerun.code, 0, rerun.stderr.slice(-1500));
  t.match(rerun.stderr, /downloaded\s+2 files/, 'only the two missing media are fetched');
  const final = backupState(targetDir, sandbox);
  t.same(final.problems, []);
  t.ok(final.complete, 'complete byte-exact set');
  t.ok(final.checkpoint, 'checkpoint written now');
});
