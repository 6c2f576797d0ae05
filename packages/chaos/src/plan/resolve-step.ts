// A step, at the moment it starts, turned into what each process must do: selectors resolved
// against the mesh (roles from the replicas' status now, not when the file was written), then one
// fault per instance for the app mechanism, one process fault per instance, or one network
// partition for the whole step (networkpolicy, netfilter). An app partition is applied at BOTH ends: each side drops the other's traffic, so whichever end can recognise a
// peer (a server by the caller's header, a client by the service it calls) enforces it.
import { faultsV1 } from '@catmesh/proto';
import { ms } from './plan-experiment.js';
import type { FaultSpec, Selector, StepSpec } from '../experiment/experiment-types.js';
import type {
  MeshInstance,
  NetworkPartitionRequest,
  ProcessFaultRequest,
} from '../mesh/mesh-access.js';
import type { GroupView } from '../mesh/replica-roles.js';

/**
 * A live run reverts each fault itself when its step ends (and reads what the fault did just
 * before); the holder's own expiry is the backstop for a run that died, this much later.
 */
export const EXPIRY_BACKSTOP_MS = 1_000;

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

export type Placement =
  | { readonly mechanism: 'app'; readonly instance: MeshInstance; readonly fault: faultsV1.Fault }
  | {
      readonly mechanism: 'process';
      readonly instance: MeshInstance;
      readonly request: ProcessFaultRequest;
    }
  | { readonly mechanism: 'network'; readonly request: NetworkPartitionRequest };

export interface ResolvedStep {
  readonly targets: readonly MeshInstance[];
  /** Undefined when the step names no peers (every peer is affected). */
  readonly peers?: readonly MeshInstance[];
  readonly placements: readonly Placement[];
}

export interface ResolveContext {
  readonly instances: readonly MeshInstance[];
  /** The cat-feeder group's view now; needed only by selectors with a role. */
  readonly group?: GroupView;
  readonly seed: number;
  /** Names this run's faults (ids and the `experiment` label), unique per run. */
  readonly runId: string;
  readonly now: number;
}

/** The instances a selector matches, in name order; throws SelectorError when none. */
export function resolveSelector(
  selector: Selector,
  context: Pick<ResolveContext, 'instances' | 'group' | 'seed'>,
  path: string,
  exclude: readonly MeshInstance[] = [],
): MeshInstance[] {
  let matched = context.instances.filter(
    (instance) =>
      !exclude.includes(instance) &&
      (selector.service === undefined || instance.service === selector.service) &&
      (selector.instances === undefined || selector.instances.includes(instance.name)),
  );
  for (const name of selector.instances ?? []) {
    if (!context.instances.some((instance) => instance.name === name)) {
      throw new SelectorError(`${path}.instances: no instance ${JSON.stringify(name)} in the mesh`);
    }
  }
  if (selector.role !== undefined) {
    const group = context.group;
    const leader = group?.leader?.instance;
    if (leader === undefined) {
      throw new SelectorError(`${path}.role: the cat-feeder group has no leader right now`);
    }
    matched = matched.filter((instance) =>
      selector.role === 'leader'
        ? instance.name === leader
        : instance.name !== leader && group!.replicas.has(instance.name),
    );
  }
  if (matched.length === 0) {
    throw new SelectorError(`${path}: matches no instance (${describeSelector(selector)})`);
  }
  const wanted =
    selector.count ??
    (selector.percent === undefined
      ? matched.length
      : Math.max(1, Math.round((matched.length * selector.percent) / 100)));
  if (wanted >= matched.length) return matched;
  // A seeded choice: the same seed picks the same instances, run after run.
  return [...matched]
    .sort(
      (a, b) =>
        hash(`${context.seed}/${path}/${a.name}`) - hash(`${context.seed}/${path}/${b.name}`),
    )
    .slice(0, wanted)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function resolveStep(
  step: StepSpec,
  index: number,
  durationMs: number,
  context: ResolveContext,
): ResolvedStep {
  const path = `spec.steps[${index}]`;
  const targets = resolveSelector(step.target, context, `${path}.target`);
  const peers =
    step.peers === undefined
      ? undefined
      : resolveSelector(step.peers, context, `${path}.peers`, targets);
  const experiment = context.runId;
  const id = (instance: MeshInstance): string => `${context.runId}-${step.name}-${instance.name}`;
  if (step.mechanism === 'process') {
    const kind = step.fault.kind === 'kill' ? 'kill' : 'pause';
    const restartAfterMs =
      step.fault.kind === 'kill' && step.fault.restartAfter !== undefined
        ? ms(step.fault.restartAfter)
        : undefined;
    return {
      targets,
      placements: targets.map((instance) => ({
        mechanism: 'process',
        instance,
        request: {
          id: id(instance),
          kind,
          instance: instance.name,
          durationMs,
          experiment,
          ...(restartAfterMs !== undefined && { restartAfterMs }),
        },
      })),
    };
  }
  if (step.mechanism === 'networkpolicy' || step.mechanism === 'netfilter') {
    // Every other instance when no peers are named: the targets are cut off from the mesh.
    const across = peers ?? context.instances.filter((instance) => !targets.includes(instance));
    return {
      targets,
      ...(peers && { peers }),
      placements: [
        {
          mechanism: 'network',
          request: {
            id: `${context.runId}-${step.name}`,
            mechanism: step.mechanism,
            targets: targets.map((t) => t.name),
            peers: across.map((p) => p.name),
            direction: step.partition ?? 'both',
            durationMs,
            experiment,
          },
        },
      ],
    };
  }
  const withAdmin = (instance: MeshInstance): boolean => instance.adminAddress !== undefined;
  for (const instance of targets) {
    if (!withAdmin(instance)) {
      throw new SelectorError(
        `${path}.target: ${instance.name} has no fault admin API (the app mechanism acts inside catmesh's own processes)`,
      );
    }
  }
  const base = {
    expiresAtUnixMs: context.now + durationMs + EXPIRY_BACKSTOP_MS,
    transports: (step.transports ?? []).map((name) => TRANSPORTS[name]),
    experiment,
  };
  const kind = faultKind(step.fault, durationMs);
  const selectorsOf = peerSelectorsIn(context.instances, context.group);
  const placements: Placement[] = targets.map((instance) => ({
    mechanism: 'app',
    instance,
    fault: {
      ...base,
      id: id(instance),
      kind,
      peers: selectorsOf(peers ?? []),
      direction:
        step.fault.kind === 'partition'
          ? step.partition === 'one-way'
            ? faultsV1.Direction.DIRECTION_OUTBOUND
            : faultsV1.Direction.DIRECTION_BOTH
          : DIRECTIONS[step.direction ?? 'both'],
    },
  }));
  if (step.fault.kind === 'partition') {
    // The other end: every peer (every other process when none are named) drops the targets.
    const others = peers ?? context.instances.filter((instance) => !targets.includes(instance));
    for (const instance of others.filter(withAdmin)) {
      placements.push({
        mechanism: 'app',
        instance,
        fault: {
          ...base,
          id: id(instance),
          kind,
          peers: selectorsOf(targets),
          direction:
            step.partition === 'one-way'
              ? faultsV1.Direction.DIRECTION_INBOUND
              : faultsV1.Direction.DIRECTION_BOTH,
        },
      });
    }
  }
  return { targets, ...(peers && { peers }), placements };
}

const TRANSPORTS = {
  grpc: faultsV1.Transport.TRANSPORT_GRPC,
  nats: faultsV1.Transport.TRANSPORT_NATS,
  raft: faultsV1.Transport.TRANSPORT_RAFT,
} as const;

const DIRECTIONS = {
  both: faultsV1.Direction.DIRECTION_BOTH,
  inbound: faultsV1.Direction.DIRECTION_INBOUND,
  outbound: faultsV1.Direction.DIRECTION_OUTBOUND,
} as const;

const DISTRIBUTIONS = {
  uniform: faultsV1.Distribution.DISTRIBUTION_UNIFORM,
  normal: faultsV1.Distribution.DISTRIBUTION_NORMAL,
  pareto: faultsV1.Distribution.DISTRIBUTION_PARETO,
} as const;

/**
 * The selectors of a set of peers. A whole service is named by its service alone, which every
 * transport can match (a client knows the service it calls, not which instance answers); part of
 * a service is named instance by instance, and a replica by its Raft id: from the group's status,
 * else from the name (`cat-feeder-2` is replica 2 in a local mesh), never 0, which would match
 * every replica's Raft traffic. The other end of a partition enforces what one end cannot see.
 */
function peerSelectorsIn(
  instances: readonly MeshInstance[],
  group: GroupView | undefined,
): (peers: readonly MeshInstance[]) => faultsV1.PeerSelector[] {
  return (peers) => {
    const selectors: faultsV1.PeerSelector[] = [];
    for (const service of new Set(peers.map((peer) => peer.service))) {
      const chosen = peers.filter((peer) => peer.service === service);
      const all = instances.filter((instance) => instance.service === service);
      if (service === 'nats' || chosen.length === all.length) {
        selectors.push({ service, instance: '', raftId: 0 });
        continue;
      }
      for (const instance of chosen) {
        if (service !== 'cat-feeder') {
          selectors.push({ service, instance: instance.name, raftId: 0 });
          continue;
        }
        const raftId =
          group?.replicas.get(instance.name)?.raftId ??
          Number(/(\d+)$/.exec(instance.name)?.[1] ?? 0);
        if (!(raftId > 0)) throw new SelectorError(`the Raft id of ${instance.name} is unknown`);
        selectors.push({ service, instance: instance.name, raftId });
      }
    }
    return selectors;
  };
}

function faultKind(fault: FaultSpec, durationMs: number): faultsV1.Fault['kind'] {
  switch (fault.kind) {
    case 'latency':
      return {
        $case: 'latency',
        value: {
          delayMs: ms(fault.delay),
          jitterMs: fault.jitter === undefined ? 0 : ms(fault.jitter),
          distribution: DISTRIBUTIONS[fault.distribution ?? 'uniform'],
        },
      };
    case 'loss':
      return { $case: 'loss', value: { probability: fault.probability } };
    case 'reject':
      return { $case: 'reject', value: { probability: fault.probability ?? 1 } };
    case 'partition':
      return { $case: 'partition', value: {} };
    case 'bandwidth':
      return { $case: 'bandwidth', value: { bytesPerSecond: fault.bytesPerSecond } };
    case 'pause':
      return {
        $case: 'pause',
        value: {
          pauseMs: fault.pauseFor === undefined ? durationMs : ms(fault.pauseFor),
          everyMs: fault.every === undefined ? 0 : ms(fault.every),
        },
      };
    case 'kill':
      throw new Error('kill is a process fault');
  }
}

/** `service=cat-feeder, role=leader, count=1` */
export function describeSelector(selector: Selector): string {
  return Object.entries(selector)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('|') : String(value)}`)
    .join(', ');
}

/** FNV-1a: a stable order for the seeded choice of targets. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
