// awsProxyHost/awsProxyPort (SPEC §3): S3 requests go through an HTTP CONNECT
// proxy. The SDK's NodeHttpHandler takes node:http(s) agents, so the tunnel is an
// Agent whose createConnection first asks the proxy for a tunnel and then speaks
// plain HTTP or TLS through it. The same CONNECT tunnel serves http:// endpoints
// (an S3-compatible server on a LAN), so there is one code path, not two.
// The agent asks `route` per host: the awsProxyHost proxy for every host, or the
// HTTPS_PROXY/HTTP_PROXY one unless NO_PROXY names the host (src/net/env-proxy.ts);
// no proxy = a plain connection. Proxy credentials travel as Proxy-Authorization
// and never appear in a message (the proxy is shown as host:port).

import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { RcbsError } from '../errors.js';
import { labelCertificateErrors } from '../net/trust.js';

export interface ProxyAddress {
  host: string;
  port: number;
  /** `Basic …` for a proxy URL with user:password. */
  authorization?: string;
  /** The settings that chose it, for messages: awsProxyHost/awsProxyPort or HTTPS_PROXY. */
  setting?: string;
}

/** The proxy for a target host and port, or undefined to connect directly. */
export type ProxyRoute = (host: string, port: number) => ProxyAddress | undefined;

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

/** Opens a CONNECT tunnel to host:port through the proxy; resolves with the raw socket. */
function openTunnel(proxy: ProxyAddress, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const req = http.request({
      host: proxy.host,
      port: proxy.port,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...(proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}) },
      agent: false,
      timeout: timeoutMs,
    });
    req.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new RcbsError('RCBS_S3_TRANSFER',
          `the S3 proxy ${proxy.host}:${proxy.port} refused a tunnel to ${authority} (HTTP ${res.statusCode}${res.statusCode === 407 ? ' Proxy Authentication Required' : ''}); check ${proxy.setting ?? 'awsProxyHost/awsProxyPort'}`,
          { proxy: `${proxy.host}:${proxy.port}`, status: res.statusCode }));
        return;
      }
      // Bytes the proxy sent after its 200 belong to the tunnelled stream.
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error(`the S3 proxy ${proxy.host}:${proxy.port} did not answer CONNECT in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.once('error', reject);
    req.end();
  });
}

const CONNECT_TIMEOUT_MS = 15_000;

export class TunnellingHttpAgent extends http.Agent {
  constructor(private readonly route: ProxyRoute, options: http.AgentOptions = {}) {
    super(options);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: ConnectCallback): Duplex | null | undefined {
    const host = options.hostname ?? options.host ?? 'localhost';
    const port = Number(options.port ?? 80);
    const proxy = this.route(host, port);
    if (!proxy) return super.createConnection(options, callback);
    openTunnel(proxy, host, port, CONNECT_TIMEOUT_MS).then(
      (socket) => callback?.(null, socket),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

export class TunnellingHttpsAgent extends https.Agent {
  constructor(private readonly route: ProxyRoute, options: https.AgentOptions = {}) {
    super(options);
  }

  override createConnection(options: https.RequestOptions, callback?: ConnectCallback): Duplex | null | undefined {
    const host = options.hostname ?? options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    const proxy = this.route(host, port);
    if (!proxy) {
      const direct = super.createConnection(options, callback);
      if (direct) labelCertificateErrors(direct, `${host}:${port}`);
      return direct;
    }
    openTunnel(proxy, host, port, CONNECT_TIMEOUT_MS).then(
      (socket) => {
        const secure = tls.connect({
          ...(options as tls.ConnectionOptions),
          socket,
          servername: options.servername ?? (/^[\d.:]+$/.test(host) ? undefined : host),
        });
        labelCertificateErrors(secure, `${host}:${port}`);
        callback?.(null, secure);
      },
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}
