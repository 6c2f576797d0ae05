// Run as a child process by transport-grpc.test.ts: two nodes exchange messages, then close their
// transports and servers. If anything is left holding the event loop, this process never exits.
import { freePort } from '@catmesh/testkit';
import { GrpcRaftTransport } from '../src/transport/index.js';
import { append, startServer, stopServer } from './transport-harness.js';

const ids = [1, 2];
const ports = [await freePort(), await freePort()];
const transports = ids.map((id) => new GrpcRaftTransport({ localId: id }));
const servers = await Promise.all(transports.map((t, i) => startServer(t, ports[i]!)));
const received = transports.map(
  (t) => new Promise<void>((resolve) => t.onReceive(() => resolve())),
);
transports[0]!.updatePeer(2, `127.0.0.1:${ports[1]}`);
transports[1]!.updatePeer(1, `127.0.0.1:${ports[0]}`);

transports[0]!.send([append(1, 2, 1)]);
transports[1]!.send([append(2, 1, 1)]);
await Promise.all(received);
// A delayed message still waiting at close must not hold the process either.
transports[0]!.setFaultFilter(() => ({ delayMs: 60_000 }));
transports[0]!.send([append(1, 2, 2)]);

// Node 1 shuts down first while node 2 still streams to it: tryShutdown waits for open calls, so
// it completes only because close() ended node 2's inbound stream on node 1's server.
await transports[0]!.close();
await stopServer(servers[0]!);
await transports[1]!.close();
await stopServer(servers[1]!);
console.log('exchanged and closed');
