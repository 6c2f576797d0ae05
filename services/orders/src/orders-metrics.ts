// Prometheus metrics of the orders service, as seen by this replica.
import { Counter, type Registry } from 'prom-client';
import { ordersV1 } from '@catmesh/proto';

export interface OrdersMetrics {
  /** This replica moved an order into `state` (or created it, PENDING). */
  transition(state: ordersV1.OrderState): void;
  /** Recovery took over an order left behind, to do `action`. */
  recovered(action: 'publish' | 'reserve' | 'fulfil'): void;
  /** A fulfilled order fed the cat, or skipped it (no cat-feeder configured). */
  feeding(outcome: 'fed' | 'skipped'): void;
}

const STATES = ['pending', 'reserved', 'fulfilled', 'rejected', 'failed'] as const;

export function createOrdersMetrics(registry: Registry): OrdersMetrics {
  const transitions = new Counter({
    name: 'orders_transitions_total',
    help: 'Orders this replica moved into a state (pending: created).',
    labelNames: ['state'],
    registers: [registry],
  });
  for (const state of STATES) transitions.inc({ state }, 0);
  const recovered = new Counter({
    name: 'orders_recovery_actions_total',
    help: 'Orders left behind (a crash, an outage) that recovery took over, by what it did.',
    labelNames: ['action'],
    registers: [registry],
  });
  const feedings = new Counter({
    name: 'orders_cat_feedings_total',
    help: 'Fulfilled orders by whether they fed the cat (skipped: no cat-feeder configured).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return {
    transition: (state) =>
      transitions.inc({
        state: ordersV1.orderStateToJSON(state).replace('ORDER_STATE_', '').toLowerCase(),
      }),
    recovered: (action) => recovered.inc({ action }),
    feeding: (outcome) => feedings.inc({ outcome }),
  };
}
