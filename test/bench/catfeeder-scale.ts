// How cat-feeder's cost grows with the work, side by side with etcd 3.4 where etcd has the same
// notion: put cost by value size; loading, snapshotting, restarting and re-filling a member at a
// small and a large key count; a follower cut off from its peers under load, then healed.
// Prints Markdown tables; --out writes the report, --json the figures of every run.
//
//   node --conditions=@catmesh/source --import tsx test/bench/catfeeder-scale.ts \
//     [--large-keys 100000] [--partition 20s] [--runs 3] [--out docs/scale.md]   (--help for all)
//
// etcd comes from the system (`./scripts/setup-system.sh bench`), its rpc.proto from the etcd3
// npm package or CATMESH_BENCH_ETCD3_DIR; cutting an etcd member off needs nft and root.
// cat-feeder runs from services/cat-feeder/dist (`npx tsc -b tsconfig.build.json`).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runBench } from './bench-flags.js';
import type { TargetName } from './kv-target.js';
import { checkEtcdInstalled, etcdProtoFile } from './etcd-target.js';
import { describeMachine, loadAverage } from './machine-info.js';
import { nftUnavailable } from './nft-partition.js';
import {
  emptyCatchUpLimitMs,
  load,
  measureKeysRun,
  measurePartitionRun,
  measureValueCell,
} from './scale-measure.js';
import { parseScaleOptions, SCALE_USAGE, type ScaleOptions } from './scale-options.js';
import { markdownReport, tables, type ScaleResults } from './scale-report.js';
import { startSystem, type ScaleSystem, type SystemOptions } from './scale-systems.js';
import { removeOnExit } from './server-process.js';

const CHANNELS_PER_MEMBER = 8;

/** Alternates which target goes first, so that neither always follows the other. */
const inTurn = <T>(items: readonly T[], turn: number): T[] =>
  turn % 2 === 0 ? [...items] : [...items].reverse();

const message = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

type Results = { -readonly [K in keyof ScaleResults]: ScaleResults[K][number][] };

async function withSystem(
  name: TargetName,
  systemOptions: SystemOptions,
  results: Results,
  what: string,
  work: (system: ScaleSystem) => Promise<void>,
): Promise<void> {
  console.log(`${name}: starting 3 members for ${what}`);
  let system: ScaleSystem | undefined;
  try {
    system = await startSystem(name, systemOptions);
    await work(system);
  } catch (error) {
    results.notMeasured.push(`${name}, ${what}: ${message(error)}`);
    console.error(`${name}: ${what} stopped: ${message(error)}`);
  } finally {
    await system?.shutdown();
  }
}

async function valuesSection(o: ScaleOptions, systemOptions: SystemOptions, results: Results) {
  const systems: ScaleSystem[] = [];
  try {
    for (const name of o.targets) {
      try {
        systems.push(await startSystem(name, systemOptions));
      } catch (error) {
        results.notMeasured.push(`${name}, value sizes: ${message(error)}`);
      }
    }
    let turn = 0;
    for (let run = 1; run <= o.runs && systems.length > 0; run++) {
      for (const valueBytes of o.valueSizes) {
        for (const clients of o.clients) {
          for (const system of inTurn(systems, turn++)) {
            const cell = await measureValueCell(
              system,
              { valueBytes, clients, run, keys: o.smallKeys, channels: CHANNELS_PER_MEMBER },
              o,
            ).catch((error: unknown) => {
              // A system that fails is reported and dropped; the other goes on.
              results.notMeasured.push(`${system.target.name}, value sizes: ${message(error)}`);
              systems.splice(systems.indexOf(system), 1);
              return system.shutdown().then(() => undefined);
            });
            if (cell === undefined) continue;
            const r = cell.result;
            console.log(
              `run ${run}: ${system.target.name} put ${valueBytes} B × ${clients}: ` +
                `${Math.round(r.opsPerSecond)} puts/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ` +
                `${r.p99Ms.toFixed(2)} ms, ${r.serverCpuMsPerOp.toFixed(2)} ms server CPU/op, ${r.errors} errors`,
            );
            results.values.push({ ...cell, target: system.target.name });
          }
        }
      }
    }
  } finally {
    await Promise.all(systems.map((s) => s.shutdown()));
  }
}

async function keysSection(
  o: ScaleOptions,
  systemOptions: SystemOptions,
  results: Results,
  scratch: string,
) {
  for (const keys of [o.smallKeys, o.largeKeys]) {
    for (const name of o.targets) {
      await withSystem(name, systemOptions, results, `${keys} keys`, async (system) => {
        const loaded = await load(system, keys, o.preloadClients, CHANNELS_PER_MEMBER);
        console.log(
          `${name}: loaded ${keys} keys in ${(loaded.ms / 1000).toFixed(1)} s ` +
            `(${loaded.retries} puts retried); RSS MiB ${loaded.rssBytes.map((b) => Math.round(b / 2 ** 20)).join(' ')}`,
        );
        const runs = [];
        for (let run = 1; run <= o.runs; run++) {
          const r = await measureKeysRun(system, run, keys, scratch);
          const caughtUp =
            r.catchUpMs === undefined
              ? `not caught up after ${emptyCatchUpLimitMs(keys) / 1000} s (applied ${r.catchUpApplied[0]} of ${r.catchUpApplied[1]})`
              : `caught up in ${r.catchUpMs.toFixed(0)} ms`;
          console.log(
            `run ${run}: ${name} ${keys} keys: snapshot ${r.snapshot.ms.toFixed(0)} ms, restart → read ` +
              `${r.restartMs.toFixed(0)} ms, empty member ${caughtUp}` +
              (r.catchUpTermChanged ? ' (the term changed)' : ''),
          );
          runs.push(r);
          if (r.catchUpMs === undefined) {
            // A member that did not catch up leaves the cluster degraded for the next runs.
            results.skipped.push(
              `${name}, ${keys} keys: runs after run ${run} not made: its empty member did not ` +
                'catch up, which leaves the cluster degraded',
            );
            break;
          }
        }
        results.keys.push({ target: name, keys, loaded, runs });
      });
    }
  }
}

async function partitionSection(o: ScaleOptions, systemOptions: SystemOptions, results: Results) {
  const nft = o.targets.includes('etcd') ? nftUnavailable() : undefined;
  for (const name of o.targets) {
    if (name === 'etcd' && nft !== undefined) {
      results.notMeasured.push(`etcd, partition: ${nft}`);
      continue;
    }
    await withSystem(name, systemOptions, results, 'the partition', async (system) => {
      await load(system, o.smallKeys, o.preloadClients, CHANNELS_PER_MEMBER);
      for (let run = 1; run <= o.runs; run++) {
        const r = await measurePartitionRun(system, {
          run,
          partitionMs: o.partitionMs,
          clients: o.partitionClients,
          keys: o.smallKeys,
          channels: CHANNELS_PER_MEMBER,
        });
        const during = r.phases.spread.during;
        console.log(
          `run ${run}: ${name} member ${r.cutMember + 1} cut off: spread clients during: ` +
            `${Math.round(during.opsPerSecond)} puts/s, ${during.errors} failed; ${r.behindAtHeal} entries ` +
            `behind at heal, caught up ${r.catchUpMs === undefined ? 'not within the limit' : `in ${r.catchUpMs.toFixed(0)} ms`}` +
            (r.termChanged ? '; the term changed' : ''),
        );
        results.partitions.push({ ...r, target: name });
      }
    });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(SCALE_USAGE);
    return 0;
  }
  const options = parseScaleOptions(argv);
  let etcdProto: string | undefined;
  if (options.targets.includes('etcd')) {
    checkEtcdInstalled();
    etcdProto = etcdProtoFile(process.env['CATMESH_BENCH_ETCD3_DIR']);
  }
  const systemOptions: SystemOptions = {
    etcdProtoFile: etcdProto,
    channelsPerMember: CHANNELS_PER_MEMBER,
  };
  const startedAt = new Date();
  const started = performance.now();
  const machine = describeMachine();
  const loadAtStart = loadAverage();
  const command = [
    'node --conditions=@catmesh/source --import tsx test/bench/catfeeder-scale.ts',
    ...argv,
  ].join(' ');
  const results: Results = { values: [], keys: [], partitions: [], notMeasured: [], skipped: [] };
  const scratch = await mkdtemp(join(tmpdir(), 'catmesh-bench-scale-'));
  const forgetScratch = removeOnExit(scratch);
  try {
    if (options.sections.includes('values')) await valuesSection(options, systemOptions, results);
    if (options.sections.includes('keys'))
      await keysSection(options, systemOptions, results, scratch);
    if (options.sections.includes('partition'))
      await partitionSection(options, systemOptions, results);
  } finally {
    await rm(scratch, { recursive: true, force: true });
    forgetScratch();
  }

  const wallSeconds = (performance.now() - started) / 1000;
  for (const [title, body] of tables(results)) console.log(`\n${title}:\n\n${body}`);
  console.log(`\nwall time ${(wallSeconds / 60).toFixed(1)} min`);
  const context = {
    machine,
    options,
    command,
    startedAt,
    wallSeconds,
    loadAtStart,
    loadAtEnd: loadAverage(),
  };
  if (options.json !== undefined) {
    await mkdir(dirname(options.json), { recursive: true });
    await writeFile(
      options.json,
      `${JSON.stringify({ ...context, startedAt: startedAt.toISOString(), ...results }, null, 2)}\n`,
    );
    console.log(`figures written to ${options.json}`);
  }
  if (options.out !== undefined) {
    await mkdir(dirname(options.out), { recursive: true });
    await writeFile(options.out, markdownReport(context, results));
    console.log(`report written to ${options.out}`);
  }
  return results.notMeasured.length > 0 ? 1 : 0;
}

await runBench(main);
