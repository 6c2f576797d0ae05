import { ordersV1 } from '@catmesh/proto';
import { parsePositiveInteger } from '../../argument-values.js';
import { UsageError } from '../../cli-errors.js';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import {
  ORDERS_ENDPOINT_OPTION,
  orderJson,
  orderStateName,
  withOrdersClient,
} from '../../orders/orders-client.js';
import { formatTable } from '../../text-table.js';

const DEFAULT_LIMIT = 20;
/** The server's own maximum page size (services/orders: MAX_PAGE_SIZE). */
const MAX_PAGE_SIZE = 500;
const STATES = ['pending', 'reserved', 'fulfilled', 'rejected', 'failed'] as const;

export const listCommand = defineCommand({
  name: 'list',
  summary: 'the newest orders',
  usage: '[--state STATE] [--limit N]',
  description: `Prints the newest orders first, one row each: id, state, SKU, quantity, customer,
when it was placed, and why it failed or was rejected. With --json: one order per line,
with the .proto's field names.`,
  options: {
    state: { type: 'string', valueName: 'STATE', help: `only these: ${STATES.join(', ')}` },
    limit: { type: 'string', valueName: 'N', help: `at most this many (default ${DEFAULT_LIMIT})` },
    ...ORDERS_ENDPOINT_OPTION,
  },
  positionals: [],
  async run({ io, globals, options }) {
    const limitText = options.string('limit');
    const limit =
      limitText === undefined ? DEFAULT_LIMIT : parsePositiveInteger(limitText, '--limit');
    const stateText = options.string('state');
    let state = ordersV1.OrderState.ORDER_STATE_UNSPECIFIED;
    if (stateText !== undefined) {
      const name = stateText.trim().toLowerCase();
      if (!(STATES as readonly string[]).includes(name)) {
        throw new UsageError(`--state: expected one of ${STATES.join(', ')}, got '${stateText}'`);
      }
      state = ordersV1.orderStateFromJSON(`ORDER_STATE_${name.toUpperCase()}`);
    }
    const orders = await withOrdersClient(options, globals, io, async (client) => {
      const found: ordersV1.Order[] = [];
      let pageToken = '';
      do {
        const pageSize = Math.min(MAX_PAGE_SIZE, limit - found.length);
        const page = await client.call('listOrders', { pageSize, pageToken, state });
        found.push(...page.orders);
        pageToken = page.nextPageToken;
      } while (pageToken !== '' && found.length < limit);
      return found.slice(0, limit);
    });
    if (globals.json) {
      for (const order of orders) writeJsonLine(io.stdout, orderJson(order));
      return ExitCode.ok;
    }
    const rows = orders.map((order) => [
      order.id,
      orderStateName(order.state),
      order.sku,
      String(order.quantity),
      order.customer,
      new Date(order.createdAtUnixMs).toISOString(),
      order.failureReason,
    ]);
    io.stdout.write(
      formatTable([['ID', 'STATE', 'SKU', 'QTY', 'CUSTOMER', 'PLACED', 'REASON'], ...rows]),
    );
    return ExitCode.ok;
  },
});
