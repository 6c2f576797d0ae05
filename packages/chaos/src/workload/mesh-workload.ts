// The experiment's own traffic: customers placing orders, readers of `cat.state`, stock reads,
// and linearizability registers on cat-feeder. It runs from before the first fault to the end of
// the recovery window; every operation lands in an OperationLog, and the registers in a history
// the checker judges afterwards.
import { credentials, type Client } from '@grpc/grpc-js';
import {
  catFeederMemberApi,
  catFeederWriteNotApplied,
  runClients,
  Workload,
  type MemberApi,
} from '@catmesh/jepsen';
import { createHistoryRecorder, type History } from '@catmesh/linearizability';
import { catfeederV1, inventoryV1, ordersV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import type { Consistency } from '../experiment/experiment-types.js';
import { chaosCallerMetadata, RECONNECT_QUICKLY } from '../mesh/caller.js';
import type { MeshInstance } from '../mesh/mesh-access.js';
import type { WorkloadPlan } from '../plan/plan-experiment.js';
import { OperationLog, runOpenLoop, type OperationOutcome } from './operation-log.js';

const CONSISTENCIES: Record<Consistency, catfeederV1.Consistency> = {
  linearizable: catfeederV1.Consistency.CONSISTENCY_LINEARIZABLE,
  lease: catfeederV1.Consistency.CONSISTENCY_LEASE,
  stale: catfeederV1.Consistency.CONSISTENCY_STALE,
};

/** An order the workload placed and the shop acknowledged. */
export interface PlacedOrder {
  readonly id: string;
  readonly quantity: number;
}

export interface WorkloadRun {
  readonly logs: readonly OperationLog[];
  readonly placedOrders: readonly PlacedOrder[];
  /** The registers' history, once stopped (undefined without a register workload). */
  readonly history: () => History | undefined;
  readonly consistency?: Consistency;
  /** Stops starting operations and waits for those in flight. */
  stop(): Promise<void>;
}

export interface WorkloadContext {
  readonly plan: WorkloadPlan;
  readonly instances: readonly MeshInstance[];
  readonly runId: string;
  readonly seed: number;
  /** Milliseconds since the run started. */
  readonly clock: () => number;
}

export function startWorkload(context: WorkloadContext): WorkloadRun {
  const { plan, instances, runId, clock } = context;
  const stop = new AbortController();
  const running: Promise<void>[] = [];
  const logs: OperationLog[] = [];
  const closers: (() => void)[] = [];
  const placedOrders: PlacedOrder[] = [];
  const of = (service: string): MeshInstance[] => {
    const found = instances.filter((instance) => instance.service === service);
    if (found.length === 0)
      throw new Error(`the workload needs ${service}, which the mesh does not run`);
    return found;
  };
  const clientsOf = <C extends Client>(
    service: string,
    make: (address: string) => C,
  ): { client: C; name: string }[] =>
    of(service).map((instance) => {
      const client = make(instance.address);
      closers.push(() => client.close());
      return { client, name: instance.name };
    });
  const loop = (
    log: OperationLog,
    ratePerSecond: number,
    deadlineMs: number,
    operation: (n: number) => Promise<OperationOutcome>,
  ): void => {
    logs.push(log);
    running.push(
      runOpenLoop({
        ratePerSecond,
        // Enough for every call to take its whole deadline; more would only queue in the client.
        maxInFlight: Math.max(8, Math.ceil((ratePerSecond * deadlineMs) / 1000) * 2),
        log,
        clock,
        signal: stop.signal,
        operation,
      }),
    );
  };

  if (plan.orders) {
    const { sku, quantity, deadlineMs, ratePerSecond } = plan.orders;
    const orders = clientsOf(
      'orders',
      (address) =>
        new ordersV1.OrderServiceClient(address, credentials.createInsecure(), RECONNECT_QUICKLY),
    );
    loop(new OperationLog('orders', 'PlaceOrder'), ratePerSecond, deadlineMs, async (n) => {
      const { client, name } = orders[n % orders.length]!;
      const { order } = await callUnary(
        client,
        'placeOrder',
        { idempotencyKey: `${runId}-order-${n}`, customer: `chaos-${runId}`, sku, quantity },
        { deadlineMs, metadata: chaosCallerMetadata() },
      );
      if (!order) return { ok: false, error: 'PlaceOrder answered without an order', target: name };
      placedOrders.push({ id: order.id, quantity });
      const failed =
        order.state === ordersV1.OrderState.ORDER_STATE_FAILED ||
        order.state === ordersV1.OrderState.ORDER_STATE_REJECTED;
      return failed
        ? {
            ok: false,
            error: `order ${ordersV1.orderStateToJSON(order.state)}: ${order.failureReason}`,
            target: name,
          }
        : { ok: true, target: name };
    });
  }

  if (plan.catState) {
    const { consistency, deadlineMs, ratePerSecond } = plan.catState;
    const replicas = clientsOf(
      'cat-feeder',
      (address) =>
        new catfeederV1.CatFeederServiceClient(
          address,
          credentials.createInsecure(),
          RECONNECT_QUICKLY,
        ),
    );
    loop(new OperationLog('catState', 'cat.state reads'), ratePerSecond, deadlineMs, async (n) => {
      const { client, name } = replicas[n % replicas.length]!;
      await callUnary(
        client,
        'get',
        { key: 'cat.state', consistency: CONSISTENCIES[consistency] },
        { deadlineMs, metadata: chaosCallerMetadata() },
      );
      return { ok: true, target: name };
    });
  }

  if (plan.stock) {
    const { sku, deadlineMs, ratePerSecond } = plan.stock;
    const inventories = clientsOf(
      'inventory',
      (address) =>
        new inventoryV1.InventoryServiceClient(
          address,
          credentials.createInsecure(),
          RECONNECT_QUICKLY,
        ),
    );
    loop(new OperationLog('stock', 'GetStock'), ratePerSecond, deadlineMs, async (n) => {
      const { client, name } = inventories[n % inventories.length]!;
      await callUnary(client, 'getStock', { sku }, { deadlineMs, metadata: chaosCallerMetadata() });
      return { ok: true, target: name };
    });
  }

  let history: (() => History) | undefined;
  if (plan.register) {
    const register = plan.register;
    const log = new OperationLog('register', 'register reads and writes');
    logs.push(log);
    const replicas = of('cat-feeder');
    const apis = new Map<string, MemberApi>(
      replicas.map((replica) => [
        replica.name,
        timed(
          catFeederMemberApi(replica.address, () => undefined),
          log,
          replica.name,
          clock,
        ),
      ]),
    );
    closers.push(() => apis.forEach((api) => api.close()));
    const recorder = createHistoryRecorder({ now: clock, timeUnit: 'ms' });
    history = () => recorder.history();
    running.push(
      runClients({
        members: replicas.map((replica) => replica.name),
        member: (name) => apis.get(name)!,
        writeNotApplied: catFeederWriteNotApplied,
        recorder,
        // Short per-key histories keep the check fast (see Workload); keys unique to the run.
        workload: new Workload({
          seed: `${context.seed}/${runId}`,
          keys: 3,
          opsPerKey: 60,
          keyPrefix: `chaos/${runId}/`,
        }),
        clients: register.clients,
        // Until stopped: the run decides when the workload ends.
        durationMs: 24 * 3_600_000,
        rate: register.ratePerSecond,
        opTimeoutMs: register.deadlineMs,
        readConsistency: register.consistency,
        runId,
        signal: stop.signal,
      }),
    );
  }

  return {
    logs,
    placedOrders,
    history: () => history?.(),
    ...(plan.register && { consistency: plan.register.consistency }),
    async stop() {
      stop.abort();
      await Promise.all(running);
      for (const close of closers) close();
    },
  };
}

/** A member whose every call is also a sample of the register SLIs. */
function timed(api: MemberApi, log: OperationLog, target: string, clock: () => number): MemberApi {
  const time = async <T>(call: () => Promise<T>): Promise<T> => {
    const at = clock();
    try {
      const value = await call();
      log.record({ at, latencyMs: clock() - at, ok: true, target });
      return value;
    } catch (error) {
      log.record({
        at,
        latencyMs: clock() - at,
        ok: false,
        error: String((error as Error).message ?? error),
        target,
      });
      throw error;
    }
  };
  return {
    get: (key, consistency, timeoutMs) => time(() => api.get(key, consistency, timeoutMs)),
    put: (key, value, id, timeoutMs) => time(() => api.put(key, value, id, timeoutMs)),
    cas: (key, expected, value, id, timeoutMs) =>
      time(() => api.cas(key, expected, value, id, timeoutMs)),
    leader: (timeoutMs) => api.leader(timeoutMs),
    localState: (timeoutMs) => api.localState(timeoutMs),
    close: () => api.close(),
  };
}
