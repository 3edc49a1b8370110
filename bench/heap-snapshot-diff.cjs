// What grew between two heap snapshots (bench/heap-snapshots-at.cjs), by node type and name:
// bytes and count added, and the later snapshot's total, the 25 largest rises; with a third
// argument, only the type:name keys that regex matches.
//   node bench/heap-snapshot-diff.cjs /tmp/snap-gws-700.heapsnapshot /tmp/snap-gws-2200.heapsnapshot
//   node bench/heap-snapshot-diff.cjs <before> <after> 'object:(Abort|EventTarget|WeakRef)'
const fs = require('node:fs');

function byName(file) {
  const snapshot = JSON.parse(fs.readFileSync(file, 'utf8'));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [type, name, size] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const totals = new Map();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const key = `${types[snapshot.nodes[i + type]]}:${snapshot.strings[snapshot.nodes[i + name]].slice(0, 60)}`;
    const total = totals.get(key) ?? { bytes: 0, count: 0 };
    total.bytes += snapshot.nodes[i + size];
    total.count++;
    totals.set(key, total);
  }
  return totals;
}

const before = byName(process.argv[2]);
const after = byName(process.argv[3]);
const only = process.argv[4] === undefined ? undefined : new RegExp(process.argv[4]);
const rows = [...after].filter(([key]) => !only || only.test(key)).map(([key, total]) => {
  const was = before.get(key) ?? { bytes: 0, count: 0 };
  return { key, bytes: total.bytes - was.bytes, count: total.count - was.count, now: total.bytes };
});
rows.sort((a, b) => b.bytes - a.bytes);
console.log('bytes added | count added | bytes now | type:name');
for (const row of rows.slice(0, 25)) console.log(`${row.bytes} | ${row.count} | ${row.now} | ${row.key}`);
