// A node:http server of a test on 127.0.0.1, port 0, ended with the test: its open
// connections (kept-alive ones too) closed, then the server.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens, registers the teardown, and gives the port. */
export async function listenLocal(t: { teardown(fn: () => unknown): void }, server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}
