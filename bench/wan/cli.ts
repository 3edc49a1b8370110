// The WAN link model (bench/wan/link.ts) from the command line, for the bench scripts (not the suite).
// Compiled by bench/wan/build.sh into node_modules/.cache/rcbs-wan/cli.js.
//   serve [link options] --forward <host:port> … [--probe] [--max-seconds 3600]
//       starts one link in front of each upstream, prints "FORWARD <listen port> <host:port>" per
//       upstream (and "PROBE <port>": a byte source behind the same link, to measure it), then
//       "READY <pid>"; serves until SIGTERM/SIGINT or --max-seconds, then prints "STATS <json>".
//       --timeline <file>: every 20 ms that bytes moved, appends "<epoch ms> <bytes down> <bytes up>"
//       (totals so far), for bench/wan/timeline.mjs: when a run filled the link, how long it idled.
//   measure --port <probe port> [--streams 16] [--mib 8]
//       N streams at once through a running link to its probe; prints "MEASURE <json>".
//   check [link options] [--streams 16] [--mib 8]
//       the model's own check in one process: one stream reaches its cap, N streams share the link
//       fairly, the RTT shows in the time to the first byte (cold and warm connection), a slow
//       reader pauses the sender with bounded memory. Prints one line per check and exits 1 if one fails.
// Link options: --rtt <ms> (40) --conn-mibps <MiB/s per connection> (16) --link-mibps <MiB/s for all> (64)
//               --queue-kib <KiB held per direction before pausing the sender> (2048)
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkSlowReader, firstByteTimes, measureStreams, startProbeServer, startWanLink, type StreamsResult, type WanLinkOptions } from './link.js';

const MIB = 1024 * 1024;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    rtt: { type: 'string', default: '40' },
    'conn-mibps': { type: 'string', default: '16' },
    'link-mibps': { type: 'string', default: '64' },
    'queue-kib': { type: 'string', default: '2048' },
    forward: { type: 'string', multiple: true, default: [] },
    probe: { type: 'boolean', default: false },
    'max-seconds': { type: 'string', default: '3600' },
    timeline: { type: 'string' },
    port: { type: 'string' },
    streams: { type: 'string', default: '16' },
    mib: { type: 'string', default: '8' },
  },
});

function linkOptions(): WanLinkOptions {
  return {
    rttMs: Number(values.rtt),
    connectionBytesPerSecond: Number(values['conn-mibps']) * MIB,
    linkBytesPerSecond: Number(values['link-mibps']) * MIB,
    queueBytes: Number(values['queue-kib']) * 1024,
  };
}

const mibps = (bytesPerSecond: number) => Number((bytesPerSecond / MIB).toFixed(2));

function summary(r: StreamsResult) {
  const rates = r.streams.map((s) => s.bytesPerSecond);
  const sum = rates.reduce((a, b) => a + b, 0);
  const squares = rates.reduce((a, b) => a + b * b, 0);
  return {
    streams: r.streams.length,
    mibps: mibps(r.bytesPerSecond),
    streamMinMibps: mibps(Math.min(...rates)),
    streamMaxMibps: mibps(Math.max(...rates)),
    // Jain's fairness index: 1 when every stream got the same rate, 1/n when one got all.
    fairness: Number(((sum * sum) / (rates.length * squares)).toFixed(3)),
    firstByteMsMedian: Number(r.streams.map((s) => s.firstByteMs).sort((a, b) => a - b)[Math.floor(r.streams.length / 2)]!.toFixed(1)),
    wallS: Number((r.wallMs / 1000).toFixed(2)),
  };
}

async function serve(): Promise<void> {
  const link = startWanLink(linkOptions());
  for (const target of values.forward) {
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    const forward = await link.forward({ host, port });
    process.stdout.write(`FORWARD ${forward.port} ${target}\n`);
  }
  let probe: Awaited<ReturnType<typeof startProbeServer>> | undefined;
  if (values.probe) {
    probe = await startProbeServer();
    const forward = await link.forward({ host: '127.0.0.1', port: probe.port });
    process.stdout.write(`PROBE ${forward.port}\n`);
  }
  if (values.timeline) recordTimeline(link, values.timeline);
  process.stdout.write(`READY ${process.pid} ${JSON.stringify(link.options)}\n`);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Number(values['max-seconds']) * 1000);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        clearTimeout(timer);
        resolve();
      });
    }
  });
  process.stdout.write(`STATS ${JSON.stringify({ ...link.stats(), rssMb: Math.round(process.memoryUsage().rss / MIB) })}\n`);
  await Promise.all([link.close(), probe?.close()]);
}

/** Appends the link's byte totals to `file` every 20 ms that they moved (unref'd: ends with the process). */
function recordTimeline(link: ReturnType<typeof startWanLink>, file: string): void {
  let last = '';
  setInterval(() => {
    const { bytesDown, bytesUp } = link.stats();
    const now = `${bytesDown} ${bytesUp}`;
    if (now === last) return;
    last = now;
    appendFileSync(file, `${Date.now()} ${now}\n`);
  }, 20).unref();
}

async function measure(): Promise<void> {
  const result = await measureStreams(Number(values.port), Number(values.streams), Number(values.mib) * MIB);
  process.stdout.write(`MEASURE ${JSON.stringify(summary(result))}\n`);
}

async function check(): Promise<void> {
  const options = linkOptions();
  const link = startWanLink(options);
  const probe = await startProbeServer();
  const { port } = await link.forward({ host: '127.0.0.1', port: probe.port });
  const bytes = Number(values.mib) * MIB;
  const n = Number(values.streams);
  let failed = false;
  const report = (name: string, ok: boolean, detail: unknown) => {
    failed ||= !ok;
    process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${name} ${JSON.stringify(detail)}\n`);
  };
  try {
    const [cold, warm] = await firstByteTimes(port);
    report('rtt: first byte of a new connection after 2 RTT, of a warm one after 1', cold >= 2 * options.rttMs - 1 && warm >= options.rttMs - 1, { rttMs: options.rttMs, coldMs: Number(cold.toFixed(1)), warmMs: Number(warm.toFixed(1)) });
    const one = summary(await measureStreams(port, 1, bytes));
    const cap = options.connectionBytesPerSecond / MIB;
    report('one stream reaches its cap (0.85-1.05)', one.mibps >= 0.85 * cap && one.mibps <= 1.05 * cap, { capMibps: cap, share: Number((one.mibps / cap).toFixed(3)), ...one });
    const many = summary(await measureStreams(port, n, bytes));
    const linkCap = Math.min(options.linkBytesPerSecond, n * options.connectionBytesPerSecond) / MIB;
    report(`${n} streams share the link (0.85-1.05 of it, fairness >= 0.95)`, many.mibps >= 0.85 * linkCap && many.mibps <= 1.05 * linkCap && many.fairness >= 0.95, { capMibps: linkCap, share: Number((many.mibps / linkCap).toFixed(3)), ...many });
    const slow = await checkSlowReader(link, port, probe, 4 * options.queueBytes + 16 * MIB);
    report('a slow reader pauses the sender, memory bounded (held <= queue + 64 KiB)', slow.intact && slow.peakHeldBytes <= options.queueBytes + 64 * 1024, { queueBytes: options.queueBytes, ...slow });
  } finally {
    await link.close();
    await probe.close();
  }
  process.exitCode = failed ? 1 : 0;
}

const commands: Record<string, () => Promise<void>> = { serve, measure, check };
const command = commands[positionals[0] ?? ''];
if (!command) {
  process.stderr.write('usage: cli.js serve|measure|check [options] (see the header of bench/wan/cli.ts)\n');
  process.exitCode = 2;
} else {
  await command();
}
