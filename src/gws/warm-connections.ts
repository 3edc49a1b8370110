// Connections to GWS opened a round trip before the requests that will use them (issue 15).
//
// A run's GWS requests come in two waves: the settings call alone, then the first page of
// up to gwsConcurrency slices at once. undici opens a connection when a request finds none
// free, so each slice but the one that takes over the settings call's connection waits for
// a TCP (and TLS) handshake before its request can leave: a round trip more before the
// first recordings, ~40 ms through the WAN model (BENCHMARKS.md).
//
// This connector, the direct Agent's (never a proxy's: a proxied origin never calls it),
// opens those connections while the settings call is out. `expect(n)` says n requests will
// soon go at once; as soon as a connection to GWS is up (the host answers, its certificate
// is trusted), it opens as many more as make n with those already open or opening. No
// request is sent on them until undici asks for a connection and is handed one. So a run
// opens no connection it would not have opened anyway, only earlier; one whose settings
// call fails closes them unused (the client's close and destroy end them). A spare idle
// longer than SPARE_MAX_AGE_MS, or that the server closed or wrote to, is dropped, never
// handed over: a server may close a connection that has carried no request.
//
// The run's first connection can open earlier still, dialled before this code and undici have
// loaded (src/gws/run-connections.ts) and given to `openFirst`. Its outcome, a socket or an
// error, is the first request's, as that request's own attempt would have been: an unreachable
// host or a refused certificate is still one attempt. A spare never holds the process open:
// it is unref'd until handed over.

import { isIP, type Socket } from 'node:net';
import { bareHostname } from '../net/env-proxy.js';
import type { buildConnector } from 'undici';

/** undici's connector, what it is given and what it calls back. */
export type Connector = buildConnector.connector;
type ConnectParams = buildConnector.Options;
type ConnectCallback = buildConnector.Callback;

/** Longer than that unused, a spare is closed instead of handed over. Well inside the idle
 * timeouts servers give a connection before its first request (Node 5 s keep-alive, Jetty
 * 30 s, nginx 60 s): a run's first pages go out within a second of the settings call. */
export const SPARE_MAX_AGE_MS = 4000;

interface Spare {
  params: ConnectParams;
  socket: Socket;
  opened: number;
  /** Set once connected; a connect that takes it before then is `waiter`. */
  ready: boolean;
  waiter?: ConnectCallback;
  /** Removes the listeners and the timer it has while idle. */
  detach: () => void;
  /** Opened by openFirst: a failure is kept for the first connect instead of tried again. */
  first?: boolean;
  /** The first connection's failure, for the first connect to its origin. */
  error?: Error;
}

export class WarmConnections {
  readonly #base: Connector;
  /** Sockets this connector made that are open or opening, in use or spare. */
  #live = 0;
  /** Requests expected at once (expect); 0 once served. */
  #wanted = 0;
  /** The params of the last connection that came up: where spares go. */
  #origin: ConnectParams | undefined;
  #spares: Spare[] = [];
  #closed = false;

  readonly #maxAgeMs: number;

  constructor(base: Connector, maxAgeMs = SPARE_MAX_AGE_MS) {
    this.#base = base;
    this.#maxAgeMs = maxAgeMs;
  }

  /** undici's connector: a spare to the same origin when one is open (or opening), else a new connection. */
  readonly connect: Connector = (params, callback) => {
    const spare = this.#take(params);
    if (!spare) {
      this.#open(params, callback, true);
      return;
    }
    if (spare.ready) {
      this.#unlist(spare);
      // Asynchronously, as a fresh connection would be; its listeners stay until then, so an
      // error in between has one.
      process.nextTick(() => {
        spare.detach();
        if (spare.error) return callback(spare.error, null);
        callback(null, spare.socket.ref());
      });
    } else {
      spare.waiter = callback;
    }
  };

  /** `n` requests will go out together soon: once a connection is up, open enough spares to make n. */
  expect(n: number): void {
    if (this.#closed) return;
    this.#wanted = Math.max(this.#wanted, n);
    if (this.#origin) this.#warm();
  }

  /** The first connection, to the origin of `params`, opened before a request asks for one
   * (by `connector`, undici's connector by default); the first connect to that origin takes
   * it, or its error. False (and `connector` not called) when a connection is already open or
   * opening, or the connections are closed. */
  openFirst(params: ConnectParams, connector: Connector = this.#base): boolean {
    if (this.#closed || this.#live > 0) return false;
    this.#openSpare(params, connector);
    return true;
  }

  /** Ends the spares (the client closes or is destroyed). */
  close(): void {
    this.#closed = true;
    this.#wanted = 0;
    for (const spare of [...this.#spares]) {
      this.#remove(spare);
      spare.socket.destroy();
      spare.waiter?.(new Error('GWS client closed'), null);
    }
  }

  /** Spares open or opening now, not yet handed over (for tests). */
  get spares(): number {
    return this.#spares.length;
  }

  /** A new connection (undici's connector unless another is given), counted while open; once
   * up, the spares expected go too. */
  #open(params: ConnectParams, callback: ConnectCallback, count: boolean, connector = this.#base): Socket {
    if (count) this.#live++;
    try {
      // undici's connector returns the socket it is connecting (its type says void).
      return connector(params, (...args) => {
        const [err, socket] = args;
        if (err) {
          this.#live--;
          return callback(...args);
        }
        socket.once('close', () => this.#live--);
        this.#origin = params;
        callback(null, socket);
        this.#warm();
      }) as unknown as Socket;
    } catch (err) {
      // Thrown before any socket (undici turns it into a connect error): not counted, the
      // increment of the caller (a spare's, #openSpare) undone too.
      this.#live--;
      throw err;
    }
  }

  /** Opens spares up to the number expected, counting every connection open or opening. */
  #warm(): void {
    const origin = this.#origin;
    if (this.#closed || !origin || this.#wanted === 0) return;
    const missing = this.#wanted - this.#live;
    this.#wanted = 0;
    for (let i = 0; i < missing; i++) this.#openSpare(origin);
  }

  /** A spare; with `first`, the first connection (openFirst), made by that connector. */
  #openSpare(params: ConnectParams, first?: Connector): void {
    const spare: Spare = { params, socket: undefined as unknown as Socket, opened: Date.now(), ready: false, detach: () => {}, ...(first ? { first: true } : {}) };
    this.#spares.push(spare);
    this.#live++;
    try {
      spare.socket = this.#open(params, (err, socket) => {
        const waiter = spare.waiter;
        if ((err || !socket) && spare.first && !this.#closed) {
          const error = err ?? new Error('no socket');
          if (waiter) {
            this.#remove(spare);
            waiter(error, null);
            return;
          }
          // Kept for the first connect, a while: a request much later makes its own attempt.
          spare.error = error;
          spare.ready = true;
          spare.opened = Date.now();
          const timer = setTimeout(() => this.#remove(spare), this.#maxAgeMs).unref();
          spare.detach = () => clearTimeout(timer);
          return;
        }
        if (err || !socket) {
          this.#remove(spare);
          // A connect waiting on it tries a connection of its own.
          if (waiter) {
            try {
              this.#open(params, waiter, true);
            } catch (thrown) {
              waiter(thrown as Error, null);
            }
          }
          return;
        }
        spare.ready = true;
        spare.opened = Date.now();
        if (waiter || this.#closed) {
          this.#remove(spare);
          if (waiter) waiter(null, socket);
          else socket.destroy();
          return;
        }
        // Idle until handed over: a byte or an end from the server means it is not a fresh
        // connection any more. It does not keep the process up meanwhile.
        socket.unref();
        const drop = () => {
          this.#remove(spare);
          socket.destroy();
        };
        const onReadable = () => {
          if (socket.read() !== null) drop();
        };
        socket.on('readable', onReadable).on('end', drop).on('error', drop);
        const timer = setTimeout(drop, this.#maxAgeMs).unref();
        spare.detach = () => {
          clearTimeout(timer);
          socket.off('readable', onReadable).off('end', drop).off('error', drop);
        };
      }, false, first);
    } catch {
      // A spare is only a head start: the request opens its own connection (the first one's
      // too, with undici's connector).
      this.#unlist(spare);
    }
  }

  #remove(spare: Spare): void {
    spare.detach();
    this.#unlist(spare);
  }

  #unlist(spare: Spare): void {
    this.#spares = this.#spares.filter((s) => s !== spare);
  }

  /** A spare to the origin of `params`, open and young enough, or still opening. */
  #take(params: ConnectParams): Spare | undefined {
    const now = Date.now();
    return this.#spares.find((spare) => !spare.waiter && sameOrigin(spare.params, params) && !(spare.ready && ((!spare.error && spare.socket.destroyed) || now - spare.opened > this.#maxAgeMs)));
  }
}

function sameOrigin(a: ConnectParams, b: ConnectParams): boolean {
  return originOf(a) === originOf(b);
}

/** Where a connection goes, as undici's connector decides it: the port defaults by protocol,
 * the TLS server name (unless given) is the host's name, none for an address. openFirst's
 * params carry neither the port nor the server name when undici's would not. */
function originOf(params: ConnectParams): string {
  const hostname = bareHostname(params.hostname);
  const port = String(params.port || (params.protocol === 'https:' ? 443 : 80));
  const servername = params.protocol === 'https:' ? params.servername || (isIP(hostname) ? '' : hostname) : '';
  return `${params.protocol}//${hostname}:${port} ${servername}`;
}
