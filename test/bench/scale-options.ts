// The scale benchmark's command line, parsed and checked once; a bad flag stops it with one line.
import {
  choicesFlag,
  durationFlag,
  numberFlag,
  numbersFlag,
  parseFlags,
  UsageError,
} from './bench-flags.js';
import { TARGETS } from './bench-options.js';
import type { TargetName } from './kv-target.js';

export type Section = 'values' | 'keys' | 'partition';
const SECTIONS: readonly Section[] = ['values', 'keys', 'partition'];

export interface ScaleOptions {
  readonly runs: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly valueSizes: readonly number[];
  readonly clients: readonly number[];
  readonly smallKeys: number;
  readonly largeKeys: number;
  readonly preloadClients: number;
  readonly partitionMs: number;
  readonly partitionClients: number;
  readonly sections: readonly Section[];
  readonly targets: readonly TargetName[];
  readonly out: string | undefined;
  readonly json: string | undefined;
}

export const SCALE_USAGE = `usage: node --conditions=@catmesh/source --import tsx test/bench/catfeeder-scale.ts [options]
  --runs 3               repeat every measurement this many times; tables show median and range
  --duration 3s          measured time of each value-size cell (with its unit: 500ms, 3s, 1m)
  --warmup 1s            load before each value-size cell's measured time
  --value-sizes 64,1024,16384  bytes per value in the value-size cells
  --clients 1,64         closed-loop put clients (to the leader) in the value-size cells
  --small-keys 1000      the small key count of the keys section
  --large-keys 100000    the large key count of the keys section
  --preload-clients 256  concurrent put clients loading the keys
  --partition 20s        how long a follower is cut off from its peers under load
  --partition-clients 8  put clients in each of the two groups (spread, leader) under partition
  --sections values,keys,partition  which measurements to make
  --targets etcd,cat-feeder
  --out FILE             also write the Markdown report to FILE (e.g. docs/scale.md)
  --json FILE            also write every run's figures as JSON to FILE`;

export function parseScaleOptions(argv: readonly string[]): ScaleOptions {
  const v = parseFlags(argv, {
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '3s' },
    warmup: { type: 'string', default: '1s' },
    'value-sizes': { type: 'string', default: '64,1024,16384' },
    clients: { type: 'string', default: '1,64' },
    'small-keys': { type: 'string', default: '1000' },
    'large-keys': { type: 'string', default: '100000' },
    'preload-clients': { type: 'string', default: '256' },
    partition: { type: 'string', default: '20s' },
    'partition-clients': { type: 'string', default: '8' },
    sections: { type: 'string', default: SECTIONS.join(',') },
    targets: { type: 'string', default: 'etcd,cat-feeder' },
    out: { type: 'string' },
    json: { type: 'string' },
  });
  const smallKeys = numberFlag('small-keys', v['small-keys'], 1);
  const largeKeys = numberFlag('large-keys', v['large-keys'], 1);
  if (largeKeys <= smallKeys) {
    throw new UsageError(
      `--large-keys: expected more than --small-keys (${smallKeys}), got "${largeKeys}"`,
    );
  }
  const valueSizes = numbersFlag('value-sizes', v['value-sizes'], 1);
  // cat-feeder refuses values over 1 MiB (MAX_VALUE_BYTES); etcd's default request limit is 1.5 MiB.
  const tooBig = valueSizes.find((s) => s > 1024 * 1024);
  if (tooBig !== undefined) {
    throw new UsageError(`--value-sizes: expected at most 1048576 bytes, got "${tooBig}"`);
  }
  const partitionMs = durationFlag('partition', v.partition, 1000);
  return {
    runs: numberFlag('runs', v.runs, 1),
    durationMs: durationFlag('duration', v.duration),
    warmupMs: durationFlag('warmup', v.warmup),
    valueSizes,
    clients: numbersFlag('clients', v.clients, 1),
    smallKeys,
    largeKeys,
    preloadClients: numberFlag('preload-clients', v['preload-clients'], 1),
    partitionMs,
    partitionClients: numberFlag('partition-clients', v['partition-clients'], 1),
    sections: choicesFlag('sections', v.sections, SECTIONS),
    targets: choicesFlag('targets', v.targets, TARGETS),
    out: v.out,
    json: v.json,
  };
}
