// Pins how a journal is read at open (src/store/journal.ts journalLines): line by line
// through one buffer that is read into again and again (a read stream's fresh chunk per
// read left ~40 MB of ArrayBuffers behind on a 50k backup: BENCHMARKS.md, issue 14).
// What must hold whatever the buffer's size: every line whole, at its exact byte offset
// and byte length (offsets are what the index keeps), lines cut by a read boundary joined,
// a line longer than the buffer read whole, invalid UTF-8 counted in bytes, a last line
// without its newline reported as torn, a missing file read as empty.

import t, { type Test } from 'tap';
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { journalLines, type JournalLine } from '../src/store/journal.js';
import { collect } from './helpers/async.js';

const READ_BYTES = 1 << 20;

async function linesOf(t: Test, content: Buffer): Promise<JournalLine[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rcbs-journal-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'index.ndjson');
  await writeFile(file, content);
  return collect(journalLines(file));
}

/** What the lines of `content` must be: split on 0x0a bytes, offsets counted in bytes. */
function expected(content: Buffer): Array<Pick<JournalLine, 'offset' | 'bytes' | 'complete'> & { text: string }> {
  const lines = [];
  let offset = 0;
  for (;;) {
    const nl = content.indexOf(0x0a, offset);
    if (nl === -1) break;
    lines.push({ offset, bytes: nl - offset, complete: true, text: content.toString('utf8', offset, nl) });
    offset = nl + 1;
  }
  if (offset < content.length) lines.push({ offset, bytes: content.length - offset, complete: false, text: content.toString('utf8', offset) });
  return lines;
}

function check(t: Test, got: JournalLine[], content: Buffer): void {
  const want = expected(content);
  t.equal(got.length, want.length, 'as many lines as the file has');
  let bad = 0;
  got.forEach((line, i) => {
    const w = want[i]!;
    if (line.number !== i + 1 || line.offset !== w.offset || line.bytes !== w.bytes || line.complete !== w.complete || line.text !== w.text) bad++;
  });
  t.equal(bad, 0, 'every line at its byte offset, with its byte length and text');
}

t.test('many lines across several reads, some cut by a read boundary', async (t) => {
  const lines: string[] = [];
  // Lines of varying length (1-700 bytes, multi-byte characters too) over ~3.5 reads.
  for (let i = 0, size = 0; size < 3.5 * READ_BYTES; i++) {
    const line = JSON.stringify({ mediaId: `m-${i}`, pad: 'ü'.repeat(i % 350) });
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  const content = Buffer.from(lines.join('\n') + '\n');
  const got = await linesOf(t, content);
  check(t, got, content);
  t.ok(got.some((l) => Math.floor(l.offset / READ_BYTES) !== Math.floor((l.offset + l.bytes) / READ_BYTES)), 'a line did straddle a read boundary');
});

t.test('a line longer than the read buffer comes whole, and the lines after it too', async (t) => {
  const long = 'x'.repeat(2.5 * READ_BYTES);
  const content = Buffer.from(`{"a":1}\n${long}\n{"b":2}\n`);
  const got = await linesOf(t, content);
  check(t, got, content);
  t.equal(got[1]!.bytes, long.length);
});

t.test('a newline as the very last byte of a read, and an empty line', async (t) => {
  const first = 'y'.repeat(READ_BYTES - 1);
  const content = Buffer.from(`${first}\n\nz\n`);
  check(t, await linesOf(t, content), content);
});

t.test('invalid UTF-8 is counted in bytes, so later offsets stay exact', async (t) => {
  const content = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}\n{"b":1}\n')]);
  const got = await linesOf(t, content);
  check(t, got, content);
  t.equal(got[1]!.offset, 12, '6 + 3 invalid bytes + 2, and the newline');
});

t.test('a last line without its newline is reported torn', async (t) => {
  const content = Buffer.from('{"a":1}\n{"b":');
  const got = await linesOf(t, content);
  check(t, got, content);
  t.equal(got.at(-1)!.complete, false);
});

t.test('an empty file and a missing file have no lines', async (t) => {
  t.same(await linesOf(t, Buffer.alloc(0)), []);
  t.same(await collect(journalLines(path.join(tmpdir(), `rcbs-no-such-journal-${process.pid}`, 'index.ndjson'))), []);
});

t.test('a consumer that stops early closes the file', async (t) => {
  const content = Buffer.from('{"a":1}\n'.repeat(1000));
  const dir = await mkdtemp(path.join(tmpdir(), 'rcbs-journal-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'index.ndjson');
  await writeFile(file, content);
  const openOnFile = async () => {
    let n = 0;
    for (const fd of await readdir('/proc/self/fd')) if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === file) n++;
    return n;
  };
  for await (const line of journalLines(file)) {
    t.equal(await openOnFile(), 1, 'open while read');
    if (line.number === 3) break;
  }
  t.equal(await openOnFile(), 0, 'closed after the consumer stopped');
});
