import type { CasResult, GetResult, KvOperationRecord } from './history.js';
import { ILLEGAL, type SearchModel, type TimedOperation } from './linearization-search.js';

/** An operation of one key as the search sees it: its record, and `ret` Infinity if unknown. */
export interface KvSearchOperation extends TimedOperation {
  readonly record: KvOperationRecord;
}

/** The state of one key is its value; null when absent (the initial state). */
export type KvState = string | null;

/**
 * A single register with get / put / cas / delete. An operation of unknown outcome (no result)
 * is applied as it would have executed (a cas only if the value matched); one the search leaves
 * out of the linearization never happened.
 */
export const kvModel: SearchModel<KvState, KvSearchOperation> = {
  init: null,
  step(state, { record: { op, result } }) {
    switch (op.f) {
      case 'get':
        return result === undefined || (result as GetResult).value === state ? state : ILLEGAL;
      case 'put':
        return op.value;
      case 'delete':
        return null;
      case 'cas': {
        const matches = state === op.expected;
        if (result === undefined) return matches ? op.value : state;
        return (result as CasResult).ok === matches ? (matches ? op.value : state) : ILLEGAL;
      }
    }
  },
  key: (state) => (state === null ? '' : '=' + state),
  overwrites: ({ record: { op } }) => op.f === 'put' || op.f === 'delete',
  effect: ({ record: { op } }) =>
    JSON.stringify([op.f, 'value' in op ? op.value : null, 'expected' in op ? op.expected : null]),
};
