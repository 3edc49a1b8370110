// Baseline for bench/metadata-export.sh: the least a metadata export must do, as a
// plain loop with no engine. It pages the same sandbox GWS (Basic auth, offset
// paging, the same page size and one-day slices as rcbs's default shardBy=1) and
// writes each recording, pretty-printed like rcbs's json-writer, to
// <out>/<tenant>/<yyyy/MM/dd/HH of startTime UTC>/<id>.json.
//   mode plain:  writeFile only (what "plain-write baseline" means in issue 6);
//   mode atomic: temp file + fsync + rename, the durability rcbs promises (SPEC §5).
// Usage: node bench/metadata-export-baseline.mjs <gwsUriPrefix> <outDir> <pageSize> <plain|atomic> <fromMs> <toMs>
// Credentials from GWS_USERNAME / GWS_PASSWORD. Prints one JSON line of figures.

import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [prefix, outDir, pageSizeArg, mode, fromArg, toArg] = process.argv.slice(2);
if (!prefix || !outDir || !pageSizeArg || !['plain', 'atomic'].includes(mode ?? '') || !fromArg || !toArg) {
  console.error('usage: node bench/metadata-export-baseline.mjs <gwsUriPrefix> <outDir> <pageSize> <plain|atomic> <fromMs> <toMs>');
  process.exit(2);
}
const pageSize = Number(pageSizeArg);
const DAY = 86_400_000;
const auth = 'Basic ' + Buffer.from(`${process.env.GWS_USERNAME}:${process.env.GWS_PASSWORD}`).toString('base64');
const two = (n) => String(n).padStart(2, '0');
const madeDirs = new Set();
let files = 0;
let bytes = 0;
let requests = 0;
let fetchMs = 0;
let writeMs = 0;
const started = performance.now();

function write(recording) {
  const tenant = recording.mediaFiles[0].tenant;
  const d = new Date(Date.parse(recording.startTime.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')));
  const dir = path.join(outDir, tenant, String(d.getUTCFullYear()), two(d.getUTCMonth() + 1), two(d.getUTCDate()), two(d.getUTCHours()));
  if (!madeDirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }
  const content = JSON.stringify(recording, null, 2) + '\n';
  const file = path.join(dir, `${recording.id}.json`);
  if (mode === 'plain') {
    writeFileSync(file, content);
  } else {
    const temp = path.join(dir, `.${recording.id}.json.${process.pid}.part`);
    const fd = openSync(temp, 'w');
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, file);
  }
  files++;
  bytes += Buffer.byteLength(content);
}

for (let start = Number(fromArg), end = Number(toArg); start < end; start += DAY) {
  const sliceEnd = Math.min(start + DAY, end);
  for (let offset = 0; ; offset += pageSize) {
    const t0 = performance.now();
    const res = await fetch(`${prefix}/recordings?startTime=${start}&endTime=${sliceEnd}&limit=${pageSize}&offset=${offset}`, { headers: { authorization: auth } });
    if (res.status !== 200) throw new Error(`GWS answered ${res.status}`);
    const body = await res.json();
    requests++;
    const t1 = performance.now();
    fetchMs += t1 - t0;
    for (const r of body.recordings) if (r.id && r.mediaFiles?.[0]?.tenant && r.mediaFiles[0].tenant !== '..') write(r);
    writeMs += performance.now() - t1;
    if (body.recordings.length < pageSize) break;
  }
}
console.log(JSON.stringify({ mode, files, bytes, requests, fetchMs: Math.round(fetchMs), writeMs: Math.round(writeMs), totalMs: Math.round(performance.now() - started) }));
