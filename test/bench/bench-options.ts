// The benchmark's command line, parsed and checked once; a bad flag stops it with one line.
import { parseArgs } from 'node:util';
import { envTypes } from '@catmesh/runtime';
import type { TargetName } from './kv-target.js';

/**
 * Where a cell's requests go: all to the leader, or spread over the members as a Service would
 * (logical client i to member i mod 3, so a follower forwards its puts to the leader).
 */
export type Placement = 'leader' | 'spread';
const PLACEMENTS: readonly Placement[] = ['leader', 'spread'];

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
  --out FILE             also write the Markdown report to FILE (e.g. docs/benchmarks.md)
  --json FILE            also write every round's figures as JSON to FILE`;

export class UsageError extends Error {}

const durationType = envTypes.duration();

function duration(flag: string, raw: string): number {
  const value = durationType.parse(raw.trim());
  if (value === undefined) {
    throw new UsageError(`--${flag}: expected ${durationType.expected}, got "${raw}"`);
  }
  return value;
}

function integer(flag: string, raw: string, min: 0 | 1): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min) {
    throw new UsageError(`--${flag}: expected an integer of at least ${min}, got "${raw}"`);
  }
  return value;
}

const positiveInt = (flag: string, raw: string) => integer(flag, raw, 1);
const nonNegativeInt = (flag: string, raw: string) => integer(flag, raw, 0);

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
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
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  const placements = v.placements.split(',').map((p) => p.trim());
  for (const p of placements) {
    if (!PLACEMENTS.includes(p as Placement)) {
      throw new UsageError(`--placements: expected leader and/or spread, got "${p}"`);
    }
  }
  const targets = v.targets.split(',').map((t) => t.trim());
  for (const t of targets) {
    if (t !== 'etcd' && t !== 'cat-feeder') {
      throw new UsageError(`--targets: expected etcd and/or cat-feeder, got "${t}"`);
    }
  }
  return {
    durationMs: duration('duration', v.duration),
    warmupMs: duration('warmup', v.warmup),
    rounds: positiveInt('rounds', v.rounds),
    clients: v.clients.split(',').map((c) => positiveInt('clients', c.trim())),
    channelsPerMember: positiveInt('channels', v.channels),
    keys: positiveInt('keys', v.keys),
    valueBytes: positiveInt('value-size', v['value-size']),
    placements: [...new Set(placements)] as Placement[],
    targets: targets as TargetName[],
    failoverClients: positiveInt('failover-clients', v['failover-clients']),
    failoverRuns: nonNegativeInt('failover-runs', v['failover-runs']),
    out: v.out,
    json: v.json,
  };
}
