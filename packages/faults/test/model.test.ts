import { describe, expect, it } from 'vitest';
import {
  describeFault,
  FaultValidationError,
  faultNodes,
  partitionCuts,
  validateFault,
} from '../src/index.js';
import type { Fault } from '../src/index.js';

const nodes = ['n1', 'n2', 'n3'];

function fieldOf(input: unknown, knownTargets: readonly string[] = nodes): string {
  try {
    validateFault(input, { knownTargets });
  } catch (error) {
    expect(error).toBeInstanceOf(FaultValidationError);
    expect((error as Error).message).toContain((error as FaultValidationError).field);
    return (error as FaultValidationError).field;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('validateFault', () => {
  const good: Fault[] = [
    { kind: 'partition', groups: [['n1'], ['n2', 'n3']], direction: 'both', durationMs: 1000 },
    {
      kind: 'partition',
      links: [{ from: ['n1'], to: ['n2'] }],
      direction: 'one-way',
      durationMs: 5,
    },
    { kind: 'latency', targets: ['n1'], delayMs: 100, jitterMs: 20, durationMs: 1000 },
    { kind: 'latency', targets: ['n1', 'n2'], delayMs: 0.5, durationMs: 1000 },
    { kind: 'loss', targets: ['n2'], probability: 1, durationMs: 1000 },
    { kind: 'loss', targets: ['n2'], probability: 0.001, durationMs: 1000 },
    { kind: 'kill', targets: ['n3'], durationMs: 1000 },
    { kind: 'kill', targets: ['n3'], restartAfterMs: 0, durationMs: 1000 },
    { kind: 'pause', targets: ['n1', 'n2'], durationMs: 1000 },
  ];
  it.each(good)('accepts $kind %#', (fault) => {
    expect(validateFault(fault, { knownTargets: nodes })).toEqual(fault);
  });

  it('names the field of each problem', () => {
    const base = { kind: 'loss', targets: ['n1'], probability: 0.5, durationMs: 1000 };
    expect(fieldOf(null)).toBe('fault');
    expect(fieldOf({ ...base, kind: 'flood' })).toBe('kind');
    expect(fieldOf({ ...base, probability: 0 })).toBe('probability');
    expect(fieldOf({ ...base, probability: 1.5 })).toBe('probability');
    expect(fieldOf({ ...base, probability: Number.NaN })).toBe('probability');
    expect(fieldOf({ ...base, probability: '0.5' })).toBe('probability');
    expect(fieldOf({ ...base, durationMs: 0 })).toBe('durationMs');
    expect(fieldOf({ ...base, durationMs: Infinity })).toBe('durationMs');
    expect(fieldOf({ ...base, targets: [] })).toBe('targets');
    expect(fieldOf({ ...base, targets: ['n1', 'n1'] })).toBe('targets');
    expect(fieldOf({ ...base, targets: ['n1', 'n9'] })).toBe('targets[1]');
    expect(fieldOf({ ...base, targets: 'n1' })).toBe('targets');
    expect(fieldOf({ ...base, probabilty: 0.5 })).toBe('probabilty');
    expect(fieldOf({ kind: 'latency', targets: ['n1'], delayMs: -1, durationMs: 9 })).toBe(
      'delayMs',
    );
    expect(
      fieldOf({ kind: 'latency', targets: ['n1'], delayMs: 5, jitterMs: -1, durationMs: 9 }),
    ).toBe('jitterMs');
    expect(fieldOf({ kind: 'kill', targets: ['n1'], restartAfterMs: 10, durationMs: 5 })).toBe(
      'restartAfterMs',
    );
    expect(fieldOf({ kind: 'kill', targets: ['n1'], restartAfterMs: -1, durationMs: 5 })).toBe(
      'restartAfterMs',
    );
    expect(fieldOf({ kind: 'pause', targets: [''], durationMs: 5 })).toBe('targets[0]');
  });

  it('names the field of partition problems', () => {
    const base = { kind: 'partition', direction: 'both', durationMs: 1000 };
    expect(fieldOf({ ...base, groups: [['n1'], []] })).toBe('groups[1]');
    expect(fieldOf({ ...base, groups: [['n1', 'n2']] })).toBe('groups');
    expect(
      fieldOf({
        ...base,
        groups: [
          ['n1', 'n2'],
          ['n2', 'n3'],
        ],
      }),
    ).toBe('groups[1][0]');
    expect(fieldOf({ ...base, groups: [['n1'], ['x']] })).toBe('groups[1][0]');
    expect(fieldOf({ ...base })).toBe('groups');
    expect(fieldOf({ ...base, groups: [['n1'], ['n2']], links: [] })).toBe('groups');
    expect(fieldOf({ ...base, links: [] })).toBe('links');
    expect(fieldOf({ ...base, links: [{ from: ['n1'], to: [] }] })).toBe('links[0].to');
    expect(fieldOf({ ...base, links: [{ from: ['n1'], to: ['n1'] }] })).toBe('links[0].to[0]');
    expect(fieldOf({ ...base, links: [{ from: ['n1'], to: ['n2'], via: 1 }] })).toBe(
      'links[0].via',
    );
    expect(fieldOf({ ...base, direction: 'sideways', groups: [['n1'], ['n2']] })).toBe('direction');
  });

  it('checks targets only against a known list when one is given', () => {
    const fault = { kind: 'pause', targets: ['anything'], durationMs: 1 };
    expect(validateFault(fault)).toEqual(fault);
    expect(fieldOf(fault, nodes)).toBe('targets[0]');
  });
});

describe('partitionCuts', () => {
  it('cuts every pair across groups, both ways', () => {
    const cuts = partitionCuts({
      kind: 'partition',
      groups: [['a'], ['b', 'c']],
      direction: 'both',
      durationMs: 1,
    });
    expect(cuts).toEqual([
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
      { from: 'a', to: 'c' },
      { from: 'c', to: 'a' },
    ]);
  });

  it('cuts only from earlier groups to later ones when one-way', () => {
    const cuts = partitionCuts({
      kind: 'partition',
      groups: [['a'], ['b'], ['c']],
      direction: 'one-way',
      durationMs: 1,
    });
    expect(cuts).toEqual([
      { from: 'a', to: 'b' },
      { from: 'a', to: 'c' },
      { from: 'b', to: 'c' },
    ]);
  });

  it('expands links without duplicates', () => {
    const cuts = partitionCuts({
      kind: 'partition',
      links: [
        { from: ['a'], to: ['b'] },
        { from: ['b'], to: ['a', 'c'] },
      ],
      direction: 'both',
      durationMs: 1,
    });
    expect(cuts).toEqual([
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'b' },
    ]);
  });
});

describe('describeFault and faultNodes', () => {
  it('reads like a log line and lists the nodes involved', () => {
    const fault: Fault = {
      kind: 'partition',
      groups: [['n1'], ['n2', 'n3']],
      direction: 'both',
      durationMs: 5000,
    };
    expect(describeFault(fault)).toBe('partition {n1} | {n2, n3} both for 5000ms');
    expect(faultNodes(fault)).toEqual(['n1', 'n2', 'n3']);
    expect(
      describeFault({ kind: 'kill', targets: ['n2'], restartAfterMs: 100, durationMs: 500 }),
    ).toBe('kill {n2} restart after 100ms for 500ms');
  });
});
