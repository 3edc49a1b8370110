// Pins the config.properties reader against java.util.Properties.load semantics,
// so a file written for the original Java RCBS reads the same here: every
// separator form, comments, continuations, escapes (the guide's `audio\/mp3`
// keeping its regex meaning), escaped separators in keys, CRLF and a BOM, and
// line numbers that error messages can point at.

import t from 'tap';
import { parseProperties } from '../src/config/properties.js';
import { compileMediaTypePattern } from '../src/config/keys.js';

const pairs = (text: string) => parseProperties(text).entries.map((e) => [e.key, e.value]);

t.test('separators: =, :, whitespace, and blanks around them', async (t) => {
  t.same(pairs('a=1\nb = 2\nc:3\nd : 4\ne 5\nf\t\t6\ng   =   7\nh = : 8\n'), [
    ['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], ['e', '5'], ['f', '6'], ['g', '7'], ['h', ': 8'],
  ]);
  t.same(pairs('  leading = whitespace ignored\n'), [['leading', 'whitespace ignored']]);
  t.same(pairs('onlykey\nemptyvalue=\n'), [['onlykey', ''], ['emptyvalue', '']]);
  t.same(pairs('url = https://example.com:8443/api/v2\n'), [['url', 'https://example.com:8443/api/v2']], 'only the first separator splits');
  t.same(pairs('k = v  \n'), [['k', 'v  ']], 'trailing whitespace of a value is kept, as in Java');
});

t.test('comments: # and ! lines, also indented; not inside values; never continued', async (t) => {
  t.same(pairs('# a\n! b\n   # indented\n\t! tab\nk = v # not a comment\n'), [['k', 'v # not a comment']]);
  t.same(pairs('# comment ending in a backslash \\\nk = v\n'), [['k', 'v']], 'a comment line does not swallow the next line');
});

t.test('continuation lines join, dropping the next line\'s leading whitespace', async (t) => {
  t.same(pairs('list = a,\\\n      b,\\\n\t c\nnext = 1\n'), [['list', 'a,b,c'], ['next', '1']]);
  t.same(pairs('k = one\\\n# not a comment here\n'), [['k', 'one# not a comment here']], 'a continued line starting with # is data');
  t.same(pairs('k = even\\\\\nnext = 1\n'), [['k', 'even\\'], ['next', '1']], 'an even number of backslashes does not continue');
  t.same(pairs('k = a\\\n\nnext = 1\n'), [['k', 'a'], ['next', '1']], 'a blank line ends a continuation');
  t.same(pairs('k = last\\'), [['k', 'last']], 'a continuation at end of file drops the backslash');
  t.same(pairs('ke\\\n  y = v\n'), [['key', 'v']], 'keys continue too');
});

t.test('escapes: \\t \\n \\r \\f \\uXXXX \\\\ and unknown escapes', async (t) => {
  t.same(pairs('k = a\\tb\\nc\\rd\\fe\n'), [['k', 'a\tb\nc\rd\fe']]);
  t.same(pairs('k = caf\\u00e9 \\u0041\n'), [['k', 'café A']]);
  t.same(pairs('k = C:\\\\target\n'), [['k', 'C:\\target']]);
  t.same(pairs('k = C:\\target\n'), [['k', 'C:\target']], '\\t in a Windows path is a tab: why load.ts rejects backslashes in paths');
  t.same(pairs('k = a\\qb\\/c\\ d\n'), [['k', 'aqb/c d']], 'unknown escapes drop the backslash');
  t.same(pairs('k = \\ leading space\n'), [['k', ' leading space']], 'an escaped leading blank is kept');
});

t.test('escaped separators in keys', async (t) => {
  t.same(pairs('a\\=b = c\n'), [['a=b', 'c']]);
  t.same(pairs('a\\:b:c\n'), [['a:b', 'c']]);
  t.same(pairs('a\\ b c\n'), [['a b', 'c']]);
  t.same(pairs('a\\\\=b\n'), [['a\\', 'b']], 'an escaped backslash does not escape the separator');
});

t.test('the guide\'s mediaTypePattern keeps its regex meaning', async (t) => {
  const [entry] = parseProperties('mediaTypePattern = audio\\/mp3|video\\/mp4\n').entries;
  t.equal(entry!.value, 'audio/mp3|video/mp4');
  const pattern = compileMediaTypePattern(entry!.value);
  t.ok(pattern.test('audio/mp3'));
  t.ok(pattern.test('video/mp4'));
  t.notOk(pattern.test('audio/wav'));
  t.notOk(pattern.test('audio/mp3x'), 'the whole type must match, like Java String.matches');
  // The escaped source compiled as-is in JS means the same thing.
  t.ok(compileMediaTypePattern('audio\\/mp3|video\\/mp4').test('video/mp4'));
  t.ok(compileMediaTypePattern('(?i)AUDIO/MP3').test('audio/mp3'), 'Java (?i) becomes the i flag');
});

t.test('CRLF, CR-only and a UTF-8 BOM; line numbers point at the entry\'s first line', async (t) => {
  const { entries } = parseProperties('\uFEFF# first\r\nmaxAge = 2\r\nlist = a,\\\r\n  b\r\n\r\ntargetDir = /data\rminAge=0\r\n');
  t.same(entries.map((e) => [e.key, e.value, e.line]), [
    ['maxAge', '2', 2],
    ['list', 'a,b', 3],
    ['targetDir', '/data', 6],
    ['minAge', '0', 7],
  ]);
  t.equal(entries[0]!.key.charCodeAt(0), 'm'.charCodeAt(0), 'the BOM is not part of the first key');
  t.same(pairs('\uFEFFk=v'), [['k', 'v']], 'BOM directly before a key');
});

t.test('a malformed \\u escape is reported with its line, the rest still parses', async (t) => {
  const { entries, errors } = parseProperties('a = 1\nb = bad\\u12G4\nc = 3\n');
  t.same(entries.map((e) => e.key), ['a', 'b', 'c']);
  t.equal(errors.length, 1);
  t.equal(errors[0]!.line, 2);
  t.match(errors[0]!.message, /\\uXXXX/);
});

t.test('rawValue keeps the text before escapes', async (t) => {
  const [entry] = parseProperties('targetDir = C:\\data\\rcbs\n').entries;
  t.equal(entry!.rawValue, 'C:\\data\\rcbs');
  t.equal(entry!.value, 'C:data\rcbs');
});
