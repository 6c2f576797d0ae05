import { FaultValidationError } from './errors.js';
import type { Fault, FaultKind, PartitionDirection } from './model.js';
import { faultKinds } from './model.js';

export interface ValidateFaultOptions {
  /** When given, every node the fault names must be one of these. */
  readonly knownTargets?: readonly string[];
}

// Unknown fields are rejected too: a misspelt `probabilty` must not silently mean "no loss".
const fieldsByKind: Record<FaultKind, readonly string[]> = {
  partition: ['kind', 'durationMs', 'groups', 'links', 'direction'],
  latency: ['kind', 'durationMs', 'targets', 'delayMs', 'jitterMs'],
  loss: ['kind', 'durationMs', 'targets', 'probability'],
  kill: ['kind', 'durationMs', 'targets', 'restartAfterMs', 'powerLoss'],
  pause: ['kind', 'durationMs', 'targets'],
};

const directions: readonly PartitionDirection[] = ['both', 'one-way'];

/**
 * Checks an untrusted value (an experiment file, a gRPC request, a schedule) and returns it as a
 * `Fault`, or throws a `FaultValidationError` naming the first bad field.
 */
export function validateFault(input: unknown, options: ValidateFaultOptions = {}): Fault {
  const known = options.knownTargets ? new Set(options.knownTargets) : undefined;
  const fail = (field: string, problem: string): never => {
    throw new FaultValidationError(field, problem);
  };
  if (!isRecord(input)) return fail('fault', `must be an object, got ${show(input)}`);
  const kind = input.kind;
  if (typeof kind !== 'string' || !(faultKinds as readonly string[]).includes(kind)) {
    return fail('kind', `must be one of ${faultKinds.join(', ')}, got ${show(kind)}`);
  }
  const faultKind = kind as FaultKind;
  for (const key of Object.keys(input)) {
    if (!fieldsByKind[faultKind].includes(key)) fail(key, `unknown field for a ${kind} fault`);
  }
  const durationMs = input.durationMs;
  if (!isFiniteNumber(durationMs) || durationMs <= 0) {
    fail('durationMs', `must be a number > 0, got ${show(durationMs)}`);
  }

  const node = (field: string, value: unknown): string => {
    if (typeof value !== 'string' || value === '') {
      return fail(field, `must be a non-empty node name, got ${show(value)}`);
    }
    if (known && !known.has(value)) {
      return fail(field, `unknown target ${show(value)} (known: ${[...known].join(', ')})`);
    }
    return value;
  };
  const nodeList = (field: string, value: unknown): string[] => {
    if (!Array.isArray(value)) return fail(field, `must be an array of node names`);
    if (value.length === 0) return fail(field, 'must not be empty');
    const nodes = value.map((item, i) => node(`${field}[${i}]`, item));
    const duplicate = nodes.find((n, i) => nodes.indexOf(n) !== i);
    if (duplicate !== undefined) fail(field, `names ${show(duplicate)} twice`);
    return nodes;
  };

  switch (faultKind) {
    case 'partition': {
      const direction = input.direction;
      if (!(directions as readonly unknown[]).includes(direction)) {
        fail('direction', `must be 'both' or 'one-way', got ${show(direction)}`);
      }
      const hasGroups = input.groups !== undefined;
      const hasLinks = input.links !== undefined;
      if (hasGroups === hasLinks) fail('groups', 'give exactly one of groups or links');
      if (hasGroups) {
        if (!Array.isArray(input.groups)) return fail('groups', 'must be an array of groups');
        if (input.groups.length < 2) fail('groups', 'needs at least two groups to cut between');
        const owner = new Map<string, number>();
        input.groups.forEach((group, g) => {
          nodeList(`groups[${g}]`, group).forEach((n, i) => {
            const other = owner.get(n);
            if (other !== undefined) {
              fail(`groups[${g}][${i}]`, `${show(n)} is already in groups[${other}]`);
            }
            owner.set(n, g);
          });
        });
      } else {
        if (!Array.isArray(input.links)) return fail('links', 'must be an array of links');
        if (input.links.length === 0) fail('links', 'must not be empty');
        input.links.forEach((link: unknown, l) => {
          if (!isRecord(link)) return fail(`links[${l}]`, 'must be an object with from and to');
          for (const key of Object.keys(link)) {
            if (key !== 'from' && key !== 'to') fail(`links[${l}].${key}`, 'unknown field');
          }
          const from = nodeList(`links[${l}].from`, link.from);
          nodeList(`links[${l}].to`, link.to).forEach((n, i) => {
            if (from.includes(n)) fail(`links[${l}].to[${i}]`, `${show(n)} is also in from`);
          });
        });
      }
      break;
    }
    case 'latency': {
      nodeList('targets', input.targets);
      if (!isFiniteNumber(input.delayMs) || input.delayMs <= 0) {
        fail('delayMs', `must be a number > 0, got ${show(input.delayMs)}`);
      }
      if (input.jitterMs !== undefined && (!isFiniteNumber(input.jitterMs) || input.jitterMs < 0)) {
        fail('jitterMs', `must be a number >= 0, got ${show(input.jitterMs)}`);
      }
      break;
    }
    case 'loss': {
      nodeList('targets', input.targets);
      const p = input.probability;
      if (!isFiniteNumber(p) || p <= 0 || p > 1) {
        fail('probability', `must be in (0, 1], got ${show(p)}`);
      }
      break;
    }
    case 'kill': {
      nodeList('targets', input.targets);
      const restart = input.restartAfterMs;
      if (restart !== undefined) {
        if (!isFiniteNumber(restart) || restart < 0) {
          fail('restartAfterMs', `must be a number >= 0, got ${show(restart)}`);
        }
        if (isFiniteNumber(durationMs) && (restart as number) > durationMs) {
          fail('restartAfterMs', `must not exceed durationMs (${durationMs})`);
        }
      }
      if (input.powerLoss !== undefined && typeof input.powerLoss !== 'boolean') {
        fail('powerLoss', `must be true or false, got ${show(input.powerLoss)}`);
      }
      break;
    }
    case 'pause':
      nodeList('targets', input.targets);
      break;
  }
  return input as unknown as Fault;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON.stringify gives undefined for functions and symbols; their type says enough.
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
