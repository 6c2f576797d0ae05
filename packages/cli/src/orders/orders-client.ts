import { status } from '@grpc/grpc-js';
import { ordersV1 } from '@catmesh/proto';
import {
  callUnary,
  createClient,
  createMetricsRegistry,
  type UnaryMethodName,
  type UnaryRequest,
  type UnaryResponse,
} from '@catmesh/runtime';
import {
  InterruptedError,
  isServiceError,
  NoEndpointAvailableError,
  oneLine,
  UsageError,
} from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import type { OptionSpecs, OptionValues } from '../command-line.js';
import { endpointType, type GlobalOptions } from '../global-options.js';

export const DEFAULT_ORDERS_ENDPOINT = '127.0.0.1:7301';
const ORDERS_ENDPOINT_VARIABLE = 'CATMESH_ORDERS_ENDPOINT';

/** `--orders-endpoint`, which every `catmesh order` command takes. */
export const ORDERS_ENDPOINT_OPTION = {
  'orders-endpoint': {
    type: 'string',
    valueName: 'HOST:PORT',
    help: `the orders service (default: $${ORDERS_ENDPOINT_VARIABLE}, else ${DEFAULT_ORDERS_ENDPOINT})`,
  },
} as const satisfies OptionSpecs;

type Client = ordersV1.OrderServiceClient;

/**
 * The orders service at the endpoint the command line names. Every method is safe to resend
 * (PlaceOrder carries its idempotency key), so the kit retries UNAVAILABLE within --timeout.
 */
export class OrdersClient {
  readonly #client: Client;

  constructor(
    readonly address: string,
    private readonly globals: GlobalOptions,
    private readonly io: CliIo,
  ) {
    this.#client = createClient(ordersV1.OrderServiceClient, address, {
      registry: createMetricsRegistry(),
      defaultDeadlineMs: globals.timeoutMs,
      idempotent: ['placeOrder', 'getOrder', 'listOrders'],
    });
  }

  /** Rejects with the server's answer, or NoEndpointAvailableError when it could not be reached. */
  async call<K extends UnaryMethodName<Client>>(
    method: K,
    request: UnaryRequest<Client, K>,
  ): Promise<UnaryResponse<Client, K>> {
    try {
      return await callUnary(this.#client, method, request, { signal: this.io.signal });
    } catch (error) {
      if (this.io.signal?.aborted) throw new InterruptedError();
      if (
        isServiceError(error) &&
        (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED)
      ) {
        throw new NoEndpointAvailableError(
          error.code,
          `orders at ${this.address}: ${oneLine(error.details)}`,
        );
      }
      throw error;
    }
  }

  close(): void {
    this.#client.close();
  }
}

/** Runs `use` with a client of the orders endpoint the options name, closed after. */
export async function withOrdersClient<T>(
  options: OptionValues,
  globals: GlobalOptions,
  io: CliIo,
  use: (client: OrdersClient) => Promise<T>,
): Promise<T> {
  const fromFlag = options.string('orders-endpoint');
  const fromEnv = io.env[ORDERS_ENDPOINT_VARIABLE]?.trim() || undefined;
  const [source, raw] =
    fromFlag !== undefined
      ? ['--orders-endpoint', fromFlag]
      : fromEnv !== undefined
        ? [ORDERS_ENDPOINT_VARIABLE, fromEnv]
        : ['the default', DEFAULT_ORDERS_ENDPOINT];
  const address = endpointType.parse(raw.trim());
  if (address === undefined) throw new UsageError(`${source}: expected host:port, got '${raw}'`);
  const client = new OrdersClient(address, globals, io);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** `RESERVED` for ORDER_STATE_RESERVED. */
export function orderStateName(state: ordersV1.OrderState): string {
  return ordersV1.orderStateToJSON(state).replace(/^ORDER_STATE_/, '');
}

/** The order as the .proto names its fields, its state by name. */
export function orderJson(order: ordersV1.Order): Record<string, unknown> {
  return {
    id: order.id,
    idempotency_key: order.idempotencyKey,
    customer: order.customer,
    sku: order.sku,
    quantity: order.quantity,
    state: orderStateName(order.state),
    failure_reason: order.failureReason,
    created_at_unix_ms: order.createdAtUnixMs,
    updated_at_unix_ms: order.updatedAtUnixMs,
  };
}
