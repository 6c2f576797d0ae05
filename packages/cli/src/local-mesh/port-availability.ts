import { createServer } from 'node:net';
import { findPortHolder } from './port-holder.js';

/** A port the mesh will listen on, and which instance wants it (for the error message). */
export interface WantedPort {
  readonly port: number;
  /** `cat-feeder-2 gRPC`. */
  readonly owner: string;
}

/**
 * Tries to listen on each port on `host`, one after another, and describes every port that
 * cannot be had: `port 7101 (cat-feeder-1 gRPC) is in use by nats-server -p 7101 (pid 4242)`.
 * An empty list means all were free a moment ago.
 */
export async function describeTakenPorts(
  host: string,
  wanted: readonly WantedPort[],
): Promise<string[]> {
  const problems: string[] = [];
  for (const { port, owner } of wanted) {
    const error = await tryListen(host, port);
    if (error === undefined) continue;
    if (error.code !== 'EADDRINUSE') {
      problems.push(`port ${port} (${owner}) cannot be used: ${error.code ?? error.message}`);
      continue;
    }
    const holder = await findPortHolder(port);
    problems.push(
      holder
        ? `port ${port} (${owner}) is in use by ${holder.command} (pid ${holder.pid})`
        : `port ${port} (${owner}) is in use (by a process this user cannot see; try: ss -ltnp 'sport = :${port}')`,
    );
  }
  return problems;
}

function tryListen(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve(undefined));
    });
  });
}
