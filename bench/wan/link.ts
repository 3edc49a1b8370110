// A model of a WAN link for the benchmarks (issue 15), in user space because this kernel has no
// netem (FACTS.md): a TCP proxy on 127.0.0.1 in front of one or more upstreams (the sandbox S3 and
// GWS), shared by every connection through it, as one customer's internet link would be.
// Per connection, in each direction:
//   source socket → queue → rate (the connection's token bucket, and the link's fair share)
//                 → delay line (rtt/2: bytes leave rtt/2 after the link sent them) → sink socket
// - A new connection's first client byte leaves one RTT after the connection was accepted (the
//   TCP handshake), so the first answer byte arrives 2 RTT after connect; a warm connection's
//   request/answer costs 1 RTT. The FIN travels the delay line too.
// - Each connection is capped at `connectionBytesPerSecond`; all connections together at
//   `linkBytesPerSecond` per direction (the link is full duplex), shared max-min fairly: every
//   tick the link's tokens are water-filled over the connections that have bytes waiting.
// - Flow control: a direction holds at most `queueBytes` (waiting + in the delay line + what the
//   sink has not taken yet); beyond it the source socket is paused until it is down to half, so a
//   slow reader pushes back on the sender and memory stays bounded (about queueBytes per
//   direction plus one socket read). Bytes on the wire count too, as in a TCP window: one
//   connection never gets more than queueBytes / (rtt/2), so keep the queue above that product.
// Simplifications: no loss, no slow start (a new connection gets its full rate at once; an idle
// one may send 5 ms of rate at once). While a connection has bytes waiting, its token bucket keeps
// what late timers would lose (up to 250 ms), so on a busy machine the model still gives its rates
// on average. Its measured capacity (measureStreams) is reported beside every result.
// Also here: the probe, a byte source to measure the model with (one line "<n>\n" in, n bytes
// out, any number of requests per connection), used by bench/wan/cli.ts and the test.

import net from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';

export interface WanLinkOptions {
  /** Round-trip time added (half each way, plus one for each new connection). */
  rttMs: number;
  /** Cap of one connection, each direction. */
  connectionBytesPerSecond: number;
  /** Cap of all connections together, each direction. */
  linkBytesPerSecond: number;
  /** Most bytes one direction of one connection holds before pausing its sender. */
  queueBytes: number;
}

export interface WanLinkStats {
  connections: number;
  open: number;
  /** Bytes delivered client→upstream and upstream→client. */
  bytesUp: number;
  bytesDown: number;
  /** Largest number of bytes one direction held (queue + delay line + unsent sink writes). */
  peakHeldBytes: number;
  /** Times a source socket was paused because its direction was full. */
  pauses: number;
}

export interface WanPause {
  direction: 'up' | 'down';
  /** Bytes the direction held when it paused its source. */
  heldBytes: number;
  /** The sink was not taking bytes (a slow reader), as opposed to the link's rate being reached. */
  sinkBlocked: boolean;
}

export interface WanForward {
  /** Where the link listens (127.0.0.1). */
  port: number;
  upstream: { host: string; port: number };
}

export interface WanLink {
  readonly options: Readonly<WanLinkOptions>;
  /** Starts a listener on 127.0.0.1 (port 0 = any free port) whose connections go to upstream through the link. */
  forward(upstream: { host: string; port: number }, port?: number): Promise<WanForward>;
  stats(): WanLinkStats;
  /** Called each time a direction pauses its source, and when a paused direction's sink stops taking bytes; returns an unsubscribe function. */
  onPause(listener: (pause: WanPause) => void): () => void;
  close(): Promise<void>;
}

const TICK_MS = 2;
/** What a token bucket holds when its owner was idle. */
const BUCKET_MS = 5;
/** What it may hold when its owner had bytes waiting all along (the timer ran late). */
const CATCH_UP_MS = 250;

/**
 * A token bucket. Idle, it fills up to BUCKET_MS of its rate. While its owner has bytes waiting it
 * keeps up to CATCH_UP_MS: on a busy machine the model's own timers run late, and a real link
 * would have kept sending meanwhile, so the time lost is given back instead of capping the rate.
 */
class TokenBucket {
  #tokens: number;
  #refilledAt = performance.now();
  /** Set by the owner after each grant: it still had bytes waiting. */
  backlogged = false;

  /** Starts empty: a new connection gets its rate, not a burst on top of it. */
  constructor(readonly bytesPerSecond: number) {
    this.#tokens = 0;
  }

  #cap(ms: number): number {
    return Math.max(16 * 1024, (this.bytesPerSecond * ms) / 1000);
  }

  available(now: number): number {
    const cap = this.#cap(this.backlogged ? CATCH_UP_MS : BUCKET_MS);
    this.#tokens = Math.min(cap, this.#tokens + ((now - this.#refilledAt) * this.bytesPerSecond) / 1000);
    this.#refilledAt = now;
    return Math.floor(this.#tokens);
  }

  take(bytes: number): void {
    this.#tokens -= bytes;
  }
}

/** One direction of one connection. */
class Flow {
  readonly #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #line: Array<{ at: number; chunk: Buffer | null }> = [];
  #lineBytes = 0;
  #lineTimer: NodeJS.Timeout | undefined;
  readonly #bucket: TokenBucket;
  #paused = false;
  #sinkBlocked = false;
  #ended = false;

  constructor(
    readonly source: net.Socket,
    readonly sink: net.Socket,
    /** No byte leaves before this time (performance.now()). */
    readonly openAt: number,
    readonly link: Link,
    readonly direction: Direction,
  ) {
    this.#bucket = new TokenBucket(link.options.connectionBytesPerSecond);
    source.on('data', (chunk: Buffer) => this.#take(chunk));
    source.on('end', () => {
      this.#ended = true;
      this.direction.wake(this);
      this.#maybeFinish();
    });
    sink.on('drain', () => {
      this.#sinkBlocked = false;
      this.direction.wake(this);
      this.#maybeResume();
    });
  }

  get held(): number {
    return this.#pendingBytes + this.#lineBytes + this.sink.writableLength;
  }

  /** Bytes this flow could send now, on its own bucket (the link's share comes on top). */
  demand(now: number): number {
    if (!this.waiting || now < this.openAt) return 0;
    return Math.min(this.#pendingBytes, this.#bucket.available(now));
  }

  /** Has bytes to send and a sink that takes them: the link's scheduler looks at it. */
  get waiting(): boolean {
    return this.#pendingBytes > 0 && !this.#sinkBlocked && !this.sink.destroyed;
  }

  /** The link granted `bytes`: they enter the delay line. */
  send(bytes: number, now: number): void {
    this.#bucket.take(bytes);
    let left = bytes;
    while (left > 0) {
      const head = this.#pending[0]!;
      const piece = head.length <= left ? this.#pending.shift()! : head.subarray(0, left);
      if (piece !== head) this.#pending[0] = head.subarray(left);
      left -= piece.length;
      this.#pendingBytes -= piece.length;
      this.#enterLine(piece, now);
    }
    this.#bucket.backlogged = this.waiting;
    this.#maybeFinish();
  }

  #take(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    this.link.noteHeld(this.held);
    if (!this.#paused && this.held >= this.link.options.queueBytes) {
      this.#paused = true;
      this.source.pause();
      this.link.paused({ direction: this.direction.name, heldBytes: this.held, sinkBlocked: this.#sinkBlocked }, true);
    }
    this.direction.wake(this);
  }

  #enterLine(chunk: Buffer | null, now: number): void {
    this.#line.push({ at: now + this.link.options.rttMs / 2, chunk });
    if (chunk) this.#lineBytes += chunk.length;
    this.#armLine(now);
  }

  #armLine(now: number): void {
    if (this.#lineTimer || this.#line.length === 0) return;
    this.#lineTimer = setTimeout(() => this.#release(), Math.max(0, this.#line[0]!.at - now));
  }

  #release(): void {
    this.#lineTimer = undefined;
    const now = performance.now();
    if (this.sink.destroyed) return;
    this.sink.cork();
    // Timers fire up to a millisecond early or late: what is due within half a millisecond goes now.
    while (this.#line.length > 0 && this.#line[0]!.at <= now + 0.5) {
      const { chunk } = this.#line.shift()!;
      if (chunk === null) {
        this.sink.end();
        continue;
      }
      this.#lineBytes -= chunk.length;
      this.direction.delivered += chunk.length;
      if (!this.sink.write(chunk) && !this.#sinkBlocked) {
        this.#sinkBlocked = true;
        // Already paused by the rate: from now on it is the reader that holds the sender back.
        if (this.#paused) this.link.paused({ direction: this.direction.name, heldBytes: this.held, sinkBlocked: true }, false);
      }
    }
    this.sink.uncork();
    this.#armLine(now);
    this.#maybeResume();
  }

  #maybeResume(): void {
    if (this.#paused && this.held <= this.link.options.queueBytes / 2 && !this.source.destroyed) {
      this.#paused = false;
      this.source.resume();
    }
  }

  /** Once the source has ended and every byte is in the delay line, the FIN follows them. */
  #maybeFinish(): void {
    if (this.#ended && this.#pendingBytes === 0) {
      this.#ended = false;
      this.#enterLine(null, performance.now());
    }
  }

  stop(): void {
    clearTimeout(this.#lineTimer);
    this.#line.length = 0;
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.#lineBytes = 0;
    this.direction.remove(this);
  }
}

/** Every connection's flows in one direction, sharing the link's rate in that direction. */
class Direction {
  readonly #flows = new Set<Flow>();
  readonly #bucket: TokenBucket;
  #timer: NodeJS.Timeout | undefined;
  delivered = 0;

  constructor(
    readonly link: Link,
    readonly name: 'up' | 'down',
  ) {
    this.#bucket = new TokenBucket(link.options.linkBytesPerSecond);
  }

  wake(flow: Flow): void {
    if (flow.waiting) this.#flows.add(flow);
    this.#arm(TICK_MS);
  }

  remove(flow: Flow): void {
    this.#flows.delete(flow);
  }

  #arm(delayMs: number): void {
    if (this.#timer || this.#flows.size === 0) return;
    this.#timer = setTimeout(() => this.#tick(), delayMs);
  }

  #tick(): void {
    this.#timer = undefined;
    const now = performance.now();
    // Max-min fair share (water-filling): the smallest demands are met first, the rest of the
    // link's tokens split evenly among the larger ones.
    const demands: Array<{ flow: Flow; bytes: number }> = [];
    let nextOpen = Number.POSITIVE_INFINITY;
    for (const flow of this.#flows) {
      if (!flow.waiting) {
        this.#flows.delete(flow);
        continue;
      }
      if (now < flow.openAt) nextOpen = Math.min(nextOpen, flow.openAt);
      const bytes = flow.demand(now);
      if (bytes > 0) demands.push({ flow, bytes });
    }
    demands.sort((a, b) => a.bytes - b.bytes);
    let left = this.#bucket.available(now);
    demands.forEach(({ flow, bytes }, i) => {
      const share = Math.min(bytes, Math.floor(left / (demands.length - i)));
      if (share <= 0) return;
      left -= share;
      this.#bucket.take(share);
      flow.send(share, now);
    });
    for (const flow of this.#flows) if (!flow.waiting) this.#flows.delete(flow);
    this.#bucket.backlogged = demands.length > 0 && this.#flows.size > 0;
    if (this.#flows.size === 0) return;
    // Flows still waiting only for their handshake: wake when the first one opens.
    const onlyOpening = demands.length === 0 && nextOpen !== Number.POSITIVE_INFINITY;
    this.#arm(onlyOpening ? Math.max(TICK_MS, nextOpen - now) : TICK_MS);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#flows.clear();
  }
}

class Link {
  readonly up: Direction;
  readonly down: Direction;
  connections = 0;
  readonly sockets = new Set<net.Socket>();
  peakHeldBytes = 0;
  pauses = 0;
  readonly pauseListeners = new Set<(pause: WanPause) => void>();

  constructor(readonly options: Readonly<WanLinkOptions>) {
    this.up = new Direction(this, 'up');
    this.down = new Direction(this, 'down');
  }

  /** newPause: the source was paused now (counted); otherwise a paused source's sink just blocked. */
  paused(pause: WanPause, newPause: boolean): void {
    if (newPause) this.pauses++;
    for (const listener of this.pauseListeners) listener(pause);
  }

  noteHeld(bytes: number): void {
    if (bytes > this.peakHeldBytes) this.peakHeldBytes = bytes;
  }

  connect(client: net.Socket, upstream: { host: string; port: number }): void {
    const accepted = performance.now();
    this.connections++;
    const server = net.connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true });
    client.setNoDelay(true);
    server.setNoDelay(true);
    this.sockets.add(client).add(server);
    // Client bytes wait for the handshake (one RTT); the answer can only follow them.
    const flows = [new Flow(client, server, accepted + this.options.rttMs, this, this.up), new Flow(server, client, 0, this, this.down)];
    let closed = 0;
    const done = () => {
      if (++closed < 2) return;
      for (const flow of flows) flow.stop();
    };
    for (const socket of [client, server]) {
      // A reset on either side resets the other: what a real path does when one end dies.
      socket.on('error', () => {
        client.destroy();
        server.destroy();
      });
      socket.on('close', () => {
        this.sockets.delete(socket);
        if (socket === client) server.destroy();
        done();
      });
    }
  }
}

export function startWanLink(options: WanLinkOptions): WanLink {
  for (const [name, value] of Object.entries(options)) {
    if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) throw new Error(`WAN link option ${name} must be a number of 0 or more, got ${value}`);
  }
  if (options.connectionBytesPerSecond <= 0 || options.linkBytesPerSecond <= 0 || options.queueBytes <= 0) {
    throw new Error('WAN link rates and queue must be above 0');
  }
  const link = new Link(Object.freeze({ ...options }));
  const servers: net.Server[] = [];
  return {
    options: link.options,
    async forward(upstream, port = 0) {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (client) => link.connect(client, upstream));
      servers.push(server);
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      return { port: (server.address() as net.AddressInfo).port, upstream };
    },
    stats() {
      return {
        connections: link.connections,
        open: link.sockets.size / 2,
        bytesUp: link.up.delivered,
        bytesDown: link.down.delivered,
        peakHeldBytes: link.peakHeldBytes,
        pauses: link.pauses,
      };
    },
    onPause(listener) {
      link.pauseListeners.add(listener);
      return () => link.pauseListeners.delete(listener);
    },
    async close() {
      for (const socket of link.sockets) socket.destroy();
      link.up.close();
      link.down.close();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

/** Byte i of every probe answer. */
const PROBE_BLOCK = Buffer.alloc(64 * 1024);
for (let i = 0; i < PROBE_BLOCK.length; i++) PROBE_BLOCK[i] = (i * 2654435761) >>> 24;

export interface Probe {
  port: number;
  /** Resolves once the probe is waiting for a socket to drain (at once if it is now): its reader pushes back. */
  blocked(): Promise<void>;
  close(): Promise<void>;
}

/** The probe: for each line "<n>\n" it receives, sends n bytes (the same pattern every time), honouring backpressure. */
export async function startProbeServer(port = 0): Promise<Probe> {
  const sockets = new Set<net.Socket>();
  let waitingForDrain = 0;
  const blockedWaiters: Array<() => void> = [];
  const sendBytes = async (socket: net.Socket, n: number) => {
    for (let sent = 0; sent < n && !socket.destroyed; ) {
      const piece = Math.min(PROBE_BLOCK.length, n - sent);
      sent += piece;
      if (!socket.write(piece === PROBE_BLOCK.length ? PROBE_BLOCK : PROBE_BLOCK.subarray(0, piece))) {
        waitingForDrain++;
        for (const wake of blockedWaiters.splice(0)) wake();
        await new Promise<void>((resolve) => {
          const done = () => {
            socket.off('drain', done).off('close', done);
            resolve();
          };
          socket.on('drain', done).on('close', done);
        });
        waitingForDrain--;
      }
    }
  };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let text = '';
    let busy = Promise.resolve();
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      text += data;
      let newline: number;
      while ((newline = text.indexOf('\n')) >= 0) {
        const n = Number(text.slice(0, newline));
        text = text.slice(newline + 1);
        busy = busy.then(() => sendBytes(socket, n));
      }
    });
    socket.on('end', () => void busy.then(() => socket.end()));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    blocked: () => (waitingForDrain > 0 ? Promise.resolve() : new Promise<void>((resolve) => blockedWaiters.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface SlowReaderResult {
  /** The pause the slow reader caused (the down direction, its sink not taking bytes). */
  pause: WanPause;
  /** The link's largest held bytes of one direction over the whole check. */
  peakHeldBytes: number;
  /** Every byte arrived, in order, once the reader read. */
  intact: boolean;
}

/**
 * A reader that reads nothing until the link has paused the sender because of it (and the probe
 * behind the link is waiting for a drain), then reads the whole answer and checks every byte.
 * `port` is a link forward to the probe.
 */
export async function checkSlowReader(link: WanLink, port: number, probe: Probe, bytes: number): Promise<SlowReaderResult> {
  let off = () => {};
  const paused = new Promise<WanPause>((resolve) => {
    off = link.onPause((p) => {
      if (p.direction === 'down' && p.sinkBlocked) resolve(p);
    });
  });
  const socket = net.connect({ host: '127.0.0.1', port });
  try {
    socket.pause();
    socket.write(`${bytes}\n`);
    const failed = once(socket, 'error').then(([err]) => Promise.reject(err as Error));
    const pause = await Promise.race([paused, failed]);
    await Promise.race([probe.blocked(), failed]);
    let received = 0;
    let intact = true;
    await Promise.race([
      failed,
      new Promise<void>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          for (let at = 0; at < chunk.length; ) {
            const offset = (received + at) % PROBE_BLOCK.length;
            const n = Math.min(chunk.length - at, PROBE_BLOCK.length - offset);
            if (!chunk.subarray(at, at + n).equals(PROBE_BLOCK.subarray(offset, offset + n))) intact = false;
            at += n;
          }
          received += chunk.length;
          if (received >= bytes) resolve();
        });
        socket.resume();
      }),
    ]);
    return { pause, peakHeldBytes: link.stats().peakHeldBytes, intact: intact && received === bytes };
  } finally {
    off();
    socket.destroy();
  }
}

export interface StreamResult {
  bytes: number;
  /** From connect to the first byte of the answer. */
  firstByteMs: number;
  /** From the first to the last byte of the answer. */
  transferMs: number;
  /** bytes / transfer time. */
  bytesPerSecond: number;
}

export interface StreamsResult {
  streams: StreamResult[];
  /** All bytes over the time from the first answer byte of any stream to the last byte of all. */
  bytesPerSecond: number;
  wallMs: number;
}

/** Opens `streams` connections to a probe (directly or through a link) at once, each asking for `bytes`. */
export async function measureStreams(port: number, streams: number, bytes: number, timeoutMs = 120_000): Promise<StreamsResult> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: streams }, () => oneStream(port, bytes, timeoutMs)));
  const end = performance.now();
  const firstByte = Math.min(...results.map((r) => r.firstByteAt));
  const lastByte = Math.max(...results.map((r) => r.lastByteAt));
  return {
    streams: results.map(({ firstByteAt, lastByteAt, ...r }) => r),
    bytesPerSecond: (streams * bytes * 1000) / Math.max(1, lastByte - firstByte),
    wallMs: end - started,
  };
}

function oneStream(port: number, bytes: number, timeoutMs: number): Promise<StreamResult & { firstByteAt: number; lastByteAt: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstByteAt = 0;
    let received = 0;
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(`${bytes}\n`));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`probe stream timed out after ${timeoutMs} ms with ${received} of ${bytes} bytes`)));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      if (received === 0) firstByteAt = performance.now();
      received += chunk.length;
      if (received >= bytes) {
        const lastByteAt = performance.now();
        socket.destroy();
        const transferMs = lastByteAt - firstByteAt;
        resolve({ bytes: received, firstByteMs: firstByteAt - started, transferMs, bytesPerSecond: (received * 1000) / Math.max(1, transferMs), firstByteAt, lastByteAt });
      }
    });
  });
}

/** Milliseconds from asking to the first answer byte, twice on one connection: [new connection, warm connection]. */
export async function firstByteTimes(port: number): Promise<[number, number]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const ask = async () => {
    const asked = performance.now();
    socket.write('1\n');
    await once(socket, 'data');
    return performance.now() - asked;
  };
  try {
    const cold = await ask();
    return [cold, await ask()];
  } finally {
    socket.destroy();
  }
}
