// Soak (run by hand via bench/soak.sh, not in the suite): the kill -9 test of
// test/reliability-kill9-then-rerun.test.ts at N random points (default 20).
// Each iteration starts a backup against one sandbox, kills it with SIGKILL after
// a random delay (up to 90% of a clean run's time), and checks the folder: nothing partial under a final name, the
// index honest, the checkpoint never past a gap. Every 5th iteration the target
// is wiped so early phases (paging, first transfers) are hit again. A final rerun
// must complete the byte-exact set. Prints one table row per iteration.
//   node soak.js [iterations] [recordings] [workdir]

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../src/sandbox/index.js';
import { backupState } from '../test/helpers/backup-state.js';

const iterations = Number(process.argv[2] ?? 20);
const recordings = Number(process.argv[3] ?? 60);
const work = process.argv[4] ?? path.join(os.tmpdir(), `rcbs-soak-${process.pid}`);
const here = path.dirname(fileURLToPath(import.meta.url));
// The compiled bench lives in node_modules/.cache/rcbs-bench/bench; the CLI under test is dist/cli.js.
const cli = path.resolve(here, '..', '..', '..', '..', 'dist', 'cli.js');

const sandbox = await startSandbox({ recordings, oddities: false, mediaSize: { min: 100_000, max: 600_000 }, seed: 5 });
const targetDir = path.join(work, 'target');
mkdirSync(work, { recursive: true });
const config = path.join(work, 'config.properties');
writeFileSync(config, sandbox.configProperties(targetDir, { numThreads: 4 }));
const env = { ...process.env, ...sandbox.env() };

async function run(killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [cli, '-config', config], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, ms: Date.now() - started };
}

// One clean run first: kill points are drawn across its duration, so every phase gets hit.
rmSync(targetDir, { recursive: true, force: true });
const clean = await run();
rmSync(targetDir, { recursive: true, force: true });
let failures = 0;
console.log(`soak: ${iterations} kill -9 iterations, ${recordings} recordings, a clean run takes ${clean.ms} ms (exit ${clean.code}), cli ${cli}`);
console.log('| # | kill after ms | exit | media done | temp files | checkpoint | problems |');
console.log('|---|---|---|---|---|---|---|');
for (let i = 1; i <= iterations; i++) {
  if (i % 5 === 1) rmSync(targetDir, { recursive: true, force: true });
  const delay = Math.round(50 + Math.random() * 0.9 * clean.ms);
  const result = await run(delay);
  const state = backupState(targetDir, sandbox);
  if (state.problems.length) failures++;
  console.log(`| ${i} | ${delay} | ${result.code ?? result.signal} | ${state.media.size} | ${state.temps.length} | ${state.checkpoint ? 'yes' : 'no'} | ${state.problems.length ? state.problems.join('; ') : 'none'} |`);
}
const final = await run();
const state = backupState(targetDir, sandbox);
const ok = final.code === 0 && state.complete && state.problems.length === 0 && state.temps.length === 0;
console.log(`final rerun: exit ${final.code} in ${final.ms} ms, ${state.media.size} media, missing ${state.missing.length}, temps ${state.temps.length}, problems ${state.problems.length}`);
console.log(ok && failures === 0 ? 'SOAK PASSED' : 'SOAK FAILED');
await sandbox.close();
if (!process.argv[4]) rmSync(work, { recursive: true, force: true });
process.exit(ok && failures === 0 ? 0 : 1);
