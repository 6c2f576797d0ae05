// One SKU's stock as stored in Key/Value: the counts and the operations applied to them, in ONE
// document, so that a count and the record of what changed it are written by the same
// compare-and-set and can never diverge. Everything here is pure; inventory-store.ts does the I/O.

/** Where one order's reservation is. `out_of_stock` records a refusal, so a retry gets it too. */
export type EntryState = 'reserved' | 'released' | 'committed' | 'out_of_stock';

export interface ReservationEntry {
  readonly quantity: number;
  readonly state: EntryState;
}

export interface StockDocument {
  readonly sku: string;
  readonly available: number;
  readonly reserved: number;
  readonly committed: number;
  /** Every unit ever restocked: available + reserved + committed equals it, always. */
  readonly restocked: number;
  /**
   * Reservations applied to this document, by order id, until they settle and are archived to
   * their claims (see inventory-store.ts): an entry leaves only once its claim holds its outcome.
   */
  readonly reservations: Readonly<Record<string, ReservationEntry>>;
  /** Restocks applied to this document, by restock id, until archived the same way. */
  readonly restocks: Readonly<Record<string, { readonly quantity: number }>>;
}

/**
 * The entry of `orderId`, if the document has one. Ids are client text, and `constructor` or
 * `__proto__` would otherwise find what every object inherits.
 */
export function reservationOf(doc: StockDocument, orderId: string): ReservationEntry | undefined {
  return Object.hasOwn(doc.reservations, orderId) ? doc.reservations[orderId] : undefined;
}

/** The quantity restock `restockId` added, if the document still holds it. */
export function restockOf(doc: StockDocument, restockId: string): number | undefined {
  return Object.hasOwn(doc.restocks, restockId) ? doc.restocks[restockId]?.quantity : undefined;
}

export function emptyStock(sku: string): StockDocument {
  return {
    sku,
    available: 0,
    reserved: 0,
    committed: 0,
    restocked: 0,
    reservations: {},
    restocks: {},
  };
}

export function applyRestock(
  doc: StockDocument,
  restockId: string,
  quantity: number,
): StockDocument {
  return {
    ...doc,
    available: doc.available + quantity,
    restocked: doc.restocked + quantity,
    restocks: { ...doc.restocks, [restockId]: { quantity } },
  };
}

/** Sets `quantity` aside for `orderId` when that many are available; records a refusal otherwise. */
export function applyReserve(doc: StockDocument, orderId: string, quantity: number): StockDocument {
  if (doc.available < quantity) {
    return {
      ...doc,
      reservations: { ...doc.reservations, [orderId]: { quantity, state: 'out_of_stock' } },
    };
  }
  return {
    ...doc,
    available: doc.available - quantity,
    reserved: doc.reserved + quantity,
    reservations: { ...doc.reservations, [orderId]: { quantity, state: 'reserved' } },
  };
}

/** Ends a `reserved` entry: its units go back to available (release) or are sold (commit). */
export function applySettle(
  doc: StockDocument,
  orderId: string,
  to: 'released' | 'committed',
): StockDocument {
  const entry = reservationOf(doc, orderId);
  if (entry?.state !== 'reserved') {
    throw new Error(`applySettle: ${orderId} is not reserved in ${doc.sku}`);
  }
  const { quantity } = entry;
  return {
    ...doc,
    reserved: doc.reserved - quantity,
    available: to === 'released' ? doc.available + quantity : doc.available,
    committed: to === 'committed' ? doc.committed + quantity : doc.committed,
    reservations: { ...doc.reservations, [orderId]: { quantity, state: to } },
  };
}

/** The entries whose outcome can no longer change: they may be archived and dropped. */
export function settledEntries(doc: StockDocument): {
  reservations: [string, ReservationEntry][];
  restocks: string[];
} {
  return {
    reservations: Object.entries(doc.reservations).filter(([, e]) => e.state !== 'reserved'),
    restocks: Object.keys(doc.restocks),
  };
}

/** `doc` without the given (settled) entries. */
export function withoutEntries(
  doc: StockDocument,
  orderIds: readonly string[],
  restockIds: readonly string[],
): StockDocument {
  const reservations = { ...doc.reservations };
  for (const id of orderIds) delete reservations[id];
  const restocks = { ...doc.restocks };
  for (const id of restockIds) delete restocks[id];
  return { ...doc, reservations, restocks };
}

/** Whether the counts agree with themselves; a document that does not is never written. */
export function checkInvariant(doc: StockDocument): void {
  const counts = [doc.available, doc.reserved, doc.committed, doc.restocked];
  if (counts.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new Error(`stock of ${doc.sku} has a negative or non-integer count`);
  }
  if (doc.available + doc.reserved + doc.committed !== doc.restocked) {
    throw new Error(
      `stock of ${doc.sku}: available ${doc.available} + reserved ${doc.reserved} + committed ${doc.committed} != restocked ${doc.restocked}`,
    );
  }
  const held = Object.values(doc.reservations)
    .filter((e) => e.state === 'reserved')
    .reduce((sum, e) => sum + e.quantity, 0);
  if (held !== doc.reserved) {
    throw new Error(`stock of ${doc.sku}: reserved ${doc.reserved} but entries hold ${held}`);
  }
}
