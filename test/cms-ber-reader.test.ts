// Pins the streaming BER reader under everything BER allows and files carry:
// definite and indefinite lengths, constructed OCTET STRINGs nested in each other,
// multi-byte lengths, and input split anywhere (every split point, 1-byte pieces)
// giving the same events; and the coded errors for lies about lengths.

import t from 'tap';
import { BerReader, type BerHeader } from '../src/cms/ber.js';
import { parseBer, encodeDer, der, octets, oidToDer, oidToString } from '../src/cms/asn1.js';

function events(pieces: Buffer[]): string[] {
  const out: string[] = [];
  let data: Buffer[] = [];
  const flush = () => {
    if (data.length) out.push(`data ${Buffer.concat(data).toString('hex')}`);
    data = [];
  };
  const reader = new BerReader({
    start: (h: BerHeader) => (flush(), out.push(`start ${h.cls}/${h.tag}${h.constructed ? 'c' : ''} ${h.length ?? 'indef'}`)),
    data: (c) => data.push(Buffer.from(c)),
    end: () => (flush(), out.push('end')),
  });
  for (const p of pieces) reader.write(p);
  reader.finish();
  return out;
}

// SEQUENCE(indef) { [0](indef) { OCTET STRING "ab", OCTET STRING(constructed, definite) { "cd", "" }, OCTET STRING(indef) { "e" } }, INTEGER 300-byte-length? no: NULL }
const sample = Buffer.from(
  '3080' + 'a080' + '04026162' + '2406' + '04026364' + '0400' + '2480' + '040165' + '0000' + '0000' + '0500' + '0481' + '81' + '00'.repeat(0x81) + '0000',
  'hex',
);

t.test('every split point gives the same events as the whole buffer', async (t) => {
  const whole = events([sample]);
  t.match(whole.join('\n'), /start 0\/4 2\ndata 6162\nend/);
  for (let i = 1; i < sample.length; i++) t.same(events([sample.subarray(0, i), sample.subarray(i)]), whole, `split at ${i}`);
  t.same(events([...sample].map((b) => Buffer.from([b]))), whole, '1-byte pieces');
});

t.test('constructed OCTET STRINGs read as one value; DER round trips', async (t) => {
  const tree = parseBer(sample);
  t.equal(octets(tree.children[0]!).toString('latin1'), 'abcde');
  const derBytes = der.sequence(der.oid('1.2.840.113549.1.7.3'), der.octetString(Buffer.alloc(70_000, 9)));
  t.ok(encodeDer(parseBer(derBytes)).equals(derBytes));
  t.equal(oidToString(oidToDer('2.16.840.1.101.3.4.1.42')), '2.16.840.1.101.3.4.1.42');
});

t.test('lies and truncation are RCBS_DECRYPT_MALFORMED', async (t) => {
  const bad: Record<string, string> = {
    'child longer than parent': '3003040501',
    'indefinite primitive': '0480',
    'stray end-of-contents': '30020000',
    'huge length': '3088ffffffffffffffff',
    truncated: '30800401',
    'missing end-of-contents': '3080040100',
    empty: '',
  };
  for (const [name, hex] of Object.entries(bad)) t.throws(() => events([Buffer.from(hex, 'hex')]), { code: 'RCBS_DECRYPT_MALFORMED' }, name);
});
