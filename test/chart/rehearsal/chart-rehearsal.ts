// The chart rehearsal: the rendered workloads run as local processes, one network namespace
// (and IP) per pod on a shared bridge, each container in its sandbox (pod-sandbox.ts) with
// exactly the command, args and environment its manifest gives. Names resolve through a hosts
// file per namespace (cluster-dns.ts), rewritten whenever a pod's readiness changes; the
// manifests' probes, run from this (the "node's") namespace, are what decides readiness and
// restarts; a pod that ends is restarted with the kubelet's back-off, unless it is a Job's.
// The rendered NetworkPolicies are enforced in every pod's namespace (network-policy-enforcer.ts),
// recompiled whenever a pod comes or goes or the policies change, before a new pod's containers
// start. With an API server (a fake one: the test kit's), every container gets the `kubernetes`
// Service's variables, and a pod that automounts its service account's token gets it where the
// kubelet puts it.
import { randomUUID } from 'node:crypto';
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { sleep } from '@catmesh/runtime';
import {
  LocalNetwork,
  ProcessSupervisor,
  type LocalHost,
  type NetworkTarget,
  type ProcessExit,
} from '@catmesh/faults';
import { parseManifests, type NetworkPolicy } from '@catmesh/netpol';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1Probe } from 'kubernetes-models/v1/Probe';
import { manifestText, type RenderedObject } from '../helm-chart.js';
import { checkServicePorts, hostsFile } from './cluster-dns.js';
import { containerProcess } from './container-env.js';
import { localImage } from './local-images.js';
import { sandboxCommand, type SandboxMount } from './pod-sandbox.js';
import { jobPod, plannedPods, type PodPlan } from './pod-plan.js';
import { probeOnce } from './kubelet-probe.js';
import { policyTableScript, type EnforcedPod } from './network-policy-enforcer.js';

/** The objects' NetworkPolicies, validated as `catmesh netpol` validates them. */
function policiesOf(objects: readonly RenderedObject[], namespace: string): NetworkPolicy[] {
  const text = manifestText(objects);
  return [...parseManifests([{ name: 'rendered', text }], namespace).policies];
}

export interface RehearsalOptions {
  readonly objects: readonly RenderedObject[];
  readonly namespace: string;
  readonly clusterDomain: string;
  /** Where volumes and sandbox roots live; removed by destroy(). */
  readonly workDir: string;
  /** Network slots beyond the first pods: for recreated pods and Job pods. */
  readonly spareSlots?: number;
  /**
   * Starts the API server the pods reach, given the address it is to listen on (the
   * network's service address: not the node's, so the pods' egress rules govern it). It is
   * called once the network is up, before any pod starts.
   */
  readonly apiServer?: (address: string) => Promise<RehearsalApiServer>;
}

/** An API server as the kubelet wires pods to it. */
export interface RehearsalApiServer {
  /** The `kubernetes` Service's variables, which the kubelet gives every container. */
  readonly env: Readonly<Record<'KUBERNETES_SERVICE_HOST' | 'KUBERNETES_SERVICE_PORT', string>>;
  /** A directory holding the service account's token, ca.crt and namespace. */
  serviceAccountDirectory(namespace: string, serviceAccount: string): Promise<string>;
}

// Where the kubelet mounts a pod's service account token (and where client-node looks).
const SERVICE_ACCOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

interface ContainerState {
  readonly container: IIoK8sApiCoreV1Container;
  readonly process: string;
  started: boolean;
  ready: boolean;
  restarts: number;
}

interface Pod {
  readonly plan: PodPlan;
  /** The template's labels, then what `labelPods` changed (a recreated pod starts afresh). */
  labels: Readonly<Record<string, string>>;
  readonly uid: string;
  readonly slot: LocalHost;
  readonly containers: ContainerState[];
  /** The service account token's directory, when the pod automounts it. */
  readonly tokenDirectory: string | undefined;
  gone: boolean;
  exited?: (exit: ProcessExit) => void;
}

const NODE_NAME = 'rehearsal-node';
// The kubelet's crash back-off: 10 s, doubling, at most 5 minutes.
const BACKOFF_START_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;

export class ChartRehearsal {
  /** What happened, in order: starts, exits, restarts, readiness changes. */
  readonly events: string[] = [];
  private readonly pods = new Map<string, Pod>();
  private readonly freeSlots: LocalHost[];
  private readonly supervisor: ProcessSupervisor;
  /** The NetworkPolicies in force: the rendered objects', until setPolicies(). */
  private policies: readonly NetworkPolicy[];
  /** The last recompilation of the pods' policy tables: the next one waits for it. */
  private enforcing: Promise<void> = Promise.resolve();
  /** The recompilation queued behind it and not begun yet, if any. */
  private waitingRecompilation: Promise<void> | undefined;
  private apiServer: RehearsalApiServer | undefined;

  private constructor(
    private readonly options: RehearsalOptions,
    private readonly network: LocalNetwork,
  ) {
    this.freeSlots = [...network.hosts];
    this.policies = policiesOf(options.objects, options.namespace);
    this.supervisor = new ProcessSupervisor({
      outputLimit: 256 * 1024,
      onExit: (name, exit) => this.onExit(name, exit),
    });
  }

  /** Builds the network and starts every pod of every Deployment and StatefulSet at once. */
  static async start(options: RehearsalOptions): Promise<ChartRehearsal> {
    const plans = plannedPods(options.objects, options.namespace);
    checkServicePorts(options.objects, plans);
    const slots = plans.length + (options.spareSlots ?? 2);
    const network = await LocalNetwork.create({
      hosts: Array.from({ length: slots }, (_, i) => `slot${i}`),
      family: 'cmr',
      hostAccess: true,
      serviceAddress: options.apiServer !== undefined,
    });
    const rehearsal = new ChartRehearsal(options, network);
    try {
      if (options.apiServer && network.serviceAddress !== undefined) {
        rehearsal.apiServer = await options.apiServer(network.serviceAddress);
      }
      for (const slot of network.hosts) {
        const dir = `/etc/netns/${slot.netns}`;
        mkdirSync(dir, { recursive: true });
        // Nothing answers DNS in a pod's namespace: a name the hosts file lacks fails at once.
        writeFileSync(`${dir}/resolv.conf`, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
        writeFileSync(`${dir}/hosts`, '127.0.0.1 localhost\n');
      }
      for (const plan of plans) await rehearsal.startPod(plan);
    } catch (error) {
      await rehearsal.destroy();
      throw error;
    }
    return rehearsal;
  }

  readonly nodeName = NODE_NAME;

  podNames(): string[] {
    return [...this.pods.keys()];
  }

  /** The node's address on the pods' network: the root namespace's end of the bridge. */
  get nodeAddress(): string {
    const address = this.network.gatewayAddress;
    if (address === undefined) throw new Error('the rehearsal network has no node address');
    return address;
  }

  /**
   * An address of this (the node's) namespace that is neither the node's nor any pod's: the
   * network's service address, where the API server listens. A client bound to it is what the
   * policies' `external` peers (an ipBlock) let in or not, as one outside the cluster would be;
   * one from the node's address is always let in (the kubelet's probes).
   */
  get externalAddress(): string {
    const address = this.network.serviceAddress;
    if (address === undefined) throw new Error('the rehearsal network has no service address');
    return address;
  }

  /** The pod's uid: a pod made again under the same name has a new one. */
  podUid(name: string): string {
    return this.pod(name).uid;
  }

  /** What the pod was made from: its workload's template, as its controller stamped it. */
  podPlan(name: string): PodPlan {
    return this.pod(name).plan;
  }

  podIp(name: string): string {
    return this.pod(name).slot.address;
  }

  /** The pod's network namespace, to act from inside the pod (e.g. connection probes). */
  podNetns(name: string): string {
    return this.pod(name).slot.netns;
  }

  /** The pod's labels, as the policies select it. */
  podLabels(name: string): Readonly<Record<string, string>> {
    return this.pod(name).labels;
  }

  /** The pod's named container ports. */
  podPorts(name: string): ReadonlyMap<string, number> {
    return new Map(
      this.pod(name).plan.spec.containers.flatMap((c) =>
        (c.ports ?? []).flatMap((p) => (p.name === undefined ? [] : [[p.name, p.containerPort]])),
      ),
    );
  }

  /** Where the pod's network is, for a netfilter injector acting inside it. */
  podNetworkTarget(name: string): NetworkTarget {
    const { slot } = this.pod(name);
    return { name, netns: slot.netns, device: slot.device, addresses: slot.addresses };
  }

  /** The NetworkPolicies in force now. */
  networkPolicies(): readonly NetworkPolicy[] {
    return this.policies;
  }

  /**
   * `kubectl label pod --overwrite` of several pods at once (null removes a label); the policies
   * are recompiled once, so every pod's rules change together.
   */
  async labelPods(
    changes: ReadonlyMap<string, Readonly<Record<string, string | null>>>,
  ): Promise<void> {
    for (const [name, change] of changes) {
      const pod = this.pod(name);
      const labels = { ...pod.labels };
      for (const [key, value] of Object.entries(change)) {
        if (value === null) delete labels[key];
        else labels[key] = value;
      }
      pod.labels = labels;
    }
    await this.enforcePolicies();
    this.event(`labelled ${[...changes.keys()].join(', ')}`);
  }

  /** `kubectl apply` of more NetworkPolicies beside those in force. */
  async addPolicies(objects: readonly RenderedObject[]): Promise<void> {
    // Read with the release's workloads, whose named ports the new policies may use.
    const names = new Set(objects.map((object) => object.metadata.name));
    const added = policiesOf([...this.options.objects, ...objects], this.options.namespace).filter(
      (policy) => names.has(policy.name),
    );
    this.policies = [
      ...this.policies.filter((p) => !added.some((a) => a.name === p.name)),
      ...added,
    ];
    await this.enforcePolicies();
    this.event(`network policies applied: ${added.map((p) => p.name).join(', ')}`);
  }

  /** `kubectl delete networkpolicy`; names not in force are ignored. */
  async removePolicies(names: readonly string[]): Promise<void> {
    this.policies = this.policies.filter((p) => !names.includes(p.name));
    await this.enforcePolicies();
    this.event(`network policies deleted: ${names.join(', ')}`);
  }

  /** `kubectl apply` of another render's NetworkPolicies: every pod's rules are replaced. */
  async setPolicies(objects: readonly RenderedObject[]): Promise<void> {
    this.policies = policiesOf(objects, this.options.namespace);
    await this.enforcePolicies();
    this.event('network policies replaced');
  }

  /** Resolves once every policy and label change made so far is in the pods' rules. */
  policiesEnforced(): Promise<void> {
    return this.enforcing;
  }

  isReady(name: string): boolean {
    const pod = this.pods.get(name);
    return pod !== undefined && pod.containers.every((c) => c.ready);
  }

  restarts(name: string): number {
    return this.pod(name).containers.reduce((sum, c) => sum + c.restarts, 0);
  }

  /** Every container's captured stdout and stderr (for a failing test's message). */
  logs(name: string): string {
    return this.pod(name)
      .containers.map((c) => this.supervisor.output(c.process))
      .join('\n');
  }

  /**
   * `kubectl delete pod`: SIGTERM, SIGKILL after the grace period (terminationGracePeriodSeconds
   * unless given; 0 is SIGKILL at once). Its volumes' claims stay; returns the plan, so the
   * StatefulSet "controller" can make it again.
   */
  async deletePod(name: string, graceSeconds?: number): Promise<PodPlan> {
    const pod = this.pod(name);
    pod.gone = true;
    const graceMs = (graceSeconds ?? pod.plan.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    await Promise.all(pod.containers.map((c) => this.supervisor.stop(c.process, graceMs)));
    this.pods.delete(name);
    this.freeSlots.push(pod.slot);
    this.event(`${name}: deleted`);
    this.refreshDns();
    await this.enforcePolicies();
    return pod.plan;
  }

  /** Starts a pod from its plan again, in a fresh network slot: a new IP, the same claims. */
  async recreatePod(plan: PodPlan): Promise<void> {
    await this.startPod(plan);
  }

  /** Runs a Job's pod (the helm test hook) to the end; resolves with its exit and output. */
  async runJob(job: RenderedObject): Promise<{ code: number | null; output: string }> {
    const plan = jobPod(job, this.options.namespace);
    const finished = new Promise<ProcessExit>((resolve) => {
      void this.startPod(plan, resolve);
    });
    const deadlineMs = (plan.activeDeadlineSeconds ?? 600) * 1000;
    const exit = await Promise.race([finished, sleep(deadlineMs).then(() => undefined)]);
    const pod = this.pod(plan.name);
    const output = this.logs(plan.name);
    if (exit === undefined) {
      await this.deletePod(plan.name);
      return { code: null, output: `${output}\n(activeDeadlineSeconds passed)` };
    }
    await this.deletePod(pod.plan.name);
    return { code: exit.code, output };
  }

  async destroy(): Promise<void> {
    for (const pod of this.pods.values()) pod.gone = true;
    await this.supervisor.close();
    for (const slot of this.network.hosts)
      rmSync(`/etc/netns/${slot.netns}`, { recursive: true, force: true });
    await this.network.destroy();
    rmSync(this.options.workDir, { recursive: true, force: true });
  }

  private pod(name: string): Pod {
    const pod = this.pods.get(name);
    if (!pod) throw new Error(`no pod ${name} in the rehearsal`);
    return pod;
  }

  private event(text: string): void {
    this.events.push(`${new Date().toISOString()} ${text}`);
  }

  private async startPod(plan: PodPlan, onJobExit?: (exit: ProcessExit) => void): Promise<void> {
    const tokenDirectory = await this.serviceAccountToken(plan);
    const slot = this.freeSlots.shift();
    if (!slot) throw new Error(`no network slot left for pod ${plan.name}`);
    const pod: Pod = {
      plan,
      labels: plan.labels,
      uid: randomUUID(),
      slot,
      tokenDirectory,
      gone: false,
      containers: plan.spec.containers.map((container) => ({
        container,
        process: `${plan.name}/${container.name}`,
        started: false,
        ready: false,
        restarts: 0,
      })),
      ...(onJobExit && { exited: onJobExit }),
    };
    this.pods.set(plan.name, pod);
    this.event(`${plan.name}: scheduled at ${slot.address}`);
    this.refreshDns();
    await this.enforcePolicies();
    for (const state of pod.containers) {
      await this.startContainer(pod, state);
      for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        void this.probeLoop(pod, state, kind);
      }
    }
  }

  /**
   * The token directory of the pod's service account, if the pod automounts it: the pod says,
   * else its ServiceAccount does, else it does (Service Accounts, "Opt out of API credential
   * automounting").
   */
  private async serviceAccountToken(plan: PodPlan): Promise<string | undefined> {
    const name = plan.spec.serviceAccountName ?? 'default';
    const account = this.options.objects.find(
      (object) => object.kind === 'ServiceAccount' && object.metadata.name === name,
    );
    const automount =
      plan.spec.automountServiceAccountToken ??
      (account?.['automountServiceAccountToken'] as boolean | undefined) ??
      true;
    if (!automount) return undefined;
    if (this.apiServer === undefined) {
      throw new Error(
        `pod ${plan.name} mounts the token of service account ${name}, but the rehearsal has no API server`,
      );
    }
    return this.apiServer.serviceAccountDirectory(plan.namespace, name);
  }

  private volumeMounts(pod: Pod, container: IIoK8sApiCoreV1Container): SandboxMount[] {
    const { spec } = pod.plan;
    const uid = spec.securityContext?.runAsUser ?? 0;
    const group = spec.securityContext?.fsGroup ?? spec.securityContext?.runAsGroup ?? 0;
    const mounts = (container.volumeMounts ?? []).map((mount): SandboxMount => {
      const claim = pod.plan.claims[mount.name];
      const volume = spec.volumes?.find((v) => v.name === mount.name);
      let source: string;
      if (claim !== undefined) source = `${this.options.workDir}/claims/${claim}`;
      else if (volume?.emptyDir)
        source = `${this.options.workDir}/pods/${pod.plan.name}-${pod.uid}/${mount.name}`;
      else
        throw new Error(
          `pod ${pod.plan.name}: volume ${mount.name} is of a kind the rehearsal lacks`,
        );
      mkdirSync(source, { recursive: true });
      // What fsGroup does to a volume: the pod's group owns it.
      chownSync(source, uid, group);
      return { source, target: mount.mountPath, readOnly: mount.readOnly === true };
    });
    if (pod.tokenDirectory === undefined) return mounts;
    return [
      ...mounts,
      { source: pod.tokenDirectory, target: SERVICE_ACCOUNT_PATH, readOnly: true },
    ];
  }

  private async startContainer(pod: Pod, state: ContainerState): Promise<void> {
    const { container } = state;
    const image = localImage(container.image ?? '');
    const run = containerProcess(
      container,
      { plan: pod.plan, uid: pod.uid, nodeName: NODE_NAME, podIp: pod.slot.address },
      { ...image.env, ...this.apiServer?.env },
    );
    const security = { ...pod.plan.spec.securityContext, ...container.securityContext };
    if (security.runAsUser === undefined) throw new Error(`${state.process}: no runAsUser`);
    const rootDir = `${this.options.workDir}/roots/${pod.plan.name}-${pod.uid}-${container.name}`;
    mkdirSync(rootDir, { recursive: true });
    const sandbox = sandboxCommand({
      rootDir,
      mounts: [...image.mounts, ...this.volumeMounts(pod, container)],
      workingDir: container.workingDir ?? '/',
      uid: security.runAsUser,
      gid: security.runAsGroup ?? 0,
      command: run.command,
    });
    state.started = container.startupProbe === undefined;
    state.ready = false;
    await this.supervisor.start(state.process, {
      ...sandbox,
      netns: pod.slot.netns,
      env: run.env,
      cwd: '/',
    });
    this.event(`${state.process}: started`);
  }

  private onExit(name: string, exit: ProcessExit): void {
    const [podName] = name.split('/');
    const pod = this.pods.get(podName ?? '');
    const state = pod?.containers.find((c) => c.process === name);
    if (!pod || !state || pod.gone || exit.expected) return;
    this.event(`${name}: exited (code ${exit.code}, signal ${exit.signal})`);
    this.setReady(pod, state, false);
    state.started = false;
    if (!pod.plan.restartAlways) {
      pod.exited?.(exit);
      return;
    }
    const backoffMs = Math.min(BACKOFF_START_MS * 2 ** state.restarts, BACKOFF_MAX_MS);
    state.restarts += 1;
    void sleep(backoffMs).then(async () => {
      if (!pod.gone) await this.startContainer(pod, state);
    });
  }

  private setReady(pod: Pod, state: ContainerState, ready: boolean): void {
    if (state.ready === ready) return;
    state.ready = ready;
    this.event(`${state.process}: ${ready ? 'ready' : 'not ready'}`);
    this.refreshDns();
  }

  /** One probe of one container, on its period, for as long as the pod exists. */
  private async probeLoop(
    pod: Pod,
    state: ContainerState,
    kind: 'startupProbe' | 'readinessProbe' | 'livenessProbe',
  ): Promise<void> {
    const probe: IIoK8sApiCoreV1Probe | undefined = state.container[kind];
    if (probe === undefined) {
      if (kind === 'readinessProbe') {
        // No readiness probe: ready as soon as started.
        while (!pod.gone) {
          if (state.started && this.supervisor.status(state.process).state === 'running') {
            this.setReady(pod, state, true);
          }
          await sleep(200);
        }
      }
      return;
    }
    const periodMs = (probe.periodSeconds ?? 10) * 1000;
    const failureThreshold = probe.failureThreshold ?? 3;
    const successThreshold = probe.successThreshold ?? 1;
    let failures = 0;
    let successes = 0;
    let incarnation = -1;
    await sleep((probe.initialDelaySeconds ?? 0) * 1000);
    while (!pod.gone) {
      const status = this.supervisor.status(state.process);
      if (status.incarnation !== incarnation) {
        incarnation = status.incarnation;
        failures = 0;
        successes = 0;
      }
      const due = kind === 'startupProbe' ? !state.started : state.started;
      if (due && status.state === 'running') {
        const ok = await probeOnce(probe, state.container, pod.slot.address);
        if (pod.gone || this.supervisor.status(state.process).incarnation !== incarnation) continue;
        failures = ok ? 0 : failures + 1;
        successes = ok ? successes + 1 : 0;
        if (kind === 'startupProbe' && ok) {
          state.started = true;
          this.event(`${state.process}: started (startup probe)`);
        } else if (kind === 'readinessProbe') {
          if (successes >= successThreshold) this.setReady(pod, state, true);
          if (failures >= failureThreshold) this.setReady(pod, state, false);
        } else if (failures >= failureThreshold) {
          await this.killForProbe(pod, state, kind);
        }
      }
      await sleep(periodMs);
    }
  }

  /** A failed startup or liveness probe: the kubelet kills the container, which restarts. */
  private async killForProbe(pod: Pod, state: ContainerState, kind: string): Promise<void> {
    this.event(`${state.process}: ${kind} failed, killing it`);
    this.setReady(pod, state, false);
    state.started = false;
    const graceMs = (pod.plan.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    await this.supervisor.stop(state.process, graceMs);
    state.restarts += 1;
    if (!pod.gone) await this.startContainer(pod, state);
  }

  /**
   * Recompiles every pod's policy table from the pods and policies as they are when its turn
   * comes: one recompilation at a time, since each rewrites every pod's table. A change made
   * while one is still waiting its turn joins it (it will read the change too): a partition's
   * policies and labels, which cross the bridge one by one, cost one or two recompilations,
   * not one each.
   */
  private enforcePolicies(): Promise<void> {
    if (this.waitingRecompilation) return this.waitingRecompilation;
    const next = this.enforcing.then(() => {
      this.waitingRecompilation = undefined;
      return this.compilePolicies();
    });
    this.waitingRecompilation = next;
    this.enforcing = next.catch(() => undefined);
    return next;
  }

  private async compilePolicies(): Promise<void> {
    const pods: EnforcedPod[] = [...this.pods.values()].map((pod) => ({
      name: pod.plan.name,
      namespace: pod.plan.namespace,
      ip: pod.slot.address,
      labels: pod.labels,
      ports: pod.plan.spec.containers.flatMap((c) =>
        (c.ports ?? []).map((p) => ({
          ...(p.name !== undefined && { name: p.name }),
          port: p.containerPort,
          protocol: p.protocol ?? 'TCP',
        })),
      ),
    }));
    for (const pod of pods) {
      const script = policyTableScript(pod, pods, this.policies, this.nodeAddress);
      const file = `${this.options.workDir}/netpol-${pod.name}.nft`;
      writeFileSync(file, script);
      await this.network.exec(this.pod(pod.name).slot.name, 'nft', ['-f', file]);
    }
  }

  private refreshDns(): void {
    const running = [...this.pods.values()].map((pod) => ({
      plan: pod.plan,
      ip: pod.slot.address,
      ready: pod.containers.every((c) => c.ready),
    }));
    const text = hostsFile(
      this.options.objects,
      running,
      this.options.namespace,
      this.options.clusterDomain,
    );
    // Written in place: `ip netns exec` bind-mounted this very file (inode) over /etc/hosts.
    for (const slot of this.network.hosts) writeFileSync(`/etc/netns/${slot.netns}/hosts`, text);
  }
}
