// Pins `rcbs sandbox` (src/commands/sandbox.ts): it writes config.properties, key.pem
// and cert.pem into --dir, prints export lines that really log in to the running
// GWS, says the printed credentials are sandbox-only, serves until told to stop and
// then closes its servers; bad options are usage errors before anything starts.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { sandboxCommand } from '../src/commands/sandbox.js';
import { silentLogger } from '../src/log.js';

t.test('writes its files, prints working credentials, stops on abort', async (t) => {
  const dir = t.testdir();
  const out = new PassThrough();
  let printed = '';
  out.setEncoding('utf8').on('data', (d: string) => (printed += d));
  const stop = new AbortController();
  const running = sandboxCommand({ recordings: 2, seed: 4, mode: 'offset', dir }, silentLogger, stop.signal, out);

  while (!printed.includes('Ctrl-C stops')) await once(out, 'data');
  const exports = Object.fromEntries([...printed.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]!.replace(/^'(.*)'$/, '$1')]));
  t.match(printed, /sandbox-only|exist only in this local sandbox/);
  const config = await readFile(path.join(dir, 'config.properties'), 'utf8');
  const gwsUriPrefix = /^gwsUriPrefix = (.+)$/m.exec(config)![1]!;
  t.match(config, /^targetDir = .+\/backup$/m);
  t.match(await readFile(path.join(dir, 'key.pem'), 'utf8'), /PRIVATE KEY/);
  t.match(await readFile(path.join(dir, 'cert.pem'), 'utf8'), /BEGIN CERTIFICATE/);

  const auth = 'Basic ' + Buffer.from(`${exports.GWS_USERNAME}:${exports.GWS_PASSWORD}`).toString('base64');
  const settings = await fetch(`${gwsUriPrefix}/me/settings/rcbs`, { headers: { authorization: auth } });
  t.equal(settings.status, 200, 'the printed GWS credentials work');
  t.equal(((await settings.json()) as { statusCode: number }).statusCode, 0);

  stop.abort();
  await running;
  await t.rejects(fetch(`${gwsUriPrefix}/me/settings/rcbs`), { name: 'TypeError' }, 'GWS is closed after the stop');
  t.ok((await readFile(path.join(dir, 'config.properties'), 'utf8')).length > 0, 'the folder is kept');
});

t.test('bad options are usage errors', async (t) => {
  await t.rejects(sandboxCommand({ mode: 'pages' }, silentLogger), { code: 'RCBS_USAGE', message: /--mode must be one of links, offset, capped/ });
  await t.rejects(sandboxCommand({ port: 70000 }, silentLogger), { code: 'RCBS_USAGE', message: /--port/ });
  await t.rejects(sandboxCommand({ recordings: -1 }, silentLogger), { code: 'RCBS_USAGE', message: /--recordings/ });
});
