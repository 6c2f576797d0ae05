// The chart rehearsal as a mesh a chaos experiment runs against: its pods are the instances
// (reached from the node at their pod IPs), and it cuts the network the two ways a cluster can.
// - networkpolicy: through the API server, exactly as the chaos controller does it (its
//   KubernetesMesh: the partition's NetworkPolicies, then the pod labels that switch them on,
//   with an expiry the controller's sweeper honours); the bridge carries them into the pods'
//   rules, which judge connections when they are set up, as kind's do.
// - netfilter: a netfilter injector of @catmesh/faults inside the pods' network namespaces,
//   dropping every packet between the sides, open connections included; it ends on its own
//   when its duration is over.
import type {
  MeshAccess,
  MeshInstance,
  NetworkFaults,
  NetworkPartitionRequest,
} from '@catmesh/chaos';
import { meshInstanceOf } from '@catmesh/chaos-controller';
import { createNetfilterInjector, type AppliedFault } from '@catmesh/faults';
import type { ChartRehearsal } from './chart-rehearsal.js';

interface Partition {
  readonly request: NetworkPartitionRequest;
  readonly revert: () => Promise<void>;
  readonly expiry: NodeJS.Timeout;
}

export class RehearsalMesh implements MeshAccess {
  readonly description = 'the chart rehearsal';
  readonly networkFaults: NetworkFaults;
  readonly #partitions = new Map<string, Partition>();

  constructor(
    private readonly rehearsal: ChartRehearsal,
    /** The mesh through the API server: its networkpolicy partitions are the controller's. */
    api: MeshAccess & { readonly networkFaults: NetworkFaults },
  ) {
    this.networkFaults = {
      mechanisms: ['networkpolicy', 'netfilter'],
      apply: async (request) => {
        if (request.mechanism === 'networkpolicy') {
          await api.networkFaults.apply(request);
          // What the API server holds now, the pods enforce once the bridge's changes are in.
          await rehearsal.policiesEnforced();
        } else {
          await this.applyNetfilter(request);
        }
      },
      revert: async (id) => {
        await api.networkFaults.revert(id);
        await this.revert(id);
        await rehearsal.policiesEnforced();
      },
      revertAll: async (experiment) => {
        const ids = [...this.#partitions.values()]
          .filter((p) => experiment === undefined || p.request.experiment === experiment)
          .map((p) => p.request.id);
        await Promise.all(ids.map((id) => this.revert(id)));
        const viaApi = await api.networkFaults.revertAll(experiment);
        await rehearsal.policiesEnforced();
        return [...viaApi, ...ids];
      },
    };
  }

  instances(): Promise<readonly MeshInstance[]> {
    return Promise.resolve(
      this.rehearsal.podNames().flatMap(
        (pod) =>
          meshInstanceOf({
            name: pod,
            labels: this.rehearsal.podLabels(pod),
            ip: this.rehearsal.podIp(pod),
            ports: this.rehearsal.podPorts(pod),
          }) ?? [],
      ),
    );
  }

  /** A netfilter partition, reverted by its own timer when its duration is over. */
  private async applyNetfilter(request: NetworkPartitionRequest): Promise<void> {
    if (this.#partitions.has(request.id)) throw new Error(`partition ${request.id} is in force`);
    const revert = await this.dropBetween(request);
    const expiry = setTimeout(() => void this.revert(request.id), request.durationMs);
    this.#partitions.set(request.id, { request, revert, expiry });
  }

  /** Ends a netfilter partition; an id that is none is ignored. */
  private async revert(id: string): Promise<void> {
    const partition = this.#partitions.get(id);
    if (!partition) return;
    this.#partitions.delete(id);
    clearTimeout(partition.expiry);
    await partition.revert();
  }

  private async dropBetween(request: NetworkPartitionRequest): Promise<() => Promise<void>> {
    const pods = [...request.targets, ...request.peers];
    const injector = createNetfilterInjector({
      targets: pods.map((pod) => this.rehearsal.podNetworkTarget(pod)),
      family: 'cmrp',
    });
    let applied: AppliedFault;
    try {
      applied = await injector.apply({
        kind: 'partition',
        groups: [request.targets, request.peers],
        direction: request.direction,
        durationMs: request.durationMs,
      });
    } catch (error) {
      await injector.close();
      throw error;
    }
    return async () => {
      await applied.revert();
      await injector.close();
    };
  }
}
