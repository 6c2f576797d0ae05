import { commandGroup } from '../command-group.js';
import { EXIT_CODES_HELP } from '../exit-codes.js';
import { listCommand } from './order/list.js';
import { placeCommand } from './order/place.js';

export const orderCommand = commandGroup({
  name: 'order',
  summary: 'place and list orders of cat food (the orders service)',
  description: `The orders service: an order reserves stock in inventory and, once fulfilled, feeds
the cat (cat.state becomes full). --orders-endpoint (default $CATMESH_ORDERS_ENDPOINT, else
127.0.0.1:7301, where \`catmesh up\` puts it) says where orders is; --timeout bounds each
command, retries of an unavailable server included.`,
  commands: [placeCommand, listCommand],
  epilog: EXIT_CODES_HELP,
});
