// Pins the field-path readers every export component shares (src/pipeline/fields.ts):
// valuesAt enters arrays at each step, in order, own properties only, and never unpacks
// the last value; valueAt (what select puts in a cell) is exactly asOne(valuesAt(…))
// whatever the shape, including arrays met midway, at the end, nested, nulls and
// prototype names.

import t from 'tap';
import { asOne, parsePath, recordValue, recordValues, valueAt, valuesAt } from '../src/pipeline/fields.js';
import { newRecord, type Recording } from '../src/pipeline/types.js';

const recording: Recording = {
  id: 'r1',
  n: 0,
  empty: '',
  nothing: null,
  tags: ['a', 'b'],
  nested: [[{ x: 1 }], { x: 2 }],
  parameters: { agentId: '+1001', deep: { list: [{ v: 1 }, { v: 2 }, { w: 3 }] } },
  mediaFiles: [
    { mediaId: 'm1', type: 'audio/mp3', parameters: { agentId: '+1001' } },
    { mediaId: 'm2', type: 'video/mp4' },
    { mediaId: 'm3', type: 'audio/mp3', parameters: { agentId: '+1003' } },
  ],
};

t.test('valuesAt: arrays entered at each step, in order; the last value kept whole', async (t) => {
  const at = (text: string) => valuesAt(recording, parsePath(text)!);
  t.same(at('id'), ['r1']);
  t.same(at('mediaFiles.type'), ['audio/mp3', 'video/mp4', 'audio/mp3']);
  t.same(at('mediaFiles.parameters.agentId'), ['+1001', '+1003'], 'a file without the field gives nothing');
  t.same(at('parameters.deep.list.v'), [1, 2]);
  t.same(at('tags'), [['a', 'b']], 'the value at the end is not unpacked');
  t.same(at('nested.x'), [2], 'an array inside an array is not entered');
  t.same(at('missing.x'), []);
  t.same(at('id.length'), [], 'a string has no fields');
  t.same(at('constructor'), [], 'own properties only');
  t.same(at('nothing'), [null], 'null is a value');
  t.same(valuesAt(recording, parsePath('mediaFiles.mediaId')!, 1), [], 'from a later segment');
  t.same(valuesAt(recording.mediaFiles as unknown[], parsePath('mediaFiles.mediaId')!, 1), ['m1', 'm2', 'm3']);
});

t.test('valueAt is asOne(valuesAt) for every path and starting segment', async (t) => {
  const paths = [
    'id', 'n', 'empty', 'nothing', 'tags', 'tags.length', 'nested', 'nested.x', 'parameters', 'parameters.agentId',
    'parameters.deep.list', 'parameters.deep.list.v', 'parameters.deep.list.w', 'mediaFiles', 'mediaFiles.type',
    'mediaFiles.parameters.agentId', 'mediaFiles.parameters', 'missing', 'missing.x', 'id.x', 'nothing.x',
    'constructor', '__proto__', 'toString',
  ];
  const files = recording.mediaFiles as unknown[];
  const roots: unknown[] = [recording, files, files[0], null, undefined, 'text', 7, []];
  for (const root of roots) {
    for (const text of paths) {
      const path = parsePath(text)!;
      for (let from = 0; from <= path.length; from++) {
        t.same(valueAt(root, path, from), asOne(valuesAt(root, path, from)), `${JSON.stringify(root)?.slice(0, 20)} ${text} from ${from}`);
      }
    }
  }
});

t.test('recordValue is asOne(recordValues), outcome fields included', async (t) => {
  const record = newRecord(recording);
  record.media = [
    { mediaId: 'm1', type: 'audio/mp3', status: 'downloaded', path: 'a/m1.bin', bytes: 10 },
    { mediaId: 'm2', type: 'video/mp4', status: 'skipped' },
  ];
  for (const text of ['@path', '@bytes', '@mediaStatus', '@status', '@dir', '@json', '@path.length', 'mediaFiles.type', 'id', 'missing']) {
    const path = parsePath(text)!;
    t.same(recordValue(record, path), asOne(recordValues(record, path)), text);
  }
  t.equal(recordValue(record, parsePath('@path')!), 'a/m1.bin');
  t.equal(recordValue(record, parsePath('@dir')!), null, 'an outcome not set is null');
});
