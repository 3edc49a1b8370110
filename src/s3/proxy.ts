// awsProxyHost/awsProxyPort (SPEC §3): S3 requests go through an HTTP CONNECT
// proxy. The SDK's NodeHttpHandler takes node:http(s) agents, so the tunnel is an
// Agent whose createConnection first asks the proxy for a tunnel and then speaks
// plain HTTP or TLS through it. The same CONNECT tunnel serves http:// endpoints
// (an S3-compatible server on a LAN), so there is one code path, not two.

import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { RcbsError } from '../errors.js';

export interface ProxyAddress {
  host: string;
  port: number;
}

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
      headers: { host: authority },
      agent: false,
      timeout: timeoutMs,
    });
    req.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        // A proxy that refuses is not one object's problem: the run stops (exit 4).
        reject(new RcbsError('RCBS_S3_UNREACHABLE',
          `the S3 proxy ${proxy.host}:${proxy.port} refused a tunnel to ${authority} (HTTP ${res.statusCode}); check awsProxyHost/awsProxyPort`,
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
  constructor(private readonly proxy: ProxyAddress, options: http.AgentOptions = {}) {
    super(options);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: ConnectCallback): undefined {
    const host = options.hostname ?? options.host ?? 'localhost';
    const port = Number(options.port ?? 80);
    openTunnel(this.proxy, host, port, CONNECT_TIMEOUT_MS).then(
      (socket) => callback?.(null, socket),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

export class TunnellingHttpsAgent extends https.Agent {
  constructor(private readonly proxy: ProxyAddress, options: https.AgentOptions = {}) {
    super(options);
  }

  override createConnection(options: https.RequestOptions, callback?: ConnectCallback): undefined {
    const host = options.hostname ?? options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    openTunnel(this.proxy, host, port, CONNECT_TIMEOUT_MS).then(
      (socket) => {
        const secure = tls.connect({
          ...(options as tls.ConnectionOptions),
          socket,
          servername: options.servername ?? (/^[\d.:]+$/.test(host) ? undefined : host),
        });
        callback?.(null, secure);
      },
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}
