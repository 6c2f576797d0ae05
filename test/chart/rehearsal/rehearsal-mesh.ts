// The chart rehearsal as a mesh a chaos experiment runs against: its pods are the instances
// (reached from the node at their pod IPs), and it cuts the network the two ways a cluster can.
// - networkpolicy: the partition's own NetworkPolicy per target pod (@catmesh/netpol's
//   partitionPolicy), then the labels that switch the pods onto it; healing removes the labels,
//   then the policies. The enforcer judges connections when they are set up, as kind's does.
// - netfilter: a netfilter injector of @catmesh/faults inside the pods' network namespaces,
//   dropping every packet between the sides, open connections included.
// Both end on their own when their duration is over, like the controller's sweeper would.
import type {
  MeshAccess,
  MeshInstance,
  NetworkFaults,
  NetworkPartitionRequest,
} from '@catmesh/chaos';
import { labelValue, meshInstanceOf } from '@catmesh/chaos-controller';
import { createNetfilterInjector, type AppliedFault } from '@catmesh/faults';
import {
  PARTITION_LABEL,
  PARTITION_PEER_LABEL,
  partitionPolicy,
  policyManifest,
} from '@catmesh/netpol';
import type { RenderedObject } from '../helm-chart.js';
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
    private readonly namespace: string,
  ) {
    this.networkFaults = {
      mechanisms: ['networkpolicy', 'netfilter'],
      apply: (request) => this.apply(request),
      revert: (id) => this.revert(id),
      revertAll: async (experiment) => {
        const ids = [...this.#partitions.values()]
          .filter((p) => experiment === undefined || p.request.experiment === experiment)
          .map((p) => p.request.id);
        await Promise.all(ids.map((id) => this.revert(id)));
        return ids;
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

  private async apply(request: NetworkPartitionRequest): Promise<void> {
    if (this.#partitions.has(request.id)) throw new Error(`partition ${request.id} is in force`);
    const revert =
      request.mechanism === 'networkpolicy'
        ? await this.applyPolicies(request)
        : await this.applyNetfilter(request);
    const expiry = setTimeout(() => void this.revert(request.id), request.durationMs);
    this.#partitions.set(request.id, { request, revert, expiry });
  }

  private async revert(id: string): Promise<void> {
    const partition = this.#partitions.get(id);
    if (!partition) return;
    this.#partitions.delete(id);
    clearTimeout(partition.expiry);
    await partition.revert();
  }

  private async applyPolicies(request: NetworkPartitionRequest): Promise<() => Promise<void>> {
    const id = labelValue(request.id);
    const inUse = [...request.targets, ...request.peers].filter(
      (pod) =>
        this.rehearsal.podLabels(pod)[PARTITION_LABEL] !== undefined ||
        this.rehearsal.podLabels(pod)[PARTITION_PEER_LABEL] !== undefined,
    );
    if (inUse.length > 0) {
      throw new Error(`${inUse.join(', ')}: already in a NetworkPolicy partition`);
    }
    const policies = request.targets.map(
      (pod) =>
        policyManifest(
          partitionPolicy(this.rehearsal.networkPolicies(), {
            id,
            policyName: `partition-${id.slice(0, 40)}-${pod}`.slice(0, 253),
            namespace: this.namespace,
            podLabels: this.rehearsal.podLabels(pod),
            direction: request.direction,
          }),
        ) as unknown as RenderedObject,
    );
    const labels = new Map<string, Record<string, string | null>>([
      ...request.targets.map((pod) => [pod, { [PARTITION_LABEL]: id }] as const),
      ...request.peers.map((pod) => [pod, { [PARTITION_PEER_LABEL]: id }] as const),
    ]);
    // The policies first, then the labels that move the pods onto them.
    await this.rehearsal.addPolicies(policies);
    await this.rehearsal.labelPods(labels);
    return async () => {
      const unlabel = new Map(
        [...labels.keys()]
          .filter((pod) => this.rehearsal.podNames().includes(pod))
          .map((pod) => [pod, { [PARTITION_LABEL]: null, [PARTITION_PEER_LABEL]: null }] as const),
      );
      await this.rehearsal.labelPods(unlabel);
      await this.rehearsal.removePolicies(policies.map((p) => p.metadata.name));
    };
  }

  private async applyNetfilter(request: NetworkPartitionRequest): Promise<() => Promise<void>> {
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
