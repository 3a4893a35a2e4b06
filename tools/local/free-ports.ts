/**
 * Ports for the nodes, picked by the kernel so that several clusters can run at once. They are free
 * when read and released before the servers bind them, so a rare race is possible: PortTakenError.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { LocalClusterError } from '../../lambda/errors.js';

/**
 * A reserved port was taken by someone else between its release and the server's bind: rare, and
 * worth a fresh start on other ports rather than a failed test.
 */
export class PortTakenError extends LocalClusterError {
  constructor(
    readonly reason: string,
    logTail: string,
  ) {
    super(`${reason}:\n${logTail}`);
  }
}

/** Binds `count` listeners to port 0 at once (so the ports differ), reads the ports, frees them. */
export async function reservePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let index = 0; index < count; index++) servers.push(await listenOnFreePort());
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(
      servers.map((server) => new Promise<void>((done) => server.close(() => done()))),
    );
  }
}

function listenOnFreePort(): Promise<Server> {
  return new Promise((resolveServer, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolveServer(server));
  });
}
