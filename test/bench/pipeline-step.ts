// One step of the order-pipeline benchmark: PlaceOrder at one offered rate, open loop, against
// a live mesh, then the shop's books for that step: did fulfilment keep up, was every order the
// customer was told is reserved committed, is the stock conserved. Each step orders SKUs of its
// own, restocked just before, so that no step inherits another's stock document or its backlog.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { LocalMesh } from './local-mesh-process.js';
import { machineCpuPercent, parseProcStat } from './machine-info.js';
import { runOpenLoop } from './open-loop.js';
import type { Shop } from './shop-client.js';

export interface StepOptions {
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Deadline of each PlaceOrder. */
  readonly deadlineMs: number;
  /** SKUs the step's orders are spread over, round-robin. */
  readonly skus: number;
  /**
   * A step passes when fulfilment kept pace: the units committed during the window are at
   * least this % of the orders answered RESERVED in it (a backlog that grows is not sustained)...
   */
  readonly minFulfilledPercent: number;
  /** After the load, the step's backlog is waited for this long at most before the next step. */
  readonly cooldownMs: number;
  /** ...with its p99 below this... */
  readonly maxP99Ms: number;
  /** ...and at least this share of its orders answered RESERVED, in %. */
  readonly minOkPercent: number;
}

export interface StepResult {
  readonly rate: number;
  /** Orders scheduled in the measured window, and those answered RESERVED. */
  readonly offered: number;
  readonly ok: number;
  readonly okPerSecond: number;
  /** Units of the step's SKUs committed (orders fulfilled) per second of the window. */
  readonly fulfilledPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The window's orders that were not `ok`, by gRPC status or order state. */
  readonly errors: Readonly<Record<string, number>>;
  /** % of one core used in the window by each instance of the mesh, and by the driver. */
  readonly cpuPercent: Readonly<Record<string, number>>;
  readonly meshCpuPercent: number;
  readonly driverCpuPercent: number;
  /** Every process of the machine, in % of one core: what beyond mesh + driver is someone else's. */
  readonly machineCpuPercent: number;
  /** The 1-minute load average at the end of the window. */
  readonly loadAverage: number;
  /** Mesh CPU in the window per order answered RESERVED in it. */
  readonly meshCpuMsPerOrder: number;
  /** From the end of the load until nothing of the step's stock was reserved; undefined: not within the cooldown. */
  readonly drainMs: number | undefined;
  /** Orders of the whole step, warm-up included, answered RESERVED. */
  readonly placedOk: number;
  /** Of those, the ones whose units were released rather than committed (should be 0). */
  readonly uncommitted: number;
  /** available + reserved + committed equals what was restocked. */
  readonly stockConserved: boolean;
  readonly passed: boolean;
  /** Why it did not pass; '' when it did. */
  readonly verdict: string;
}

/** More units than the step can order, so that no order is refused for want of stock. */
const STOCK_MARGIN = 1.2;

export async function measureStep(
  mesh: LocalMesh,
  shop: Shop,
  stepId: string,
  rate: number,
  criteria: StepOptions,
): Promise<StepResult> {
  const skus = Array.from({ length: criteria.skus }, (_, i) => `${stepId}-${i}`);
  const calls = (rate * (criteria.warmupMs + criteria.durationMs)) / 1000;
  const units = Math.ceil((calls * STOCK_MARGIN) / skus.length) + 1;
  await Promise.all(skus.map((sku) => shop.restock(sku, units)));

  // Every order of the step, warm-up included: their units are all in the step's stock.
  let okAll = 0;
  const load = await runOpenLoop({
    rate,
    warmupMs: criteria.warmupMs,
    durationMs: criteria.durationMs,
    call: async (n) => {
      const outcome = await shop.placeOrder(
        `${stepId}-${n}`,
        skus[n % skus.length]!,
        criteria.deadlineMs,
      );
      if (outcome === 'ok') okAll++;
      return outcome;
    },
    // The counters first, read at once; the stock is a call.
    snapshot: async () => ({
      mesh: mesh.cpuSeconds(),
      driver: process.cpuUsage(),
      machine: parseProcStat(readFileSync('/proc/stat', 'utf8')),
      loadAverage: loadavg()[0]!,
      committed: (await shop.stock(skus)).committed,
    }),
  });
  const { mesh: meshStart, driver: driverStart } = load.atStart;
  const { mesh: meshEnd, driver: driverEnd } = load.atEnd;
  const percentOf = (cpuSeconds: number) => (cpuSeconds * 1000 * 100) / load.windowMs;
  const cpuPercent = Object.fromEntries(
    [...meshEnd].map(([name, seconds]) => [name, percentOf(seconds - meshStart.get(name)!)]),
  );
  const meshCpuPercent = Object.values(cpuPercent).reduce((a, b) => a + b, 0);
  const driverCpuSeconds =
    (driverEnd.user - driverStart.user + driverEnd.system - driverStart.system) / 1e6;
  const okInWindow = load.outcomes['ok'] ?? 0;
  const okPerSecond = (okInWindow * 1000) / criteria.durationMs;
  const fulfilledPerSecond =
    ((load.atEnd.committed - load.atStart.committed) * 1000) / load.windowMs;
  const fulfilledPercent = okPerSecond === 0 ? 0 : (fulfilledPerSecond / okPerSecond) * 100;

  const { stock, ms: drainMs } = await shop.drained(skus, criteria.cooldownMs);
  // Units neither committed nor still reserved were released: their orders FAILED.
  const uncommitted = Math.max(0, okAll - stock.committed - stock.reserved);
  const conserved = stock.available + stock.reserved + stock.committed === units * skus.length;
  const errors = Object.fromEntries(Object.entries(load.outcomes).filter(([k]) => k !== 'ok'));
  const okPercent = load.offered === 0 ? 0 : (okInWindow / load.offered) * 100;
  const reasons = [
    ...(okPercent < criteria.minOkPercent ? [`ok ${okPercent.toFixed(1)}%`] : []),
    ...(load.p99Ms >= criteria.maxP99Ms ? [`p99 ${Math.round(load.p99Ms)} ms`] : []),
    ...(fulfilledPercent < criteria.minFulfilledPercent
      ? [`fulfilment behind: ${fulfilledPercent.toFixed(0)}% of ok/s`]
      : []),
    ...(drainMs === undefined ? [`${stock.reserved} still reserved`] : []),
    ...(uncommitted > 0 ? [`${uncommitted} reserved orders released`] : []),
    ...(conserved ? [] : ['stock not conserved']),
  ];
  return {
    rate,
    offered: load.offered,
    ok: okInWindow,
    okPerSecond,
    fulfilledPerSecond,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    errors,
    cpuPercent,
    meshCpuPercent,
    driverCpuPercent: percentOf(driverCpuSeconds),
    machineCpuPercent: machineCpuPercent(load.atStart.machine, load.atEnd.machine),
    loadAverage: load.atEnd.loadAverage,
    // % of one core is ms of CPU per second: divided by the orders per second.
    meshCpuMsPerOrder: okInWindow === 0 ? 0 : (meshCpuPercent * 10) / okPerSecond,
    drainMs,
    placedOk: okAll,
    uncommitted,
    stockConserved: conserved,
    passed: reasons.length === 0,
    verdict: reasons.join(', '),
  };
}
