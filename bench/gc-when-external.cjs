// Is a high external-memory mark garbage or live? Loaded with --require, it watches Node's
// external memory every 10 ms; the first time it passes EXTERNAL_MB (default 25), it runs a
// young-generation GC and then a full one, and prints external memory (and ArrayBuffers)
// before and after each. Used for BENCHMARKS.md issue 14 run 9 (the occasional 200k peak):
//   node -r ./bench/memory-parts.cjs -r ./bench/gc-when-external.cjs dist/cli.js run calls-csv …
// gc() comes from a new vm context after --expose-gc, as src/heap.ts takes it.
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const limit = Number(process.env.EXTERNAL_MB || 25) * 1048576;
const mb = (bytes) => (bytes / 1048576).toFixed(1);
const t0 = Date.now();
const timer = setInterval(() => {
  const m = process.memoryUsage();
  if (m.external <= limit) return;
  clearInterval(timer);
  gc({ type: 'minor' });
  const minor = process.memoryUsage();
  gc();
  const full = process.memoryUsage();
  process.stderr.write(`gc-when-external at ${Date.now() - t0} ms: external ${mb(m.external)} MB (ArrayBuffers ${mb(m.arrayBuffers)}) -> after a young GC ${mb(minor.external)} -> after a full GC ${mb(full.external)} (ArrayBuffers ${mb(full.arrayBuffers)})\n`);
}, 10);
timer.unref();
