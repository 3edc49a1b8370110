// The run's first GWS connection, opened before its GWS client has loaded (issue 15).
//
// A run's first GWS request (the settings call, or a first page) waits for a TCP (and TLS)
// handshake: a round trip or more, ~40 ms through the WAN model. The code that sends it,
// undici and the GWS client, loads after the run took its lock, and takes ~30 ms. So the
// components that talk to GWS dial that connection in their prepare, as soon as the run
// holds its lock (SPEC §5: a second instance exits 3 before talking to GWS), with node's own
// net/tls set up as undici's connector sets up its connections (undici 7.30.2
// lib/core/connect.js: keep-alive after 60 s idle, no Nagle delay, ALPN http/1.1, the host's
// name as TLS server name, 10 s to connect). The run's GWS client, once loaded, takes it
// (src/gws/warm-connections.ts openFirst) for its first request, or that request is given
// its error, as its own attempt would have been. Only when the run goes to GWS directly:
// through a proxy (gwsProxyHost, or HTTPS_PROXY/HTTP_PROXY for the host) nothing opens early.
// Never sent on before a request takes it; closed with the run if none does.

import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { bareHostname, envProxyFor } from '../net/env-proxy.js';
import { trustedContext } from '../net/trust.js';
import { onRunEnd } from '../pipeline/context.js';
import type { RunContext } from '../pipeline/types.js';
import type { Connector } from './warm-connections.js';

/** What undici's connector allows a connection to come up (its default). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** A connection dialled early: where it goes, and a connector that hands it (or its error) to
 * the one connect that asks, once. */
export interface FirstConnection {
  params: Parameters<Connector>[0];
  connector: Connector;
  /** Ends it unless the connector handed it over. */
  close(): void;
}

const firsts = new WeakMap<RunContext, FirstConnection | null>();

/** Dials the run's first connection to gwsUriPrefix's host, once per run, unless a proxy
 * stands between. A head start only: never throws; a failure is the first request's. */
export function openFirstGwsConnection(context: RunContext): void {
  const { config, env } = context;
  if (firsts.has(context) || !config.gwsUriPrefix || config.gwsProxyHost) return;
  firsts.set(context, null);
  try {
    const url = new URL(config.gwsUriPrefix);
    if (envProxyFor(url, env)) return;
    const first = dial(url, trustedContext(config.caFile, env, 'gws'));
    firsts.set(context, first);
    // Not taken by a client (a component failed first, or none asked): closed with the run.
    onRunEnd(context, async () => first.close());
  } catch {
    // The client's own connection reports whatever this was.
  }
}

/** The run's first connection, for its GWS client to take; undefined if none was dialled (or
 * it was taken). */
export function takeFirstGwsConnection(context: RunContext): FirstConnection | undefined {
  const first = firsts.get(context) ?? undefined;
  if (first) firsts.set(context, null);
  return first;
}

export function dial(url: URL, secureContext: tls.SecureContext | undefined, timeoutMs = CONNECT_TIMEOUT_MS): FirstConnection {
  // What undici's client gives its connector for this origin (an IPv6 address unbracketed).
  const hostname = bareHostname(url.hostname);
  const params = { protocol: url.protocol, host: url.host, hostname, port: url.port };
  const secure = url.protocol === 'https:';
  const port = Number(url.port) || (secure ? 443 : 80);
  // (highWaterMark is the sockets' stream option, which node's connect types leave out.)
  const socket: Socket = secure
    ? tls.connect({ highWaterMark: 16384, ...(secureContext ? { secureContext } : {}), ...(net.isIP(hostname) ? {} : { servername: hostname }), ALPNProtocols: ['http/1.1'], port, host: hostname } as tls.ConnectionOptions)
    : net.connect({ highWaterMark: 64 * 1024, port, host: hostname } as net.NetConnectOpts);
  socket.setKeepAlive(true, 60_000).setNoDelay(true);
  let outcome: Error | null | undefined;
  let waiting: Parameters<Connector>[1] | undefined;
  const handOver = (callback: Parameters<Connector>[1], err: Error | null) => {
    if (err) callback(err, null);
    else callback(null, socket);
  };
  const settle = (err: Error | null) => {
    if (outcome !== undefined) return;
    clearTimeout(timer);
    outcome = err;
    const callback = waiting;
    waiting = undefined;
    if (callback) handOver(callback, err);
  };
  // undici's ConnectTimeoutError, by its code (src/retry.ts retries it, as from undici).
  const timer = setTimeout(() => {
    const err = Object.assign(new Error(`Connect Timeout Error (attempted address: ${hostname}:${port}, timeout: ${timeoutMs}ms)`), { name: 'ConnectTimeoutError', code: 'UND_ERR_CONNECT_TIMEOUT' });
    settle(err);
    socket.destroy(err);
  }, timeoutMs).unref();
  socket.once(secure ? 'secureConnect' : 'connect', () => settle(null)).on('error', (err) => settle(err));
  let taken = false;
  const connector: Connector = (_params, callback) => {
    if (taken) throw new Error('the first GWS connection was taken already');
    taken = true;
    // Asynchronously, as undici's connector calls back.
    if (outcome === undefined) waiting = callback;
    else process.nextTick(handOver, callback, outcome);
    return socket as unknown as void;
  };
  const close = () => {
    if (taken) return;
    taken = true;
    clearTimeout(timer);
    socket.destroy();
  };
  return { params, connector, close };
}
