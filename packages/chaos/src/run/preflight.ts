// Everything an experiment needs, checked before anything is touched: the services its workload
// calls, a way to inject each step's faults, and targets for every selector as the mesh stands
// now. `catmesh chaos run --dry-run` prints this and stops; a problem here exits 2 with nothing
// applied.
import { FaultAdmins } from '../drivers/fault-admin.js';
import { MECHANISMS } from '../experiment/experiment-types.js';
import { MECHANISM_KINDS } from '../experiment/parse-experiment.js';
import type { MeshAccess, MeshInstance } from '../mesh/mesh-access.js';
import { ReplicaRoles, type GroupView } from '../mesh/replica-roles.js';
import type { ExperimentPlan } from '../plan/plan-experiment.js';
import { resolveStep, SelectorError, type ResolvedStep } from '../plan/resolve-step.js';

/** Something in the mesh keeps the experiment from running; nothing was applied. */
export class PreflightError extends Error {
  override readonly name = 'PreflightError';
}

export interface Preflight {
  readonly instances: readonly MeshInstance[];
  readonly group?: GroupView;
  /** Each step as it would resolve now (roles are resolved again when the step starts). */
  readonly steps: readonly ResolvedStep[];
}

const WORKLOAD_SERVICES: Readonly<Record<string, readonly string[]>> = {
  orders: ['orders', 'inventory'],
  catState: ['cat-feeder'],
  stock: ['inventory'],
  register: ['cat-feeder'],
};

export async function preflight(plan: ExperimentPlan, mesh: MeshAccess): Promise<Preflight> {
  const instances = await mesh.instances();
  const problems: string[] = [];
  for (const [workload, services] of Object.entries(WORKLOAD_SERVICES)) {
    if (plan.workload[workload as keyof typeof plan.workload] === undefined) continue;
    for (const service of services) {
      if (!instances.some((instance) => instance.service === service)) {
        problems.push(
          `spec.workload.${workload}: needs ${service}, which ${mesh.description} does not run`,
        );
      }
    }
  }
  if (plan.steps.some((step) => step.spec.mechanism === 'process') && !mesh.processFaults) {
    problems.push(`the process mechanism is not available on ${mesh.description}`);
  }
  for (const { spec, index } of plan.steps) {
    const kinds = mesh.processFaults?.kinds;
    if (spec.mechanism !== 'process' || kinds === undefined) continue;
    const kind = spec.fault.kind;
    if ((kinds as readonly string[]).includes(kind)) continue;
    const instead = MECHANISMS.filter(
      (mechanism) => mechanism !== 'process' && MECHANISM_KINDS[mechanism].includes(kind),
    );
    problems.push(
      `spec.steps[${index}] (${spec.name}): the process mechanism cannot ${kind} on ${mesh.description} (it can: ${kinds.join(', ') || 'nothing'})${instead.length > 0 ? `; use ${instead.map((m) => `mechanism: ${m}`).join(' or ')}` : ''}`,
    );
  }
  for (const mechanism of ['networkpolicy', 'netfilter'] as const) {
    if (
      plan.steps.some((step) => step.spec.mechanism === mechanism) &&
      !mesh.networkFaults?.mechanisms.includes(mechanism)
    ) {
      problems.push(
        `the ${mechanism} mechanism is not available on ${mesh.description} (it needs a network that enforces ${mechanism === 'networkpolicy' ? 'NetworkPolicies' : 'nftables rules'} between the instances: a cluster or the chart rehearsal)`,
      );
    }
  }
  const replicas = instances.filter((instance) => instance.service === 'cat-feeder');
  let group: GroupView | undefined;
  if (replicas.length > 0) {
    const roles = new ReplicaRoles(replicas);
    try {
      group = await roles.view();
    } finally {
      roles.close();
    }
  }
  const steps: ResolvedStep[] = [];
  for (const step of plan.steps) {
    try {
      steps.push(
        resolveStep(step.spec, step.index, step.durationMs, {
          instances,
          ...(group && { group }),
          seed: plan.seed,
          runId: 'preflight',
          now: Date.now(),
        }),
      );
    } catch (error) {
      if (!(error instanceof SelectorError)) throw error;
      problems.push(error.message);
    }
  }
  // Every process that would hold a fault must answer its admin API now, or the step would fail
  // half-applied later.
  const holders = new Set(
    steps.flatMap((step) =>
      step.placements.filter((p) => p.mechanism === 'app').map((p) => p.instance),
    ),
  );
  const admins = new FaultAdmins([...holders]);
  try {
    await Promise.all(
      [...holders].map(async (instance) => {
        try {
          await admins.list(instance.name);
        } catch (error) {
          problems.push(
            `${instance.name}: its fault admin API at ${instance.adminAddress} does not answer (${(error as Error).message})`,
          );
        }
      }),
    );
  } finally {
    admins.close();
  }
  if (problems.length > 0) throw new PreflightError(problems.join('\n'));
  return { instances, ...(group && { group }), steps };
}
