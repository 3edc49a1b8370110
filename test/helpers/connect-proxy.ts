// A real CONNECT-only HTTP proxy (node:http) for the proxy tests: it tunnels to the
// host:port asked for, refuses plain requests (405), and logs every tunnel and the
// Proxy-Authorization it was sent. With `refuse` it answers every CONNECT 403; with
// `credentials` it wants Basic user:password and answers 407 otherwise.

import http from 'node:http';
import net from 'node:net';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface ConnectProxyOptions {
  refuse?: boolean;
  credentials?: { user: string; password: string };
}

export interface ConnectProxy {
  port: number;
  /** `host:port` of every CONNECT, in order (refused ones too). */
  tunnels: string[];
  /** The Proxy-Authorization header of every CONNECT ('' when absent). */
  authorizations: string[];
  /** Plain (non-CONNECT) requests, `METHOD url`: a CONNECT-only proxy refuses them. */
  plain: string[];
}

export async function startConnectProxy(t: Teardown, options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const authorizations: string[] = [];
  const plain: string[] = [];
  const sockets = new Set<net.Socket>();
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  const server = http.createServer((req, res) => {
    plain.push(`${req.method} ${req.url}`);
    res.writeHead(405).end();
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    authorizations.push(req.headers['proxy-authorization'] ?? '');
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (options.refuse) return client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    if (expected && req.headers['proxy-authorization'] !== expected) {
      return client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
    }
    const target = req.url ?? '';
    const colon = target.lastIndexOf(':');
    const host = target.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const upstream = net.connect(Number(target.slice(colon + 1)), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as net.AddressInfo).port, tunnels, authorizations, plain };
}
