import { describe, expect, it } from 'vitest';
import {
  createPrng,
  nemesisTimeline,
  partitionCuts,
  playTimeline,
  resolvePlannedFault,
  validateFault,
} from '../src/index.js';
import type { Fault, NemesisKind, NemesisOptions, PartitionFault, Timeline } from '../src/index.js';

const five = ['n1', 'n2', 'n3', 'n4', 'n5'];
const allKinds: NemesisKind[] = [
  'random-halves',
  'isolate-node',
  'isolate-leader',
  'majorities-ring',
  'bridge',
  'kill',
  'pause',
];

function options(overrides: Partial<NemesisOptions> = {}): NemesisOptions {
  return {
    seed: 42,
    nodes: five,
    nemeses: allKinds,
    totalMs: 600_000,
    faultMs: { min: 1_000, max: 10_000 },
    quietMs: { min: 500, max: 5_000 },
    ...overrides,
  };
}

/** Who each node still receives from (itself included), given a partition. */
function visibility(fault: PartitionFault, nodes: readonly string[]): Map<string, Set<string>> {
  const cut = new Set(partitionCuts(fault).map(({ from, to }) => `${from}>${to}`));
  return new Map(
    nodes.map((to) => [to, new Set(nodes.filter((from) => !cut.has(`${from}>${to}`)))]),
  );
}

function partitions(timeline: Timeline): PartitionFault[] {
  return timeline.flatMap((e) => (e.fault.kind === 'partition' ? [e.fault] : []));
}

describe('createPrng', () => {
  it('is a function of its seed', () => {
    const draw = (seed: number | string) => {
      const rng = createPrng(seed);
      return Array.from({ length: 20 }, () => rng.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw('run-7')).toEqual(draw('run-7'));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(7).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('draws integers in range and shuffles into permutations', () => {
    const rng = createPrng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) seen.add(rng.int(3, 7));
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
    const shuffled = rng.shuffle(five);
    expect([...shuffled].sort()).toEqual(five);
    expect(() => rng.int(5, 4)).toThrow(/bad range/);
  });

  it('forks independent generators that replay with their parent, and draws chances', () => {
    const forks = (seed: number) => {
      const rng = createPrng(seed);
      return [rng.fork(), rng.fork()].map((fork) => Array.from({ length: 5 }, () => fork.next()));
    };
    const [first, second] = forks(3);
    expect(forks(3)).toEqual([first, second]);
    expect(first).not.toEqual(second);
    const rng = createPrng(9);
    const hits = Array.from({ length: 10_000 }, () => rng.chance(0.25)).filter(Boolean).length;
    expect(hits).toBeGreaterThan(2_000);
    expect(hits).toBeLessThan(3_000);
    expect(rng.chance(0)).toBe(false);
    expect(rng.chance(1)).toBe(true);
  });
});

describe('nemesisTimeline', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(nemesisTimeline(options())).toEqual(nemesisTimeline(options()));
    expect(nemesisTimeline(options({ seed: 'abc' }))).toEqual(
      nemesisTimeline(options({ seed: 'abc' })),
    );
    expect(nemesisTimeline(options({ seed: 1 }))).not.toEqual(
      nemesisTimeline(options({ seed: 2 })),
    );
  });

  it('alternates quiet periods and faults inside the run, all of them valid', () => {
    const timeline = nemesisTimeline(options());
    expect(timeline.length).toBeGreaterThan(20);
    let end = 0;
    for (const { startMs, fault } of timeline) {
      expect(startMs - end).toBeGreaterThanOrEqual(500);
      expect(startMs - end).toBeLessThanOrEqual(5_000);
      expect(fault.durationMs).toBeGreaterThanOrEqual(1_000);
      expect(fault.durationMs).toBeLessThanOrEqual(10_000);
      end = startMs + fault.durationMs;
      const resolved = resolvePlannedFault(fault, undefined);
      expect(() => validateFault(resolved, { knownTargets: five })).not.toThrow();
    }
    expect(end).toBeLessThanOrEqual(600_000);
    // Every nemesis gets drawn in a run this long.
    const kinds = new Set(
      timeline.map((e) =>
        e.fault.kind === 'partition'
          ? e.fault.links
            ? 'links'
            : `groups${e.fault.groups?.[0]?.length}`
          : e.fault.kind,
      ),
    );
    expect(kinds).toEqual(
      new Set(['links', 'groups1', 'groups2', 'isolate-leader', 'kill', 'pause']),
    );
  });

  it('power loss: every node at once, a kill that also loses what was not fsynced', () => {
    const faults = nemesisTimeline(options({ nemeses: ['power-loss'] })).map((e) => e.fault);
    expect(faults.length).toBeGreaterThan(10);
    for (const fault of faults) {
      expect(fault).toMatchObject({ kind: 'kill', powerLoss: true, targets: five });
      expect(() => validateFault(fault, { knownTargets: five })).not.toThrow();
    }
  });

  it('random halves: a minority and a majority covering all nodes', () => {
    const faults = partitions(nemesisTimeline(options({ nemeses: ['random-halves'] })));
    expect(faults.length).toBeGreaterThan(10);
    for (const fault of faults) {
      const [minority = [], majority = []] = fault.groups ?? [];
      expect(minority).toHaveLength(2);
      expect(majority).toHaveLength(3);
      expect([...minority, ...majority].sort()).toEqual(five);
    }
    // Not always the same split.
    expect(new Set(faults.map((f) => JSON.stringify(f.groups))).size).toBeGreaterThan(3);
  });

  it('majorities ring: every node sees a majority, no two the same one', () => {
    for (const nodes of [five, five.slice(0, 4), [...five, 'n6', 'n7']]) {
      const majority = Math.floor(nodes.length / 2) + 1;
      const faults = partitions(nemesisTimeline(options({ nodes, nemeses: ['majorities-ring'] })));
      expect(faults.length).toBeGreaterThan(10);
      for (const fault of faults) {
        const views = [...visibility(fault, nodes).values()].map((seen) => [...seen].sort().join());
        for (const view of views) expect(view.split(',').length).toBeGreaterThanOrEqual(majority);
        expect(new Set(views).size).toBe(nodes.length);
      }
    }
    expect(() =>
      nemesisTimeline(options({ nodes: ['a', 'b', 'c'], nemeses: ['majorities-ring'] })),
    ).toThrow(/majorities-ring needs at least 4 nodes/);
  });

  it('bridge: exactly one node sees everyone, the others only their side and the bridge', () => {
    for (const fault of partitions(nemesisTimeline(options({ nemeses: ['bridge'] })))) {
      const views = [...visibility(fault, five).values()];
      expect(views.filter((seen) => seen.size === 5)).toHaveLength(1);
      expect(views.filter((seen) => seen.size === 3)).toHaveLength(4);
    }
  });

  it('kill and pause hit the requested number of nodes; restarts come inside the fault', () => {
    const timeline = nemesisTimeline(
      options({
        nemeses: ['kill', 'pause'],
        processTargets: 'minority',
        restartAfterMs: { min: 200, max: 20_000 },
      }),
    );
    for (const { fault } of timeline) {
      if (fault.kind !== 'kill' && fault.kind !== 'pause') throw new Error(fault.kind);
      expect(fault.targets).toHaveLength(2);
      if (fault.kind === 'kill') {
        expect(fault.restartAfterMs).toBeGreaterThanOrEqual(200);
        expect(fault.restartAfterMs).toBeLessThanOrEqual(fault.durationMs);
      }
    }
  });

  it('rejects impossible options, naming them', () => {
    expect(() => nemesisTimeline(options({ nemeses: [] }))).toThrow(/nemeses/);
    expect(() => nemesisTimeline(options({ nodes: ['a', 'a'] }))).toThrow(/nodes/);
    expect(() => nemesisTimeline(options({ faultMs: { min: 0, max: 5 } }))).toThrow(/faultMs/);
    expect(() => nemesisTimeline(options({ quietMs: { min: 9, max: 5 } }))).toThrow(/quietMs/);
    expect(() => nemesisTimeline(options({ nemeses: ['flood' as NemesisKind] }))).toThrow(
      /unknown nemesis/,
    );
  });
});

describe('isolate-leader', () => {
  const planned = {
    kind: 'isolate-leader',
    nodes: ['a', 'b', 'c'],
    fallback: 'c',
    durationMs: 9,
  } as const;

  it('isolates the leader known at run time, else the seeded fallback', () => {
    expect(resolvePlannedFault(planned, 'b')).toEqual({
      kind: 'partition',
      groups: [['b'], ['a', 'c']],
      direction: 'both',
      durationMs: 9,
    });
    expect(resolvePlannedFault(planned, undefined)).toMatchObject({ groups: [['c'], ['a', 'b']] });
    expect(resolvePlannedFault(planned, 'stranger')).toMatchObject({ groups: [['c'], ['a', 'b']] });
  });
});

describe('playTimeline', () => {
  it('applies entries in start order, asking for the leader when needed', async () => {
    const applied: Fault[] = [];
    const timeline: Timeline = [
      { startMs: 30, fault: { kind: 'pause', targets: ['a'], durationMs: 5 } },
      {
        startMs: 0,
        fault: { kind: 'isolate-leader', nodes: ['a', 'b'], fallback: 'a', durationMs: 5 },
      },
    ];
    const played = await playTimeline(timeline, {
      apply: (fault) => {
        applied.push(fault);
        return Promise.resolve();
      },
      leader: () => 'b',
    });
    expect(applied).toEqual([
      { kind: 'partition', groups: [['b'], ['a']], direction: 'both', durationMs: 5 },
      { kind: 'pause', targets: ['a'], durationMs: 5 },
    ]);
    expect(played.map((p) => p.entry.startMs)).toEqual([0, 30]);
    expect(played[1]!.appliedAt).toBeGreaterThanOrEqual(played[0]!.appliedAt);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const applied: Fault[] = [];
    const playing = playTimeline(
      [
        { startMs: 0, fault: { kind: 'pause', targets: ['a'], durationMs: 5 } },
        { startMs: 60_000, fault: { kind: 'pause', targets: ['b'], durationMs: 5 } },
      ],
      {
        apply: (fault) => {
          applied.push(fault);
          controller.abort(new Error('enough'));
          return Promise.resolve();
        },
        signal: controller.signal,
      },
    );
    await expect(playing).rejects.toThrow('enough');
    expect(applied).toHaveLength(1);
  });
});
