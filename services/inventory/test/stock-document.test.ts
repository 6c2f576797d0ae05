import { describe, expect, it } from 'vitest';
import {
  applyReserve,
  applyRestock,
  applySettle,
  checkInvariant,
  emptyStock,
  settledEntries,
  withoutEntries,
} from '../src/stock-document.js';

describe('stock document', () => {
  const stocked = applyRestock(emptyStock('kibble'), 'r1', 3);

  it('reserves only what is available, and records a refusal instead of going negative', () => {
    const one = applyReserve(stocked, 'o1', 2);
    expect(one).toMatchObject({ available: 1, reserved: 2, committed: 0, restocked: 3 });
    const refused = applyReserve(one, 'o2', 2);
    expect(refused).toMatchObject({ available: 1, reserved: 2 });
    expect(refused.reservations.o2).toEqual({ quantity: 2, state: 'out_of_stock' });
    checkInvariant(refused);
  });

  it('settles a reservation into sold or back into available units', () => {
    const reserved = applyReserve(stocked, 'o1', 2);
    expect(applySettle(reserved, 'o1', 'committed')).toMatchObject({
      available: 1,
      reserved: 0,
      committed: 2,
    });
    expect(applySettle(reserved, 'o1', 'released')).toMatchObject({
      available: 3,
      reserved: 0,
      committed: 0,
    });
    expect(() => applySettle(applySettle(reserved, 'o1', 'released'), 'o1', 'committed')).toThrow(
      /not reserved/,
    );
  });

  it('lists only settled entries for archiving, and drops exactly those', () => {
    let doc = applyReserve(applyReserve(stocked, 'o1', 1), 'o2', 1);
    doc = applySettle(doc, 'o1', 'committed');
    const settled = settledEntries(doc);
    expect(settled.reservations.map(([id]) => id)).toEqual(['o1']);
    expect(settled.restocks).toEqual(['r1']);
    const compacted = withoutEntries(doc, ['o1'], ['r1']);
    expect(Object.keys(compacted.reservations)).toEqual(['o2']);
    expect(compacted.restocks).toEqual({});
    checkInvariant(compacted);
  });

  it('refuses a document whose counts disagree', () => {
    expect(() => checkInvariant({ ...stocked, available: 2 })).toThrow(/!= restocked/);
    expect(() => checkInvariant({ ...stocked, available: -1, restocked: 2 })).toThrow(/negative/);
    const reserved = applyReserve(stocked, 'o1', 1);
    expect(() => checkInvariant({ ...reserved, reserved: 0, available: 3 })).toThrow(
      /entries hold 1/,
    );
  });
});
