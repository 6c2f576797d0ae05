// The shop as the benchmark's customer and auditor sees it: PlaceOrder on orders, stock on
// inventory, and the orders that ended somewhere they should not. Plain generated clients, no
// retries and no interceptors: the driver shares the cores with the mesh, and an error is to be
// counted, not hidden.
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { inventoryV1, ordersV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';

const { OrderState } = ordersV1;
/** Deadline of the shop's own calls (restock, stock, audit), not of the measured orders. */
const CALL_DEADLINE_MS = 10_000;
const DRAIN_POLL_MS = 200;
const AUDIT_PAGE = 500;

export interface StockTotals {
  readonly available: number;
  readonly reserved: number;
  readonly committed: number;
}

/** Orders not FULFILLED at the end of a search, by state. */
export interface OrderAudit {
  /** Waiting for stock: calls that timed out leave their order here until recovery. */
  readonly pending: number;
  /** Stock set aside but not yet committed and fed: nothing should be left here. */
  readonly reserved: number;
  readonly rejected: number;
  readonly failed: number;
}

export class Shop {
  private readonly orders: ordersV1.OrderServiceClient;
  private readonly inventory: inventoryV1.InventoryServiceClient;

  constructor(ordersAddress: string, inventoryAddress: string) {
    this.orders = new ordersV1.OrderServiceClient(ordersAddress, credentials.createInsecure());
    this.inventory = new inventoryV1.InventoryServiceClient(
      inventoryAddress,
      credentials.createInsecure(),
    );
  }

  /**
   * One order of one unit: `ok` when PlaceOrder answers with the order RESERVED (what the
   * customer waits for; fulfilment follows on its own), else the order's state or the gRPC status.
   */
  async placeOrder(idempotencyKey: string, sku: string, deadlineMs: number): Promise<string> {
    try {
      const { order } = await callUnary(
        this.orders,
        'placeOrder',
        { idempotencyKey, customer: 'bench', sku, quantity: 1 },
        { deadlineMs },
      );
      return order?.state === OrderState.ORDER_STATE_RESERVED
        ? 'ok'
        : OrderState[order?.state ?? OrderState.ORDER_STATE_UNSPECIFIED];
    } catch (error) {
      const code = (error as Partial<ServiceError>).code;
      return code === undefined ? 'error' : status[code];
    }
  }

  async restock(sku: string, units: number): Promise<void> {
    await callUnary(
      this.inventory,
      'restock',
      { sku, quantity: units, restockId: `bench-${sku}` },
      { deadlineMs: CALL_DEADLINE_MS },
    );
  }

  /** The stock of `skus`, summed. */
  async stock(skus: readonly string[]): Promise<StockTotals> {
    const stocks = await Promise.all(
      skus.map(async (sku) => {
        const { stock } = await callUnary(
          this.inventory,
          'getStock',
          { sku },
          { deadlineMs: CALL_DEADLINE_MS },
        );
        return stock!;
      }),
    );
    const sum = (field: keyof StockTotals) => stocks.reduce((n, s) => n + Number(s[field]), 0);
    return { available: sum('available'), reserved: sum('reserved'), committed: sum('committed') };
  }

  /**
   * Waits until nothing of `skus` is reserved any more (every reserved order committed and fed,
   * or released); resolves with the stock then, and how long it took, or undefined past
   * `timeoutMs`: fulfilment did not keep up.
   */
  async drained(
    skus: readonly string[],
    timeoutMs: number,
  ): Promise<{ stock: StockTotals; ms: number | undefined }> {
    const began = performance.now();
    for (;;) {
      const stock = await this.stock(skus);
      const ms = performance.now() - began;
      if (stock.reserved === 0) return { stock, ms };
      if (ms > timeoutMs) return { stock, ms: undefined };
      await sleep(DRAIN_POLL_MS);
    }
  }

  async audit(): Promise<OrderAudit> {
    const [pending, reserved, rejected, failed] = await Promise.all(
      [
        OrderState.ORDER_STATE_PENDING,
        OrderState.ORDER_STATE_RESERVED,
        OrderState.ORDER_STATE_REJECTED,
        OrderState.ORDER_STATE_FAILED,
      ].map((state) => this.countOrders(state)),
    );
    return { pending: pending!, reserved: reserved!, rejected: rejected!, failed: failed! };
  }

  close(): void {
    this.orders.close();
    this.inventory.close();
  }

  private async countOrders(state: ordersV1.OrderState): Promise<number> {
    let count = 0;
    let pageToken = '';
    do {
      const page = await callUnary(
        this.orders,
        'listOrders',
        { pageSize: AUDIT_PAGE, pageToken, state },
        { deadlineMs: CALL_DEADLINE_MS },
      );
      count += page.orders.length;
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    return count;
  }
}
