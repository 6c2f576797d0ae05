// The steady-state hypothesis judged window by window, as chaos engineering does: it must hold
// before the fault for the experiment to say anything; then either the system tolerated the fault
// (held), felt it and came back (recovered), or had not come back by the end (violated).
import type { Probe } from '../experiment/experiment-types.js';
import { probeHolds, sliValue } from './operation-stats.js';
import type {
  HypothesisVerdict,
  OperationReport,
  ProbeResult,
  WindowName,
} from './report-types.js';

const WINDOWS: readonly WindowName[] = ['before', 'during', 'after'];

export function judgeHypothesis(
  probes: readonly Probe[],
  operations: readonly OperationReport[],
): { verdict: HypothesisVerdict; probes: ProbeResult[] } {
  const results = probes.map((probe): ProbeResult => {
    const operation = operations.find((op) => op.name === probe.sli.split('.')[0]);
    const windows = Object.fromEntries(
      WINDOWS.map((window) => {
        const value = operation ? sliValue(operation.windows[window], probe) : null;
        return [window, { value, holds: probeHolds(value, probe) }];
      }),
    ) as ProbeResult['windows'];
    return { probe, windows };
  });
  const all = (window: WindowName): boolean => results.every((r) => r.windows[window].holds);
  // The "after" window includes the recovery itself; what counts is that the operation got back
  // to the steady state before the run ended, which timeToRecoveryMs says.
  const recovered = operations
    .filter((op) => results.some((r) => r.probe.sli.startsWith(`${op.name}.`)))
    .every((op) => op.timeToRecoveryMs !== null);
  const verdict: HypothesisVerdict = !all('before')
    ? 'inconclusive'
    : all('during') && all('after')
      ? 'held'
      : recovered
        ? 'recovered'
        : 'violated';
  return { verdict, probes: results };
}

/** `orders.p99Ms <= 500` */
export function describeProbe(probe: Probe): string {
  const bounds: string[] = [];
  if (probe.atLeast !== undefined) bounds.push(`>= ${probe.atLeast}`);
  if (probe.atMost !== undefined) bounds.push(`<= ${probe.atMost}`);
  return `${probe.sli} ${bounds.join(' and ')}`;
}
