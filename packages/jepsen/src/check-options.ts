import { parseArgs } from 'node:util';
import type { NemesisKind } from '@catmesh/faults';
import type { PlantedStorageBug } from '@catmesh/raft/storage';
import { envTypes } from '@catmesh/runtime';

// What a check runs against and how: parsed from a command line (`check.ts`, `catmesh check`) or
// given as an object by a program, and validated once, here, into ResolvedCheckOptions.

export type TargetName = 'cat-feeder' | 'etcd';
export type ReadConsistency = 'linearizable' | 'stale' | 'lease';

/** The nemeses as the command line names them (the partitions say that they are partitions). */
export const nemesisNames = {
  'partition-random-halves': 'random-halves',
  'partition-isolate-node': 'isolate-node',
  'partition-isolate-leader': 'isolate-leader',
  'partition-majorities-ring': 'majorities-ring',
  'partition-bridge': 'bridge',
  kill: 'kill',
  pause: 'pause',
  'power-loss': 'power-loss',
} as const satisfies Record<string, NemesisKind>;

export type NemesisName = keyof typeof nemesisNames;

export interface CheckOptions {
  readonly target: TargetName;
  /** How long the clients run operations (and the nemesis acts), in milliseconds; 60 s. */
  readonly durationMs?: number;
  /** Seeds the fault schedule and the workload; 1. */
  readonly seed?: number | string;
  /** Empty: no faults. Default: random halves, isolate the leader, kill, pause. */
  readonly nemeses?: readonly NemesisName[];
  /** How the clients read; linearizable. `lease` exists for cat-feeder only. */
  readonly readConsistency?: ReadConsistency;
  /** Logical clients, each with its home member (round-robin); 5. */
  readonly clients?: number;
  /** Members of the cluster: 3 or 5; 3. */
  readonly nodes?: number;
  /** Where history.json, history.html, summary.json and the members' logs go; a new temp dir. */
  readonly outDir?: string;
  /** Operations per second over all clients (a ceiling: slow answers lower it); 100. */
  readonly rate?: number;
  /** Each operation's deadline; 1000 ms. */
  readonly opTimeoutMs?: number;
  /** Keys in use at any time; each is replaced by a fresh one after `opsPerKey` operations. */
  readonly keys?: number;
  readonly opsPerKey?: number;
  /** The linearizability checker's budget for each check; 60 s. */
  readonly checkTimeoutMs?: number;
  /** How long each fault lasts and how long the cluster is healthy before each one. */
  readonly faultMs?: { readonly min: number; readonly max: number };
  readonly quietMs?: { readonly min: number; readonly max: number };
  /** The built cat-feeder entry point; services/cat-feeder/dist/main.js of this checkout. */
  readonly catFeederMain?: string;
  /**
   * Runs cat-feeder with a storage bug planted on purpose: only for the tests that show the
   * durability check catches it. No command-line option sets it.
   */
  readonly plantedStorageBug?: PlantedStorageBug;
  /** etcd's rpc.proto; the one in the etcd3 npm package. */
  readonly etcdProto?: string;
  /** The etcd binary; `etcd` on the PATH. */
  readonly etcdBinary?: string;
}

export type ResolvedCheckOptions = Required<
  Omit<CheckOptions, 'outDir' | 'catFeederMain' | 'plantedStorageBug' | 'etcdProto' | 'etcdBinary'>
> &
  Pick<CheckOptions, 'outDir' | 'catFeederMain' | 'plantedStorageBug' | 'etcdProto' | 'etcdBinary'>;

/** A bad option: the run never started. `option` is the command-line name (`--clients`). */
export class CheckUsageError extends Error {
  override readonly name = 'CheckUsageError';
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`${option}: ${problem}`);
  }
}

const durationType = envTypes.duration();

export const defaultNemeses: readonly NemesisName[] = [
  'partition-random-halves',
  'partition-isolate-leader',
  'kill',
  'pause',
];

export function resolveCheckOptions(options: CheckOptions): ResolvedCheckOptions {
  const fail = (option: string, problem: string): never => {
    throw new CheckUsageError(option, problem);
  };
  const whole = (option: string, value: number, min: number, max = Infinity): number =>
    Number.isInteger(value) && value >= min && value <= max
      ? value
      : fail(option, `must be a whole number from ${min}${max === Infinity ? '' : ` to ${max}`}`);

  if (options.target !== 'cat-feeder' && options.target !== 'etcd') {
    fail('--target', `must be cat-feeder or etcd, got ${JSON.stringify(options.target)}`);
  }
  const readConsistency = options.readConsistency ?? 'linearizable';
  if (!['linearizable', 'stale', 'lease'].includes(readConsistency)) {
    fail('--read-consistency', `must be linearizable, stale or lease, got ${readConsistency}`);
  }
  if (readConsistency === 'lease' && options.target === 'etcd') {
    fail('--read-consistency', 'etcd has no lease reads (use linearizable or stale)');
  }
  const nodes = options.nodes ?? 3;
  if (nodes !== 3 && nodes !== 5) fail('--nodes', 'must be 3 or 5');
  const nemeses = options.nemeses ?? defaultNemeses;
  for (const name of nemeses) {
    if (!(name in nemesisNames)) {
      fail('--nemesis', `unknown nemesis ${JSON.stringify(name)} (known: ${nemesisList()})`);
    }
    if (name === 'partition-majorities-ring' && nodes < 5) {
      fail('--nemesis', 'partition-majorities-ring needs --nodes 5');
    }
    if (name === 'power-loss' && options.target === 'etcd') {
      // etcd keeps no power-loss journal: its "power loss" would be a kill, which the page
      // cache survives, and the nemesis would claim more than it did.
      fail('--nemesis', 'power-loss needs --target cat-feeder (etcd keeps no power-loss journal)');
    }
  }
  const durationMs = whole('--duration', options.durationMs ?? 60_000, 1_000);
  const range = (option: string, value: { min: number; max: number }) => {
    whole(option, value.min, 1);
    whole(option, value.max, value.min);
    return value;
  };
  return {
    target: options.target,
    durationMs,
    seed: options.seed ?? 1,
    nemeses: [...new Set(nemeses)],
    readConsistency,
    clients: whole('--clients', options.clients ?? 5, 1, 100),
    nodes,
    rate: whole('--rate', options.rate ?? 100, 1, 100_000),
    opTimeoutMs: whole('--op-timeout', options.opTimeoutMs ?? 1_000, 10),
    keys: whole('--keys', options.keys ?? 3, 1, 100),
    opsPerKey: whole('--ops-per-key', options.opsPerKey ?? 300, 1),
    checkTimeoutMs: whole('--check-timeout', options.checkTimeoutMs ?? 60_000, 1),
    faultMs: range('faultMs', options.faultMs ?? { min: 2_000, max: 6_000 }),
    quietMs: range('quietMs', options.quietMs ?? { min: 1_000, max: 3_000 }),
    outDir: options.outDir,
    catFeederMain: options.catFeederMain,
    plantedStorageBug: options.plantedStorageBug,
    etcdProto: options.etcdProto,
    etcdBinary: options.etcdBinary,
  };
}

function nemesisList(): string {
  return Object.keys(nemesisNames).join(', ');
}

export const checkUsage = `Usage: catmesh check --target cat-feeder|etcd [options]

Runs a cluster of the target in network namespaces (needs root), drives it with clients that
record every operation, breaks it with a seeded nemesis, and checks the history.

Options:
  --target NAME             cat-feeder or etcd (required)
  --duration DURATION       how long the clients and the nemesis run (default 60s)
  --seed N                  seeds the fault schedule and the workload (default 1)
  --nemesis LIST            comma-separated, or none (default ${defaultNemeses.join(',')});
                            known: ${nemesisList()}
  --read-consistency MODE   linearizable (default), stale or lease (cat-feeder only)
  --clients N               logical clients (default 5)
  --nodes N                 cluster members, 3 or 5 (default 3)
  --rate N                  operations per second over all clients, at most (default 100)
  --op-timeout DURATION     each operation's deadline (default 1s)
  --keys N                  keys in use at once (default 3)
  --ops-per-key N           operations before a key is replaced by a fresh one (default 300)
  --check-timeout DURATION  the linearizability checker's budget per check (default 60s)
  --out DIR                 where to write history.json, history.html and summary.json
                            (default: a new directory under the system temp dir)
  --cat-feeder-main FILE    the built cat-feeder (default services/cat-feeder/dist/main.js)
  --etcd-proto FILE         etcd's rpc.proto (default: the etcd3 npm package's)
  --etcd-binary FILE        the etcd binary (default: etcd on the PATH)
  -h, --help                this text

A DURATION takes its unit: 500ms, 20s, 5m, 1h (a bare number is refused).

Exit codes: 0 every check passed, 1 a check failed (or could not decide), 2 usage error or
the run could not be carried out (not root, target missing).
`;

/** Reads a command line (without the program name); `help` when -h/--help was given. */
export function parseCheckArgs(argv: readonly string[]): CheckOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string' },
        duration: { type: 'string' },
        seed: { type: 'string' },
        nemesis: { type: 'string' },
        'read-consistency': { type: 'string' },
        clients: { type: 'string' },
        nodes: { type: 'string' },
        rate: { type: 'string' },
        'op-timeout': { type: 'string' },
        keys: { type: 'string' },
        'ops-per-key': { type: 'string' },
        'check-timeout': { type: 'string' },
        out: { type: 'string' },
        'cat-feeder-main': { type: 'string' },
        'etcd-proto': { type: 'string' },
        'etcd-binary': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new CheckUsageError('arguments', (error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.target === undefined) throw new CheckUsageError('--target', 'is required');
  const int = (option: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) throw new CheckUsageError(option, `${text} is not a whole number`);
    return Number(text);
  };
  const duration = (option: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const ms = durationType.parse(text.trim());
    if (ms === undefined) {
      throw new CheckUsageError(option, `expected ${durationType.expected}, got '${text}'`);
    }
    return ms;
  };
  const seed = v.seed === undefined ? undefined : /^\d+$/.test(v.seed) ? Number(v.seed) : v.seed;
  const nemeses =
    v.nemesis === undefined
      ? undefined
      : v.nemesis.trim() === 'none'
        ? []
        : (v.nemesis
            .split(',')
            .map((n) => n.trim())
            .filter(Boolean) as NemesisName[]);
  const options: CheckOptions = {
    target: v.target as TargetName,
    durationMs: duration('--duration', v.duration),
    seed,
    nemeses,
    readConsistency: v['read-consistency'] as ReadConsistency | undefined,
    clients: int('--clients', v.clients),
    nodes: int('--nodes', v.nodes),
    rate: int('--rate', v.rate),
    opTimeoutMs: duration('--op-timeout', v['op-timeout']),
    keys: int('--keys', v.keys),
    opsPerKey: int('--ops-per-key', v['ops-per-key']),
    checkTimeoutMs: duration('--check-timeout', v['check-timeout']),
    outDir: v.out,
    catFeederMain: v['cat-feeder-main'],
    etcdProto: v['etcd-proto'],
    etcdBinary: v['etcd-binary'],
  };
  // Validate now, so that a bad command line fails before anything starts.
  resolveCheckOptions(options);
  return options;
}
