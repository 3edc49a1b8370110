// Summarises a .heapsnapshot: total self size of the live objects, and the largest kinds
// (BENCHMARKS.md, backup peak RSS). Take one mid-run, e.g.:
//   node --heapsnapshot-signal=SIGUSR2 dist/cli.js -config config.properties &  sleep 2; kill -USR2 $!
//   node --max-old-space-size=4096 bench/peers/heapsnapshot-top.mjs Heap.*.heapsnapshot [rows=15]
import { readFileSync } from 'node:fs';

const [file, rowsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/peers/heapsnapshot-top.mjs <file.heapsnapshot> [rows]');
const snapshot = JSON.parse(readFileSync(file, 'utf8'));
const meta = snapshot.snapshot.meta;
const width = meta.node_fields.length;
const types = meta.node_types[0];
const typeAt = meta.node_fields.indexOf('type');
const nameAt = meta.node_fields.indexOf('name');
const sizeAt = meta.node_fields.indexOf('self_size');
const bySort = new Map();
let total = 0;
for (let i = 0; i < snapshot.nodes.length; i += width) {
  const type = types[snapshot.nodes[i + typeAt]];
  const name = snapshot.strings[snapshot.nodes[i + nameAt]];
  const size = snapshot.nodes[i + sizeAt];
  const sort = type === 'object' || type === 'closure' ? `${type} ${name}` : type === 'code' ? `code ${name.slice(0, 40)}` : type;
  bySort.set(sort, (bySort.get(sort) ?? 0) + size);
  total += size;
}
console.log(`live objects: ${(total / 1e6).toFixed(1)} MB`);
console.log('| MB | kind |\n|---|---|');
for (const [sort, size] of [...bySort].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 15))) console.log(`| ${(size / 1e6).toFixed(2)} | ${sort} |`);
