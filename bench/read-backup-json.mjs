// How long reading a backup folder's recording JSON files takes, synchronously (what the
// backup-dir source does) or by fs.readFile callbacks 8 at a time (what it did before): the
// files only, no parsing. Run by hand, alternating the two, on a backup folder written by
// `rcbs run metadata-export` (BENCHMARKS.md, issue 14 run 8):
//   node bench/read-backup-json.mjs <backup folder> sync|async
// Prints the files, the wall time of the reads, and the process's CPU time so far (its start
// included: compare the two modes, not the figure alone).
import { readdirSync, readFile, readFileSync } from 'node:fs';
import path from 'node:path';

const [root, mode] = process.argv.slice(2);
if (!root || (mode !== 'sync' && mode !== 'async')) {
  console.error('usage: node bench/read-backup-json.mjs <backup folder> sync|async');
  process.exit(2);
}
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith('.json')) files.push(full);
  }
};
walk(root);

const started = performance.now();
let chars = 0;
if (mode === 'sync') {
  for (const file of files) chars += readFileSync(file, 'utf8').length;
} else {
  let next = 0;
  const readOne = (file) => new Promise((resolve, reject) => readFile(file, 'utf8', (err, text) => (err ? reject(err) : resolve(text))));
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < files.length) {
      const text = await readOne(files[next++]);
      chars += text.length;
    }
  }));
}
const cpu = process.cpuUsage();
console.log(`${mode}: ${files.length} files, ${chars} characters, ${(performance.now() - started).toFixed(0)} ms, process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`);
