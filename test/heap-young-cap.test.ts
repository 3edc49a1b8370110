// Pins the young-generation cap of src/heap.ts's policies (EXPORT_HEAP_POLICY holds it at
// 16 MB so that a long export's peak RSS is not V8 doubling it): once V8's young generation
// reaches the cap it stops growing, and a policy without a cap lets it grow again. In a
// fresh node process (the built dist/heap.js): the V8 flag behind it holds for the whole
// process, and a test process's young generation has long grown. (Node 24's V8 may still
// grow it a little past the cap, 8 → 8.5 MB seen: well short of a doubling.)

import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const heapModule = new URL('../dist/heap.js', import.meta.url).href;

// Objects that survive a few young-generation GCs, the pattern that makes V8 grow it, with
// turns of the event loop between (the cap is applied from a gc entry, delivered on a turn,
// as in a run). Prints the largest size seen after each phase.
const script = `
import { setImmediate as turn } from 'node:timers/promises';
const { DEFAULT_HEAP_POLICY, setHeapPolicy, youngGenerationSize } = await import(${JSON.stringify(heapModule)});
async function surviving(rounds) {
  let keep = [];
  let largest = youngGenerationSize();
  for (let i = 0; i < rounds; i++) {
    keep.push({ i, s: 'value ' + i });
    if (keep.length > 40000) keep = keep.slice(20000);
    if (i % 2000 === 0) {
      largest = Math.max(largest, youngGenerationSize());
      await turn();
    }
  }
  return Math.max(largest, youngGenerationSize());
}
const cap = Number(process.argv[1]);
const start = youngGenerationSize();
setHeapPolicy({ budget: 4 << 20, countArrayBuffers: false, youngCap: cap });
const capped = await surviving(1000000);
const held = await surviving(2000000);
setHeapPolicy(DEFAULT_HEAP_POLICY);
const grown = await surviving(2000000);
console.log(JSON.stringify({ start, capped, held, grown }));
`;

t.test('the young generation stops at the cap, and grows again under a policy without one', async (t) => {
  const cap = 8 << 20;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, String(cap)], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
  const { start, capped, held, grown } = JSON.parse(stdout) as Record<string, number>;
  t.ok(start < cap, `a fresh process starts below the cap (${start} bytes)`);
  t.ok(capped >= cap, `it reached the cap (${capped} bytes)`);
  t.ok(held < 2 * cap, `twice as much work again, and it does not double (${held} bytes, cap ${cap})`);
  t.ok(grown >= 4 * cap, `without the cap the same work grows it to ${grown} bytes`);
});
