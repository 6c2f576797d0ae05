import { envTypes } from '@catmesh/runtime';
import { UsageError } from './cli-errors.js';

const positive = envTypes.int({ min: 1 });

/** A whole number >= 1 (a revision, a count, a member id); `what` names it in the error. */
export function parsePositiveInteger(text: string, what: string): number {
  const value = positive.parse(text.trim());
  if (value === undefined) {
    throw new UsageError(`${what}: expected ${positive.expected}, got '${text}'`);
  }
  return value;
}

/** A duration with its unit (`500ms`, `5s`, `2m`) of at least `minMs`, in milliseconds. */
export function parseDuration(text: string, what: string, minMs = 1): number {
  const type = envTypes.duration({ minMs });
  const value = type.parse(text.trim());
  if (value === undefined) {
    throw new UsageError(`${what}: expected ${type.expected}, got '${text}'`);
  }
  return value;
}
