// Bench helper (run by bench/backup-vs-peers.sh and bench/one-object-1gib.sh, not by the suite):
// starts the rcbs sandbox from dist/ (a real GWS + @20minutes/s3rver holding really encrypted
// objects) with a chosen media layout, writes what the tools under test need into <dir>,
// prints READY, and serves until killed.
//   node --openssl-legacy-provider bench/peers/serve.mjs <dir> <sizes>
// <sizes>: comma-separated "count x MiB" groups of plaintext sizes, e.g. "200x1,4x100" or "1x1024".
// Every recording has exactly one media file (maxSegments 1, no oddities), so recordings = objects.
// --openssl-legacy-provider: s3rver's ListObjectsV2 paging uses a cipher OpenSSL 3 hides (FACTS.md).
// Files written: config.properties (rcbs), keys.txt (object keys relative to the bucket),
// env.sh (credentials, endpoint, bucket as shell variables), sizes.txt (bytes per key).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { startSandbox } = await import(path.join(root, 'dist/sandbox/index.js'));

const [dir, spec] = process.argv.slice(2);
if (!dir || !spec) throw new Error('usage: serve.mjs <dir> <sizes, e.g. 200x1,4x100>');
const groups = spec.split(',').map((g) => g.split('x').map(Number));
const all = groups.flatMap(([count, mib]) => Array.from({ length: count }, () => mib * 1024 * 1024));
// Spread the large objects through the list, so neither tool meets them all at once at the start or end.
const large = all.filter((s) => s > 1 << 20);
const small = all.filter((s) => s <= 1 << 20);
const sizes = [];
const every = Math.max(1, Math.floor(all.length / Math.max(1, large.length)));
for (let i = 0; sizes.length < all.length; i++) sizes.push(i % every === 0 && large.length ? large.shift() : small.shift() ?? large.shift());

const started = Date.now();
const sandbox = await startSandbox({ recordings: sizes.length, mediaSizes: sizes, maxSegments: 1, oddities: false, seed: 6, concurrency: 4 });
const keys = sandbox.recordings.flatMap((r) => r.media.map((m) => m));
// The plaintexts are not needed any more: let them go (1 GiB of them for the one-object bench).
for (const m of keys) m.plain = Buffer.alloc(0);
const target = path.join(dir, 'rcbs-target');
await writeFile(path.join(dir, 'config.properties'), sandbox.configProperties(target));
await writeFile(path.join(dir, 'keys.txt'), keys.map((m) => m.key).join('\n') + '\n');
await writeFile(path.join(dir, 'sizes.txt'), keys.map((m) => `${m.key} ${m.encryptedSize} ${m.encryptedMd5}`).join('\n') + '\n');
const env = { ...sandbox.env(), S3_ENDPOINT: sandbox.s3Endpoint, S3_BUCKET: sandbox.bucket, S3_PREFIX: sandbox.keyPrefix, RCBS_TARGET: target };
await writeFile(path.join(dir, 'env.sh'), Object.entries(env).map(([k, v]) => `export ${k}='${v}'`).join('\n') + '\n');
const bytes = keys.reduce((sum, m) => sum + m.encryptedSize, 0);
process.stdout.write(`READY ${keys.length} objects ${bytes} bytes pid ${process.pid} seeded in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
const stop = () => sandbox.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
