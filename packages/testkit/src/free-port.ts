import { createServer } from 'node:net';

/**
 * Below Linux's ephemeral range (32768-60999 by default), where no outgoing connection takes
 * a port on its own: a port the OS picked with listen(0) comes from that range, and any client
 * of the test (gRPC, fetch) could be handed it between the check and the spawned process's
 * bind, which failed cat-feeder clusters with EADDRINUSE. Above the span the CLI tests' port
 * bases use (10000 + 100·k, up to 27900 + 2401).
 */
const LOW = 30_400;
const HIGH = 32_767;
const ATTEMPTS = 200;

/** Handed out by this process already: a test asking twice gets two ports. */
const given = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, outside the ephemeral range. Chosen at
 * random and bound to check, so test files and the processes they leave behind don't collide;
 * a process that binds it later can still lose a race to another test's bind, which the caller
 * sees as a clear EADDRINUSE rather than a hang.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (given.has(port)) continue;
    if (await bindable(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free port in ${LOW}-${HIGH} after ${ATTEMPTS} tries`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
