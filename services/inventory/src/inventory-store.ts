// The inventory's state in one JetStream Key/Value bucket, changed only by compare-and-set, so
// that any number of stateless replicas can serve it at once.
//
// Keys:
//   sku.<sku>                one StockDocument: the counts and the operations applied to them
//   reservation.<order id>   the claim of an order id: which SKU and quantity, and once settled,
//                            the outcome
//   restock.<restock id>     the same for a restock id
//
// The count and the record of the operation that changed it live in ONE document, so a crash can
// never leave one written without the other. The claims make ids global (an order id belongs to
// one SKU; Release and Commit find it without one) and let the document shed settled entries:
//
//   1. An operation creates its claim (state `claimed`) before it touches the document.
//   2. It applies to the document at most once: an entry keyed by its id is the proof.
//   3. A settled entry (released, committed, out of stock, a restock) leaves the document only
//      after its claim holds that outcome (compaction, below).
//
// So whoever reads the document (at revision r) and finds no entry, and THEN reads the claim and
// finds it still `claimed`, knows the operation was not applied as of r: had it been applied and
// dropped before r, the claim would already have been settled before r. A write on revision r
// then applies it exactly once. Reading the claim before the document would not do: the entry
// could be applied, settled and dropped between the two reads.
//
// An operation whose caller has gone (its signal aborted: deadline passed, call cancelled) stops
// between two attempts of its compare-and-set. A lost attempt wrote nothing (the steps below only
// read), so what a stopped operation leaves behind is at most its claim, still `claimed`: what a
// replica that died before its write leaves, and handled the same way.
import { status } from '@grpc/grpc-js';
import { RpcStatusError } from '@catmesh/runtime';
import type { CasOptions, JsonBucket } from '@catmesh/runtime';
import {
  applyReserve,
  applyRestock,
  applySettle,
  checkInvariant,
  emptyStock,
  reservationOf,
  restockOf,
  settledEntries,
  withoutEntries,
  type EntryState,
  type StockDocument,
} from './stock-document.js';

type SettledState = Exclude<EntryState, 'reserved'>;

interface ReservationClaim {
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly state: 'claimed' | SettledState;
}

interface RestockClaim {
  readonly restockId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly state: 'claimed' | 'applied';
}

export interface StockView {
  readonly sku: string;
  readonly available: number;
  readonly reserved: number;
  readonly committed: number;
}

export interface ReservationView {
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly state: EntryState;
}

export interface InventoryObserver {
  /** A Reserve decided (not a replay of an earlier decision). */
  readonly reserveDecided?: (outcome: 'reserved' | 'out_of_stock') => void;
  /** A compare-and-set lost a race and is retried. */
  readonly conflict?: (operation: string) => void;
  /** Compaction failed; it is retried by the next write. */
  readonly compactionFailed?: (sku: string, err: unknown) => void;
}

/** How the caller of one store operation bounds it. */
export interface OperationOptions {
  /**
   * Aborted when nobody waits for the answer any more: the operation then stops before its next
   * read or write and rejects with the signal's reason. Without it, a contended operation keeps
   * retrying for its caller long after the caller has gone, and crowds out those still waiting.
   */
  readonly signal?: AbortSignal | undefined;
}

export interface InventoryStoreOptions {
  /** Settled entries a document may hold before they are archived to their claims. */
  readonly compactAt?: number;
  readonly observer?: InventoryObserver;
}

const stockKey = (sku: string) => `sku.${sku}`;
const reservationKey = (orderId: string) => `reservation.${orderId}`;
const restockKey = (restockId: string) => `restock.${restockId}`;

export const STOCK_KEY_FILTER = 'sku.>';

export class InventoryStore {
  readonly #bucket: JsonBucket;
  readonly #compactAt: number;
  readonly #observer: InventoryObserver;
  readonly #compactions = new Map<string, Promise<void>>();

  constructor(bucket: JsonBucket, options: InventoryStoreOptions = {}) {
    this.#bucket = bucket;
    this.#compactAt = options.compactAt ?? 64;
    this.#observer = options.observer ?? {};
  }

  async getStock(sku: string): Promise<StockView> {
    const doc = await this.#bucket.get<StockDocument>(stockKey(sku));
    if (!doc) throw unknownSku(sku);
    return viewOf(doc.value);
  }

  async restock(
    restockId: string,
    sku: string,
    quantity: number,
    options: OperationOptions = {},
  ): Promise<StockView> {
    const claimed = await this.#claim<RestockClaim>(
      restockKey(restockId),
      { restockId, sku, quantity, state: 'claimed' },
      (c) => c.sku === sku && c.quantity === quantity,
      'restock_id',
      options.signal,
    );
    if (claimed.state === 'applied') return this.getStock(sku);
    const doc = await this.#cas<StockView>('restock', sku, options.signal, async (current) => {
      if (current && restockOf(current, restockId) !== undefined) {
        return { result: viewOf(current) };
      }
      const claim = await this.#bucket.get<RestockClaim>(restockKey(restockId));
      if (claim?.value.state === 'applied') return { result: viewOf(current ?? emptyStock(sku)) };
      const next = applyRestock(current ?? emptyStock(sku), restockId, quantity);
      return { write: next, result: viewOf(next) };
    });
    this.#compactLater(sku);
    return doc;
  }

  /**
   * Sets `quantity` of `sku` aside for `orderId`, or records that it could not. Asking again
   * with the same order id answers the same, whatever happened in between.
   */
  async reserve(
    orderId: string,
    sku: string,
    quantity: number,
    options: OperationOptions = {},
  ): Promise<{ reservation: ReservationView; stock: StockView }> {
    const existing = await this.#bucket.get<ReservationClaim>(reservationKey(orderId));
    if (!existing && !(await this.#bucket.get<StockDocument>(stockKey(sku)))) {
      // Checked before claiming, so an unknown SKU leaves nothing behind.
      throw unknownSku(sku);
    }
    const claimed = await this.#claim<ReservationClaim>(
      reservationKey(orderId),
      { orderId, sku, quantity, state: 'claimed' },
      (c) => c.sku === sku && c.quantity === quantity,
      'order_id',
      options.signal,
    );
    if (claimed.state !== 'claimed') {
      return { reservation: claimView(claimed), stock: await this.getStock(sku) };
    }
    let decided: 'reserved' | 'out_of_stock' | undefined;
    const answer = await this.#cas('reserve', sku, options.signal, async (current) => {
      if (!current) throw unknownSku(sku);
      const entry = reservationOf(current, orderId);
      if (entry) {
        decided = undefined;
        return { result: { reservation: { orderId, sku, ...entry }, stock: viewOf(current) } };
      }
      const claim = await this.#bucket.get<ReservationClaim>(reservationKey(orderId));
      if (claim && claim.value.state !== 'claimed') {
        decided = undefined;
        return { result: { reservation: claimView(claim.value), stock: viewOf(current) } };
      }
      const next = applyReserve(current, orderId, quantity);
      const state = reservationOf(next, orderId)!.state;
      decided = state === 'reserved' ? 'reserved' : 'out_of_stock';
      return {
        write: next,
        result: { reservation: { orderId, sku, quantity, state }, stock: viewOf(next) },
      };
    });
    if (decided) {
      this.#observer.reserveDecided?.(decided);
      if (decided === 'out_of_stock') this.#compactLater(sku);
    }
    return answer;
  }

  release(orderId: string, options: OperationOptions = {}): Promise<ReservationView> {
    return this.#settle(orderId, 'released', options.signal);
  }

  commit(orderId: string, options: OperationOptions = {}): Promise<ReservationView> {
    return this.#settle(orderId, 'committed', options.signal);
  }

  /** Waits for the compactions under way (for a clean shutdown). */
  async idle(): Promise<void> {
    await Promise.all(this.#compactions.values());
  }

  async #settle(
    orderId: string,
    to: 'released' | 'committed',
    signal: AbortSignal | undefined,
  ): Promise<ReservationView> {
    const claim = await this.#bucket.get<ReservationClaim>(reservationKey(orderId));
    if (!claim) throw unknownOrder(orderId);
    if (claim.value.state !== 'claimed') return settledAnswer(claimView(claim.value), to);
    const { sku } = claim.value;
    const answer = await this.#cas(
      to === 'released' ? 'release' : 'commit',
      sku,
      signal,
      async (current) => {
        const entry = current && reservationOf(current, orderId);
        if (!entry) {
          const again = await this.#bucket.get<ReservationClaim>(reservationKey(orderId));
          if (again && again.value.state !== 'claimed') {
            return { result: settledAnswer(claimView(again.value), to) };
          }
          // Claimed, never applied: a Reserve that is still running or died before it wrote.
          throw unknownOrder(orderId);
        }
        const view: ReservationView = { orderId, sku, ...entry };
        if (entry.state !== 'reserved') return { result: settledAnswer(view, to) };
        return { write: applySettle(current, orderId, to), result: { ...view, state: to } };
      },
    );
    this.#compactLater(sku);
    return answer;
  }

  /**
   * Creates the claim of an id, or reads the one already there; one that names another SKU or
   * quantity is refused, naming `field`: an id means one operation.
   */
  async #claim<C extends { readonly sku: string; readonly quantity: number }>(
    key: string,
    fresh: C,
    same: (claim: C) => boolean,
    field: string,
    signal: AbortSignal | undefined,
  ): Promise<C> {
    for (;;) {
      signal?.throwIfAborted();
      const existing = await this.#bucket.get<C>(key);
      if (existing) {
        if (!same(existing.value)) {
          throw new RpcStatusError(
            status.FAILED_PRECONDITION,
            `${field}: already used for sku ${existing.value.sku}, quantity ${existing.value.quantity}`,
          );
        }
        return existing.value;
      }
      if ((await this.#bucket.create(key, fresh)) !== 'exists') return fresh;
    }
  }

  /**
   * A compare-and-set of the stock document of `sku`; `step` only reads (see the top of this
   * file: that is what makes stopping it on `signal` between attempts safe).
   */
  #cas<R>(
    operation: string,
    sku: string,
    signal: AbortSignal | undefined,
    step: (
      current: StockDocument | undefined,
    ) => Promise<{ result: R } | { write: StockDocument; result: R }>,
  ): Promise<R> {
    const options: CasOptions = {
      onConflict: () => this.#observer.conflict?.(operation),
      signal,
    };
    return this.#bucket.compareAndSet<StockDocument, R>(
      stockKey(sku),
      async (current) => {
        const decision = await step(current?.value);
        if ('write' in decision) checkInvariant(decision.write);
        return decision;
      },
      options,
    );
  }

  /** Starts a compaction of `sku` unless one is running here; it never delays an answer. */
  #compactLater(sku: string): void {
    if (this.#compactions.has(sku)) return;
    const run = this.#compact(sku)
      .catch((err: unknown) => this.#observer.compactionFailed?.(sku, err))
      .finally(() => this.#compactions.delete(sku));
    this.#compactions.set(sku, run);
  }

  /** Archives settled entries to their claims, then drops them from the document (rule 3). */
  async #compact(sku: string): Promise<void> {
    const doc = await this.#bucket.get<StockDocument>(stockKey(sku));
    if (!doc) return;
    const settled = settledEntries(doc.value);
    if (settled.reservations.length + settled.restocks.length < this.#compactAt) return;
    for (const [orderId, entry] of settled.reservations) {
      await this.#archive<ReservationClaim>(
        reservationKey(orderId),
        { orderId, sku, quantity: entry.quantity, state: entry.state as SettledState },
        (c) => c.state !== 'claimed',
      );
    }
    for (const restockId of settled.restocks) {
      await this.#archive<RestockClaim>(
        restockKey(restockId),
        {
          restockId,
          sku,
          quantity: restockOf(doc.value, restockId)!,
          state: 'applied',
        },
        (c) => c.state === 'applied',
      );
    }
    const orderIds = settled.reservations.map(([id]) => id);
    // A compaction has no caller to lose: it runs until it lands or runs out of attempts.
    await this.#cas('compact', sku, undefined, (current) => {
      // Settled entries never change, so dropping whichever are still there is always right.
      if (!current) return Promise.resolve({ result: undefined });
      return Promise.resolve({
        write: withoutEntries(current, orderIds, settled.restocks),
        result: undefined,
      });
    });
  }

  async #archive<C>(key: string, settled: C, isSettled: (claim: C) => boolean): Promise<void> {
    await this.#bucket.compareAndSet<C, undefined>(key, (current) =>
      current && isSettled(current.value)
        ? { result: undefined }
        : { write: settled, result: undefined },
    );
  }
}

function viewOf(doc: StockDocument): StockView {
  return {
    sku: doc.sku,
    available: doc.available,
    reserved: doc.reserved,
    committed: doc.committed,
  };
}

function claimView(claim: ReservationClaim): ReservationView {
  if (claim.state === 'claimed') throw new Error('claimView: the claim has not settled');
  return {
    orderId: claim.orderId,
    sku: claim.sku,
    quantity: claim.quantity,
    state: claim.state,
  };
}

/** Release of a released reservation (or Commit of a committed one) answers again; the rest cannot be. */
function settledAnswer(view: ReservationView, to: 'released' | 'committed'): ReservationView {
  if (view.state === to) return view;
  const what =
    view.state === 'out_of_stock' ? 'was refused (out of stock)' : `is already ${view.state}`;
  throw new RpcStatusError(
    status.FAILED_PRECONDITION,
    `order_id: the reservation of ${view.orderId} ${what}`,
  );
}

function unknownSku(sku: string): RpcStatusError {
  return new RpcStatusError(status.NOT_FOUND, `sku: no stock of ${sku}`);
}

function unknownOrder(orderId: string): RpcStatusError {
  return new RpcStatusError(status.NOT_FOUND, `order_id: no reservation for ${orderId}`);
}
