// The benchmark's command line, parsed and checked once; a bad flag stops it with one line.
import { choicesFlag, durationFlag, numberFlag, numbersFlag, parseFlags } from './bench-flags.js';
import type { TargetName } from './kv-target.js';

/**
 * Where a cell's requests go: all to the leader, or spread over the members as a Service would
 * (logical client i to member i mod 3, so a follower forwards its puts to the leader).
 */
export type Placement = 'leader' | 'spread';
const PLACEMENTS: readonly Placement[] = ['leader', 'spread'];
export const TARGETS: readonly TargetName[] = ['etcd', 'cat-feeder'];

export interface BenchOptions {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly rounds: number;
  readonly clients: readonly number[];
  readonly channelsPerMember: number;
  readonly keys: number;
  readonly valueBytes: number;
  readonly placements: readonly Placement[];
  readonly targets: readonly TargetName[];
  readonly failoverClients: number;
  readonly failoverRuns: number;
  readonly out: string | undefined;
  readonly json: string | undefined;
}

export const USAGE = `usage: node --conditions=@catmesh/source --import tsx test/bench/catfeeder-vs-etcd.ts [options]
  --duration 5s          measured time per cell (with its unit: 500ms, 5s, 1m)
  --warmup 1s            load before each cell's measured time
  --rounds 3             measure every cell this many times; the report shows the median
  --clients 1,16,64,256  concurrent closed-loop clients per cell
  --channels 8           gRPC connections per member, shared round-robin by the clients
  --keys 1000            key space shared by all clients
  --value-size 64        bytes per value
  --placements leader,spread  where requests go: to the leader, and/or spread (client i to
                         member i mod 3); every cell is measured for each
  --targets etcd,cat-feeder
  --failover-clients 16  put clients during the leader-kill measurement
  --failover-runs 3      leader kills per target (the killed member is restarted between); 0: none
  --out FILE             also write the Markdown report to FILE (e.g. docs/benchmarks.md), and
                         its charts beside it (docs/benchmarks-throughput.svg, -p99.svg)
  --json FILE            also write every round's figures and their summaries as JSON to FILE`;

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const v = parseFlags(argv, {
    duration: { type: 'string', default: '5s' },
    warmup: { type: 'string', default: '1s' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '1,16,64,256' },
    channels: { type: 'string', default: '8' },
    keys: { type: 'string', default: '1000' },
    'value-size': { type: 'string', default: '64' },
    placements: { type: 'string', default: 'leader,spread' },
    targets: { type: 'string', default: 'etcd,cat-feeder' },
    'failover-clients': { type: 'string', default: '16' },
    'failover-runs': { type: 'string', default: '3' },
    out: { type: 'string' },
    json: { type: 'string' },
  });
  return {
    durationMs: durationFlag('duration', v.duration),
    warmupMs: durationFlag('warmup', v.warmup),
    rounds: numberFlag('rounds', v.rounds, 1),
    clients: numbersFlag('clients', v.clients, 1),
    channelsPerMember: numberFlag('channels', v.channels, 1),
    keys: numberFlag('keys', v.keys, 1),
    valueBytes: numberFlag('value-size', v['value-size'], 1),
    placements: choicesFlag('placements', v.placements, PLACEMENTS),
    targets: choicesFlag('targets', v.targets, TARGETS),
    failoverClients: numberFlag('failover-clients', v['failover-clients'], 1),
    failoverRuns: numberFlag('failover-runs', v['failover-runs'], 0),
    out: v.out,
    json: v.json,
  };
}
