// The shop's invariants over what the experiment itself ordered. The workload orders a SKU of
// its own (restocked at the start with every unit it could need), so the stock's books can be
// balanced exactly whatever else the mesh does: units sold equal the units of fulfilled orders,
// nothing appears or vanishes, every acknowledged order is still known, and none is left half
// done once the shop has had time to finish.
import { credentials } from '@grpc/grpc-js';
import { inventoryV1, ordersV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { chaosCallerMetadata, RECONNECT_QUICKLY } from '../mesh/caller.js';
import type { MeshInstance } from '../mesh/mesh-access.js';
import type { InvariantCheck, ShopReport } from '../report/report-types.js';
import type { PlacedOrder } from './mesh-workload.js';

const CALL_DEADLINE_MS = 3_000;
const TERMINAL = new Set([
  ordersV1.OrderState.ORDER_STATE_FULFILLED,
  ordersV1.OrderState.ORDER_STATE_REJECTED,
  ordersV1.OrderState.ORDER_STATE_FAILED,
]);

type OrderState = ordersV1.OrderState | 'lost' | 'unreadable';

interface OrderSeen {
  readonly id: string;
  readonly quantity: number;
  readonly state: OrderState;
}

/** FULFILLED, REJECTED or FAILED (or gone): nothing more will happen to it. */
function ended(state: OrderState): boolean {
  return state === 'lost' || (state !== 'unreadable' && TERMINAL.has(state));
}

type StockCounts = Pick<inventoryV1.Stock, 'available' | 'reserved' | 'committed'>;

export class ShopLedger {
  readonly #inventory: inventoryV1.InventoryServiceClient;
  readonly #orders: ordersV1.OrderServiceClient;
  #before: StockCounts | undefined;
  #restocked = 0;

  constructor(
    instances: readonly MeshInstance[],
    private readonly sku: string,
  ) {
    const find = (service: string): MeshInstance => {
      const found = instances.find((instance) => instance.service === service);
      if (!found)
        throw new Error(`the orders workload needs ${service}, which the mesh does not run`);
      return found;
    };
    this.#inventory = new inventoryV1.InventoryServiceClient(
      find('inventory').address,
      credentials.createInsecure(),
      RECONNECT_QUICKLY,
    );
    this.#orders = new ordersV1.OrderServiceClient(
      find('orders').address,
      credentials.createInsecure(),
      RECONNECT_QUICKLY,
    );
  }

  /** Restocks `units` under a restock id of this run, and notes the stock before. */
  async open(units: number, runId: string): Promise<void> {
    this.#before = await this.#stock();
    await callUnary(
      this.#inventory,
      'restock',
      { sku: this.sku, quantity: units, restockId: `chaos-${runId}` },
      { deadlineMs: CALL_DEADLINE_MS, metadata: chaosCallerMetadata() },
    );
    this.#restocked = units;
  }

  /**
   * Waits up to `settleMs` for every order of the run to end, then balances the books. The run's
   * orders are all those of its customer that the shop knows, found by listing: a PlaceOrder the
   * client saw fail (a deadline) may still have created an order that goes on and sells stock.
   */
  async close(
    placed: readonly PlacedOrder[],
    customer: string,
    since: number,
    settleMs: number,
  ): Promise<ShopReport> {
    const before = this.#before;
    if (before === undefined) throw new Error('ShopLedger.close before open');
    const deadline = Date.now() + settleMs;
    const states = new Map<string, OrderSeen>();
    let listed = false;
    for (;;) {
      const listing = await this.#ordersOf(customer, since);
      for (const order of listing.orders) states.set(order.id, order);
      listed = listing.complete;
      // An acknowledged order the listing misses is looked up by id: it is lost only if that fails.
      await Promise.all(
        placed
          .filter((order) => !states.has(order.id) || states.get(order.id)!.state === 'lost')
          .map(async (order) =>
            states.set(order.id, {
              id: order.id,
              quantity: order.quantity,
              state: await this.#state(order.id),
            }),
          ),
      );
      const pending = [...states.values()].filter((order) => !ended(order.state));
      // An incomplete listing may have missed an order the client never saw acknowledged, which
      // still sold stock: the books are balanced only over a complete one.
      if ((pending.length === 0 && listed) || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const after = await this.#stock();
    const byState: Record<string, number> = {};
    const lost: string[] = [];
    const stuck: string[] = [];
    let fulfilledUnits = 0;
    let heldUnits = 0;
    for (const order of states.values()) {
      const { state } = order;
      const name =
        typeof state === 'string'
          ? state
          : ordersV1.orderStateToJSON(state).replace('ORDER_STATE_', '');
      byState[name] = (byState[name] ?? 0) + 1;
      if (state === 'lost') lost.push(order.id);
      else if (!ended(state)) stuck.push(order.id);
      if (state === ordersV1.OrderState.ORDER_STATE_FULFILLED) fulfilledUnits += order.quantity;
      if (state === ordersV1.OrderState.ORDER_STATE_RESERVED) heldUnits += order.quantity;
    }
    const total = (s: StockCounts): number => s.available + s.reserved + s.committed;
    const sold = after.committed - before.committed;
    const invariants: InvariantCheck[] = [
      {
        name: 'no order lost',
        holds: lost.length === 0,
        detail:
          lost.length === 0
            ? `all ${placed.length} acknowledged orders are known`
            : `${lost.length} acknowledged orders are gone: ${lost.slice(0, 5).join(', ')}`,
      },
      {
        name: 'no order stuck',
        holds: stuck.length === 0,
        detail:
          stuck.length === 0
            ? `every order ended within ${Math.round(settleMs / 1000)} s`
            : `${stuck.length} orders had not ended after ${Math.round(settleMs / 1000)} s`,
      },
      {
        name: 'stock conserved',
        holds: total(after) === total(before) + this.#restocked,
        detail: `${this.sku}: ${total(before)} + ${this.#restocked} restocked = ${total(before) + this.#restocked}; now ${total(after)} (available ${after.available}, reserved ${after.reserved}, committed ${after.committed})`,
      },
      {
        name: 'nothing oversold',
        holds: sold === fulfilledUnits && after.reserved - before.reserved === heldUnits,
        detail:
          `${sold} units sold for ${fulfilledUnits} units of fulfilled orders; ${after.reserved - before.reserved} units reserved for ${heldUnits} units of reserved orders` +
          (listed ? '' : ' (the last listing of the orders did not complete: some may be missing)'),
      },
    ];
    return {
      ordersPlaced: states.size,
      ordersAcknowledged: placed.length,
      byState,
      lost,
      stuck,
      invariants,
    };
  }

  closeClients(): void {
    this.#inventory.close();
    this.#orders.close();
  }

  async #stock(): Promise<StockCounts> {
    try {
      const { stock } = await callUnary(
        this.#inventory,
        'getStock',
        { sku: this.sku },
        { deadlineMs: CALL_DEADLINE_MS, metadata: chaosCallerMetadata() },
      );
      return stock ?? { available: 0, reserved: 0, committed: 0 };
    } catch (error) {
      // A SKU never restocked is unknown to inventory: nothing of it exists yet.
      if ((error as { code?: number }).code === 5)
        return { available: 0, reserved: 0, committed: 0 };
      throw error;
    }
  }

  /**
   * The customer's orders created since `since` (epoch ms), newest first, page by page; not
   * complete when a page could not be read.
   */
  async #ordersOf(
    customer: string,
    since: number,
  ): Promise<{ orders: OrderSeen[]; complete: boolean }> {
    const found: OrderSeen[] = [];
    let pageToken = '';
    for (;;) {
      let page: ordersV1.ListOrdersResponse;
      try {
        page = await callUnary(
          this.#orders,
          'listOrders',
          { pageSize: 200, pageToken, state: ordersV1.OrderState.ORDER_STATE_UNSPECIFIED },
          { deadlineMs: CALL_DEADLINE_MS, metadata: chaosCallerMetadata() },
        );
      } catch {
        // Unreadable now: the next round (or the acknowledged orders' own lookups) will tell.
        return { orders: found, complete: false };
      }
      for (const order of page.orders) {
        if (order.customer === customer)
          found.push({ id: order.id, quantity: order.quantity, state: order.state });
      }
      const oldest = page.orders.at(-1);
      if (!page.nextPageToken || oldest === undefined || oldest.createdAtUnixMs < since)
        return { orders: found, complete: true };
      pageToken = page.nextPageToken;
    }
  }

  async #state(id: string): Promise<OrderState> {
    try {
      const { order } = await callUnary(
        this.#orders,
        'getOrder',
        { id },
        { deadlineMs: CALL_DEADLINE_MS, metadata: chaosCallerMetadata() },
      );
      return order?.state ?? 'lost';
    } catch (error) {
      return (error as { code?: number }).code === 5 ? 'lost' : 'unreadable';
    }
  }
}
