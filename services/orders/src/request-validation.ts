// Every boundary validates (ARCHITECTURE.md rule 5): INVALID_ARGUMENT naming the field, before
// anything is stored.
import { ordersV1 } from '@catmesh/proto';
import { invalidArgument } from '@catmesh/runtime';
import { ORDER_ID_PATTERN } from './order-ids.js';

export const MAX_IDEMPOTENCY_KEY_BYTES = 256;
export const MAX_CUSTOMER_LENGTH = 256;
/** inventory's limits: an order it would refuse is refused here, before it exists. */
const SKU = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_QUANTITY = 1_000_000;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export function checkPlaceOrder(request: ordersV1.PlaceOrderRequest): void {
  const { idempotencyKey, customer, sku, quantity } = request;
  if (idempotencyKey.length === 0) throw invalidArgument('idempotency_key', 'must not be empty');
  if (Buffer.byteLength(idempotencyKey) > MAX_IDEMPOTENCY_KEY_BYTES) {
    throw invalidArgument('idempotency_key', `must be at most ${MAX_IDEMPOTENCY_KEY_BYTES} bytes`);
  }
  if (customer.length > MAX_CUSTOMER_LENGTH) {
    throw invalidArgument('customer', `must be at most ${MAX_CUSTOMER_LENGTH} characters`);
  }
  if (sku.length === 0) throw invalidArgument('sku', 'must not be empty');
  if (!SKU.test(sku)) throw invalidArgument('sku', "must be 1-64 letters, digits, '-' or '_'");
  if (quantity <= 0) throw invalidArgument('quantity', 'must be greater than 0');
  if (quantity > MAX_QUANTITY) throw invalidArgument('quantity', `must be at most ${MAX_QUANTITY}`);
}

export function checkOrderId(id: string, field = 'id'): void {
  if (id.length === 0) throw invalidArgument(field, 'must not be empty');
  if (!ORDER_ID_PATTERN.test(id)) throw invalidArgument(field, 'is not an order id');
}

/** The page size to use, and the state filter (undefined: every state). */
export function checkListOrders(request: ordersV1.ListOrdersRequest): {
  pageSize: number;
  state: ordersV1.OrderState | undefined;
} {
  if (request.pageToken !== '') checkOrderId(request.pageToken, 'page_token');
  const { state } = request;
  if (state === ordersV1.OrderState.UNRECOGNIZED || !(state in ordersV1.OrderState)) {
    throw invalidArgument('state', `unknown order state ${state}`);
  }
  return {
    pageSize: Math.min(
      request.pageSize === 0 ? DEFAULT_PAGE_SIZE : request.pageSize,
      MAX_PAGE_SIZE,
    ),
    state: state === ordersV1.OrderState.ORDER_STATE_UNSPECIFIED ? undefined : state,
  };
}
