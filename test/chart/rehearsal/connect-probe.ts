// Connection attempts from inside a pod's network namespace, as the pod's own process would make
// them: one short-lived Node.js process in the namespace opens every TCP connection at once and
// says how each ended; or from this (the node's) namespace, bound to one of its addresses. A
// policy's drop shows as a timeout (no answer to the SYN); nothing listening shows as refused
// (the kernel's RST); connected means the three-way handshake ended.
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';

export type ConnectOutcome = 'connected' | 'refused' | 'timed out';

export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
}

// Runs in the namespace: argv[1] is the JSON list of targets, argv[2] the timeout in ms.
const PROBE_SCRIPT = `
const net = require('node:net');
const [targets, timeoutMs] = [JSON.parse(process.argv[1]), Number(process.argv[2])];
Promise.all(targets.map(({ host, port }) => new Promise((resolve) => {
  const socket = net.connect({ host, port });
  const done = (outcome) => { socket.destroy(); resolve(outcome); };
  socket.setTimeout(timeoutMs, () => done('timed out'));
  socket.once('connect', () => done('connected'));
  socket.once('error', (error) => done(error.code === 'ECONNREFUSED' ? 'refused' : 'error ' + error.code));
}))).then((outcomes) => process.stdout.write(JSON.stringify(outcomes)));
`;

/**
 * Tries every target from `netns` at once; resolves with one outcome per target, in order. The
 * timeout must be long enough for a loaded machine to answer on loopback-like links (a bridge):
 * 2 s is a hundred times what a local SYN/SYN-ACK takes.
 */
export async function connectFrom(
  netns: string,
  targets: readonly ConnectTarget[],
  timeoutMs = 2000,
): Promise<ConnectOutcome[]> {
  const { stdout } = await promisify(execFile)(
    'ip',
    [
      'netns',
      'exec',
      netns,
      process.execPath,
      '-e',
      PROBE_SCRIPT,
      JSON.stringify(targets),
      String(timeoutMs),
    ],
    { timeout: timeoutMs + 30_000 },
  );
  const outcomes = JSON.parse(stdout) as string[];
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome !== 'connected' && outcome !== 'refused' && outcome !== 'timed out') {
      const target = targets[i];
      throw new Error(`probe from ${netns} to ${target?.host}:${target?.port}: ${outcome}`);
    }
  }
  return outcomes as ConnectOutcome[];
}

/**
 * Tries every target from this (the node's) namespace, each connection bound to `localAddress`,
 * an address of this namespace: what a client at that address meets, e.g. one outside the
 * cluster, which the policies see as an ipBlock peer (where the node's own address is always
 * let in). Outcomes as connectFrom's.
 */
export function connectBoundTo(
  localAddress: string,
  targets: readonly ConnectTarget[],
  timeoutMs = 2000,
): Promise<ConnectOutcome[]> {
  return Promise.all(
    targets.map(
      ({ host, port }) =>
        new Promise<ConnectOutcome>((resolve, reject) => {
          const socket = connect({ host, port, localAddress });
          const done = (outcome: ConnectOutcome) => {
            socket.destroy();
            resolve(outcome);
          };
          socket.setTimeout(timeoutMs, () => done('timed out'));
          socket.once('connect', () => done('connected'));
          socket.once('error', (error: NodeJS.ErrnoException) => {
            socket.destroy();
            if (error.code === 'ECONNREFUSED') resolve('refused');
            else reject(new Error(`probe from ${localAddress} to ${host}:${port}: ${error.code}`));
          });
        }),
    ),
  );
}
