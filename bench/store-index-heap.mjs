// Heap the store's index costs once opened (BENCHMARKS.md, metadata-only memory): writes a
// synthetic state of N recordings (one media each: recordings.ndjson + index.ndjson lines
// shaped like rcbs's own), opens it read-only with the built store, and prints the heap and
// ArrayBuffer growth measured after forced GCs.
//   npm run build && node --expose-gc bench/store-index-heap.mjs [N=50000]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

if (typeof gc !== 'function') throw new Error('run with node --expose-gc');
const n = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'rcbs-index-heap-'));
mkdirSync(path.join(dir, '.rcbs'));
const id = (i) => `R${String(i).padStart(8, '0')}${'X'.repeat(23)}`;
const recordings = [];
const media = [];
for (let i = 0; i < n; i++) {
  const hour = String(i % 24).padStart(2, '0');
  const folder = `Tenant_B/2026/11/22/${hour}`;
  const mediaId = `${id(i)}_2026-11-22_${hour}-50-37-098CA22A-7CC35A42-00000B2F.mp3`;
  recordings.push(JSON.stringify({ recordingId: id(i), path: `${folder}/${id(i)}.json`, mediaIds: [mediaId], sha256: 'ab'.repeat(32), writtenAt: 1 }));
  media.push(JSON.stringify({ recordingId: id(i), mediaId, path: `${folder}/${mediaId}.bin`, size: 1_048_576 + i, md5: 'cd'.repeat(16), etag: `"${'cd'.repeat(16)}"`, completedAt: 1 }));
}
writeFileSync(path.join(dir, '.rcbs', 'recordings.ndjson'), recordings.join('\n') + '\n');
writeFileSync(path.join(dir, '.rcbs', 'index.ndjson'), media.join('\n') + '\n');
recordings.length = 0;
media.length = 0;

const { openStore } = await import('../dist/store/index.js');
const { silentLogger } = await import('../dist/log.js');
const usage = () => {
  gc();
  const u = process.memoryUsage();
  return { heap: u.heapUsed, buffers: u.arrayBuffers };
};
const before = usage();
const store = await openStore({ targetDir: dir, recordingFolderFormat: 'yyyy/MM/dd/HH', log: silentLogger, readOnly: true });
const after = usage();
const mb = (bytes) => (bytes / 1e6).toFixed(1);
console.log(`${n} recordings + ${n} media entries: heap +${mb(after.heap - before.heap)} MB, typed arrays +${mb(after.buffers - before.buffers)} MB, ${((after.heap - before.heap + after.buffers - before.buffers) / n).toFixed(0)} bytes per recording`);
await store.close();
rmSync(dir, { recursive: true, force: true });
