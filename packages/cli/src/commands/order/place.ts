import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ordersV1 } from '@catmesh/proto';
import { parsePositiveInteger } from '../../argument-values.js';
import { InterruptedError, NoEndpointAvailableError, UsageError } from '../../cli-errors.js';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import {
  ORDERS_ENDPOINT_OPTION,
  orderJson,
  orderStateName,
  withOrdersClient,
  type OrdersClient,
} from '../../orders/orders-client.js';

const { OrderState } = ordersV1;
const WAIT_POLL_MS = 200;

export const placeCommand = defineCommand({
  name: 'place',
  summary: 'order cat food',
  usage: '--sku SKU --quantity N [--customer NAME] [--idempotency-key KEY] [--wait]',
  description: `Places an order and prints its id and state: RESERVED (stock set aside; fulfilment,
which feeds the cat, follows), or REJECTED with the reason (exit code 1). With --wait it then
waits, within --timeout, until the order is FULFILLED (or FAILED, exit code 1).
The same --idempotency-key always answers the same order, so a command that timed out can
be repeated safely with it; without one, each run places a new order.
With --json: the order, with the .proto's field names.`,
  options: {
    sku: {
      type: 'string',
      valueName: 'SKU',
      help: 'what to buy (seeded by catmesh up: kibble, tuna)',
    },
    quantity: { type: 'string', valueName: 'N', help: 'how many units' },
    customer: { type: 'string', valueName: 'NAME', help: 'who orders (default: cli)' },
    'idempotency-key': {
      type: 'string',
      valueName: 'KEY',
      help: 'the order this is, however often it is sent (default: a new one)',
    },
    wait: { type: 'boolean', help: 'wait until the order is fulfilled (or failed)' },
    ...ORDERS_ENDPOINT_OPTION,
  },
  positionals: [],
  async run({ io, globals, options }) {
    const sku = options.string('sku');
    if (sku === undefined) throw new UsageError('missing --sku');
    const quantityText = options.string('quantity');
    if (quantityText === undefined) throw new UsageError('missing --quantity');
    const quantity = parsePositiveInteger(quantityText, '--quantity');
    const idempotencyKey = options.string('idempotency-key') ?? `catmesh-cli-${randomUUID()}`;
    const request = {
      idempotencyKey,
      customer: options.string('customer') ?? 'cli',
      sku,
      quantity,
    };
    return withOrdersClient(options, globals, io, async (orders) => {
      let order = await placeOrder(orders, request);
      if (options.flag('wait'))
        order = await untilSettled(orders, order, globals.timeoutMs, io.signal);
      if (globals.json) writeJsonLine(io.stdout, orderJson(order));
      else {
        const reason = order.failureReason ? `: ${order.failureReason}` : '';
        io.stdout.write(`${order.id} ${orderStateName(order.state)}${reason}\n`);
      }
      if (options.flag('wait') && !SETTLED.has(order.state)) {
        io.stderr.write(`catmesh: order ${order.id} is not settled after --timeout\n`);
        return ExitCode.negative;
      }
      const refused =
        order.state === OrderState.ORDER_STATE_REJECTED ||
        order.state === OrderState.ORDER_STATE_FAILED;
      return refused ? ExitCode.negative : ExitCode.ok;
    });
  },
});

async function placeOrder(
  orders: OrdersClient,
  request: ordersV1.PlaceOrderRequest,
): Promise<ordersV1.Order> {
  let response;
  try {
    response = await orders.call('placeOrder', request);
  } catch (error) {
    if (!(error instanceof NoEndpointAvailableError)) throw error;
    throw new NoEndpointAvailableError(
      error.code,
      `${error.message}; the order may or may not exist: run again with --idempotency-key ${request.idempotencyKey} to know`,
    );
  }
  if (!response.order) throw new Error('orders answered PlaceOrder without an order');
  return response.order;
}

const SETTLED = new Set([
  OrderState.ORDER_STATE_FULFILLED,
  OrderState.ORDER_STATE_REJECTED,
  OrderState.ORDER_STATE_FAILED,
]);

/** The order once settled, or as it last was when `timeoutMs` has run out. */
async function untilSettled(
  orders: OrdersClient,
  placed: ordersV1.Order,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<ordersV1.Order> {
  const deadline = Date.now() + timeoutMs;
  let order = placed;
  while (!SETTLED.has(order.state) && Date.now() < deadline) {
    try {
      await sleep(WAIT_POLL_MS, undefined, { signal });
    } catch {
      throw new InterruptedError();
    }
    order = (await orders.call('getOrder', { id: order.id })).order ?? order;
  }
  return order;
}
