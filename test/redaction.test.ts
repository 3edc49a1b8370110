// Pins the single redaction step every log line goes through: secret environment
// values, URL credentials, Authorization headers and secret-looking keys never
// reach stderr, in human or JSON format.

import t from 'tap';
import { createLogger, redact, addSecret } from '../src/log.js';

t.test('secrets are removed from every log line', async (t) => {
  process.env.GWS_PASSWORD = 'Sup3r-S3cret-GWS';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  addSecret('key-passphrase-42');
  t.teardown(() => {
    delete process.env.GWS_PASSWORD;
    delete process.env.AWS_SECRET_ACCESS_KEY;
  });
  for (const format of ['human', 'json'] as const) {
    const lines: string[] = [];
    const log = createLogger({ format, write: (l) => lines.push(l) });
    log.error('GWS refused Sup3r-S3cret-GWS', { url: 'https://user:Sup3r-S3cret-GWS@gws.example/api/v2' });
    log.warn('s3', { header: 'Authorization: AWS4-HMAC-SHA256 Credential=AKIA/abc, Signature=deadbeef' });
    log.info('key', { secret: process.env.AWS_SECRET_ACCESS_KEY, note: 'passphrase=key-passphrase-42' });
    log.info('plain', { password: 'hunter2hunter2' });
    const all = lines.join('\n');
    t.notMatch(all, /Sup3r-S3cret-GWS/, `${format}: GWS password`);
    t.notMatch(all, /wJalrXUtnFEMI/, `${format}: AWS secret`);
    t.notMatch(all, /key-passphrase-42/, `${format}: passphrase`);
    t.notMatch(all, /deadbeef/, `${format}: signature`);
    t.notMatch(all, /hunter2hunter2/, `${format}: password field`);
    t.match(all, /\[REDACTED\]/);
  }
  t.equal(redact('nothing secret here'), 'nothing secret here');
});
