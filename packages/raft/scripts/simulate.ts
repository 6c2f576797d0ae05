// Runs the deterministic Raft simulator (packages/raft/test/sim).
//
//   --seed N              replay one seed verbosely (add --messages to trace every message)
//   --seeds N [--start S] run N seeds from S (default 1) and summarise, for `make soak`
//   --ticks T             length of the chaos phase in ticks (default 1500, as in the tests)
//   --planted-bug B       run with a bug planted on purpose (SimPlantedBug), to see it caught
//
// Exits 1 if any seed breaks an invariant.
import { parseArgs } from 'node:util';
import {
  Simulation,
  replayCommand,
  type SimPlantedBug,
  type SimResult,
} from '../test/sim/simulation.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string' },
    start: { type: 'string', default: '1' },
    ticks: { type: 'string' },
    messages: { type: 'boolean', default: false },
    'planted-bug': { type: 'string' },
  },
});

const plantedBugs: readonly SimPlantedBug[] = [
  'lease-read-without-tick-catch-up',
  'hard-state-acknowledged-unsynced',
];
const plantedBug = plantedBugs.find((b) => b === values['planted-bug']);
if (values['planted-bug'] !== undefined && plantedBug === undefined) {
  console.error(`--planted-bug: expected one of ${plantedBugs.join(', ')}`);
  process.exit(2);
}

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name}: expected a non-negative integer, got ${value}`);
    process.exit(2);
  }
  return n;
}

const chaosTicks = int('ticks', values.ticks);
const seed = int('seed', values.seed);
const seeds = int('seeds', values.seeds);

function summary(r: SimResult): string {
  const s = r.stats;
  return (
    `seed ${r.seed}: ${r.violation ? `VIOLATION (${r.violation.invariant})` : 'ok'}; ` +
    `${s.ticks} ticks, ${s.events} events, ${s.elections} elections, ${s.committed} committed, ` +
    `${s.readsCompleted}/${s.reads} reads, ${s.crashes} crashes, ${s.snapshotsSent} snapshots, ` +
    `${s.confChanges} conf changes, ${s.transfers} transfers, leader ${s.leaderAfterHeal ?? '-'} ticks after heal`
  );
}

if (seed !== undefined) {
  const sim = new Simulation({
    seed,
    chaosTicks,
    trace: (line) => console.log(line),
    traceMessages: values.messages,
    plantedBug,
  });
  console.log(`seed ${seed} parameters: ${JSON.stringify(sim.params)}`);
  const result = sim.run();
  console.log(summary(result));
  if (result.violation) {
    console.log(result.violation.message);
    process.exit(1);
  }
} else if (seeds !== undefined) {
  const start = int('start', values.start) ?? 1;
  const began = performance.now();
  const failed: SimResult[] = [];
  let events = 0;
  for (let s = start; s < start + seeds; s++) {
    const result = new Simulation({ seed: s, chaosTicks, plantedBug }).run();
    events += result.stats.events;
    if (result.violation) {
      failed.push(result);
      console.log(summary(result));
      console.log(`  ${result.violation.message}`);
      console.log(`  replay: ${replayCommand(s, result.params.chaosTicks, plantedBug)}`);
    }
  }
  const seconds = (performance.now() - began) / 1000;
  console.log(
    `${seeds} seeds from ${start}: ${failed.length} failed, ${events} events, ${seconds.toFixed(1)} s`,
  );
  if (failed.length > 0) process.exit(1);
} else {
  console.error('usage: simulate.ts --seed N [--messages] | --seeds N [--start S] [--ticks T]');
  process.exit(2);
}
