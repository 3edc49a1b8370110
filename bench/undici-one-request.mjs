// What undici's WebAssembly HTTP parser costs in peak RSS (BENCHMARKS.md, "Start-up memory"):
// N requests to a local HTTP server with undici, optionally after a V8 flag set the way
// src/cli.ts sets it. Compare the peak RSS of the two runs:
//   /usr/bin/time -f '%M KB' node bench/undici-one-request.mjs 1
//   /usr/bin/time -f '%M KB' node bench/undici-one-request.mjs 1 --liftoff-only
import http from 'node:http';
import v8 from 'node:v8';

const count = Number(process.argv[2] ?? 1);
if (process.argv[3]) v8.setFlagsFromString(process.argv[3]);
const { Agent, request } = await import('undici');
const server = http.createServer((_req, res) => res.end(JSON.stringify({ statusCode: 0, recordings: [] })));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/api/v2/recordings`;
const agent = new Agent();
const started = performance.now();
for (let i = 0; i < count; i++) await (await request(url, { dispatcher: agent })).body.text();
const ms = performance.now() - started;
await agent.close();
server.close();
console.log(`${count} requests in ${ms.toFixed(0)} ms, resident now ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB (flag: ${process.argv[3] ?? 'none'})`);
