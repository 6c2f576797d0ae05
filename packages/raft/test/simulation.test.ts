// Deterministic simulation testing of the Raft core: 1,000 seeds, each a few thousand simulated
// steps of partitions, losses, crashes, transfers and membership changes, with Raft's safety
// properties checked after every step (see test/sim/). A failure names the seed and the command
// that replays it.
import { describe, expect, it } from 'vitest';
import type { Entry } from '../src/core/index.js';
import { InvariantViolation, SafetyChecker } from './sim/checker.js';
import { Simulation, replayCommand, type SimPlantedBug, type SimStats } from './sim/simulation.js';

const SEEDS = 1000;
const CHUNK = 100;

function entry(index: number, term: number, data: string): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(data) };
}

describe('deterministic simulation', () => {
  for (let start = 1; start <= SEEDS; start += CHUNK) {
    const end = start + CHUNK - 1;
    it(`seeds ${start}..${end}: safety holds after every step, and a leader emerges after healing`, () => {
      const failures: string[] = [];
      const sum: SimStats = {
        ticks: 0,
        events: 0,
        elections: 0,
        proposals: 0,
        forwarded: 0,
        committed: 0,
        reads: 0,
        readsCompleted: 0,
        faults: 0,
        crashes: 0,
        lostBatches: 0,
        pauses: 0,
        transfers: 0,
        confChanges: 0,
        compactions: 0,
        snapshotsSent: 0,
        messages: 0,
        leaderAfterHeal: 0,
      };
      for (let seed = start; seed <= end; seed++) {
        const result = new Simulation({ seed }).run();
        if (result.violation !== undefined) {
          failures.push(
            `seed ${seed} broke ${result.violation.invariant} at tick ${result.violation.tick}: ` +
              `${result.violation.message}\n  replay: ${replayCommand(seed)}`,
          );
        }
        for (const key of Object.keys(sum) as (keyof SimStats)[]) {
          sum[key] = (sum[key] ?? 0) + (result.stats[key] ?? 0);
        }
      }
      expect(failures, failures.join('\n')).toEqual([]);
      // The schedule must keep exercising what it claims to (a vacuous run would pass too).
      expect(sum.events / CHUNK).toBeGreaterThan(3000);
      expect(sum.elections).toBeGreaterThan(CHUNK * 3);
      expect(sum.crashes).toBeGreaterThan(CHUNK * 3);
      // Crashes are power losses that take away batches written but not yet fsynced.
      expect(sum.lostBatches).toBeGreaterThan(CHUNK);
      expect(sum.pauses).toBeGreaterThan(CHUNK * 2);
      expect(sum.readsCompleted).toBeGreaterThan(CHUNK * 10);
      expect(sum.forwarded).toBeGreaterThan(CHUNK * 10);
      expect(sum.snapshotsSent).toBeGreaterThan(CHUNK / 5);
      expect(sum.confChanges).toBeGreaterThan(CHUNK / 5);
      expect(sum.transfers).toBeGreaterThan(CHUNK / 5);
    });
  }

  it('a seed replays exactly', () => {
    const lines = (seed: number): string[] => {
      const out: string[] = [];
      new Simulation({ seed, chaosTicks: 300, trace: (l) => out.push(l) }).run();
      return out;
    };
    const first = lines(4242);
    expect(first.length).toBeGreaterThan(10);
    expect(lines(4242)).toEqual(first);
    expect(lines(4243)).not.toEqual(first);
  });
});

describe('the simulator catches planted bugs (each of these seeds passes without the bug above)', () => {
  const caught: readonly (readonly [SimPlantedBug, string, readonly number[]])[] = [
    // A leader paused past its lease resumes and serves a lease read before its timer catches up.
    ['lease-read-without-tick-catch-up', 'linearizable reads', [3038, 3385, 3498]],
    // A vote acknowledged before its fsync is forgotten by a power loss: two leaders in a term.
    ['hard-state-acknowledged-unsynced', 'election safety', [90, 162, 163]],
  ];
  for (const [plantedBug, invariant, seeds] of caught) {
    it(`${plantedBug}: seeds ${seeds.join(', ')} break ${invariant}`, () => {
      const broken = seeds.map(
        (seed) => new Simulation({ seed, plantedBug }).run().violation?.invariant,
      );
      expect(broken).toEqual(seeds.map(() => invariant));
    });
  }
});

describe('the simulator checks can fail', () => {
  const view = (id: number, term: number, terms: Record<number, number>) => ({
    id,
    term,
    firstIndex: 1,
    termAt: (i: number) => terms[i],
  });

  it('election safety: two leaders in one term', () => {
    const c = new SafetyChecker();
    c.leader(1, 5);
    c.leader(1, 5);
    expect(() => c.leader(2, 5)).toThrow(InvariantViolation);
    expect(() => c.leader(2, 5)).toThrow(/^election safety/);
  });

  it('log matching: the same index and term with different contents or predecessors', () => {
    const c = new SafetyChecker();
    c.logEntries(1, [entry(1, 1, 'a'), entry(2, 2, 'b')], 0);
    expect(() => c.logEntries(2, [entry(2, 2, 'x')], 1)).toThrow(/^log matching/);
    expect(() => c.logEntries(2, [entry(2, 2, 'b')], 3)).toThrow(/^log matching/);
    c.logEntries(3, [entry(2, 2, 'b')], 1);
  });

  it('committed entries are permanent, and a new leader must hold them (leader completeness)', () => {
    const c = new SafetyChecker();
    c.committedUpTo(view(1, 3, { 1: 1, 2: 3 }), 1, 2);
    expect(() => c.committedUpTo(view(2, 4, { 1: 1, 2: 4 }), 1, 2)).toThrow(
      /^committed entries are permanent/,
    );
    expect(() => c.newLeader(view(3, 5, { 1: 1 }))).toThrow(/^leader completeness/);
    c.newLeader(view(3, 5, { 1: 1, 2: 3 }));
    expect(c.highWater).toBe(2);
  });

  it('state machine safety: different entries or states applied at one index', () => {
    const c = new SafetyChecker();
    c.apply(1, entry(1, 1, 'a'), 100);
    expect(() => c.apply(2, entry(1, 2, 'a'), 100)).toThrow(/^state machine safety/);
    expect(() => c.state(3, 1, 101)).toThrow(/^state machine safety/);
  });
});
