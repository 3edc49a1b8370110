// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per package,
// the top N of each. Usage: node bench/peers/cpuprofile-top.mjs <file.cpuprofile> [N=25]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: cpuprofile-top.mjs <file.cpuprofile> [N]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Self time: each sample is charged to its node; the interval is the time to the next sample.
const self = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const us = deltas[i + 1] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + us);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const pkg = new Map();
const packageOf = (url) => {
  if (!url) return '(native / V8)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node core';
  const src = /\/(dist|src)\/(.+)$/.exec(url);
  return src ? `rcbs ${src[2].split('/')[0]}` : url;
};
for (const [id, us] of self) {
  const { callFrame: cf } = byId.get(id);
  const name = `${cf.functionName || '(anonymous)'} ${cf.url ? `${cf.url.replace(/^.*\/(node_modules|dist|src)\//, '$1/')}:${cf.lineNumber + 1}` : ''}`.trim();
  fn.set(name, (fn.get(name) ?? 0) + us);
  const p = packageOf(cf.url);
  pkg.set(p, (pkg.get(p) ?? 0) + us);
}
const print = (title, map) => {
  console.log(`\n${title}`);
  console.log('| self ms | % | where |\n|---|---|---|');
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`| ${(us / 1000).toFixed(0)} | ${((100 * us) / total).toFixed(1)} | ${k.replace(/\|/g, '\\|')} |`);
  }
};
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
print('Top functions by self time', fn);
print('Self time by package', pkg);
