// A node:http server of a test on 127.0.0.1, port 0, ended with the test: its open
// connections (kept-alive ones too) closed, then the server. And a GWS stand-in that counts
// the connections made to it and the requests on each (the connection tests).

import http, { type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Listens, registers the teardown, and gives the port. */
export async function listenLocal(t: { teardown(fn: () => unknown): void }, server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

export interface CountingServer {
  port: number;
  origin: string;
  /** Requests per connection, in the order the connections were accepted. */
  requests: number[];
  /** Connections open now. */
  open(): number;
  /** Ends (FIN) the connections that have carried no request, as a server's first-request timeout would. */
  endUnused(): void;
}

/** Answers {"statusCode":0}; a path with `slow` after 150 ms. */
export async function startCountingServer(t: { teardown(fn: () => unknown): void }): Promise<CountingServer> {
  const requests: number[] = [];
  const index = new WeakMap<Socket, number>();
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests[index.get(req.socket)!]!++;
    const answer = () => res.end(JSON.stringify({ statusCode: 0, path: req.url }));
    if (req.url?.includes('slow')) setTimeout(answer, 150);
    else answer();
  });
  server.on('connection', (socket: Socket) => {
    index.set(socket, requests.push(0) - 1);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listenLocal(t, server);
  const endUnused = () => {
    for (const socket of sockets) if (requests[index.get(socket)!] === 0) socket.end();
  };
  return { port, origin: `http://127.0.0.1:${port}`, requests, open: () => sockets.size, endUnused };
}
