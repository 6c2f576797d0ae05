// Every source of the dashboard, each polled on its own: the replicas' Status (often, for the
// election timeline), every instance's /metrics and fault admin API, and `cat.state`.
import { credentials } from '@grpc/grpc-js';
import { FaultAdmins } from '@catmesh/chaos';
import { catfeederV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import type { FaultView, MeshSnapshot, OrderTraceView, ReplicaView } from './dashboard-snapshot.js';
import { ElectionTimeline, type ReplicaRoleReport } from './election-timeline.js';
import { faultViewOf } from './fault-view.js';
import { InstanceMetrics, LoadgenSlis } from './instance-metrics.js';
import { Poller } from './poller.js';
import { buildSnapshot } from './snapshot-builder.js';

/** A source that takes longer than this is down: a paused process never answers. */
const POLL_TIMEOUT_MS = 1_000;
/**
 * grpc-js resolves a name again at most every 30 s by default; a replica's pod that comes back
 * with a new address (a headless Service's name in Kubernetes) would stay down that long here.
 */
const REPLICA_CHANNEL_OPTIONS = { 'grpc.dns_min_time_between_resolutions_ms': 1_000 };

export interface MeshSourcesOptions {
  readonly replicas: readonly { readonly name: string; readonly value: string }[];
  readonly metrics: readonly { readonly name: string; readonly value: string }[];
  readonly faultAdmins: readonly { readonly name: string; readonly value: string }[];
  readonly raftPollMs: number;
  readonly pollEveryMs: number;
  readonly sliWindowMs: number;
}

interface Replica {
  readonly id: number;
  readonly name: string;
  readonly client: catfeederV1.CatFeederServiceClient;
  readonly status: Poller<catfeederV1.StatusResponse>;
}

interface CatState {
  readonly value?: string;
  readonly readFrom: string;
}

/** `cat-feeder-2` is an instance of `cat-feeder`; `orders` of `orders`. */
export function serviceOf(instance: string): string {
  return instance.replace(/-\d+$/, '');
}

export class MeshSources {
  readonly #replicas: Replica[];
  readonly #timeline = new ElectionTimeline();
  readonly #instances: {
    readonly name: string;
    readonly metrics: InstanceMetrics;
    readonly poller: Poller<void>;
  }[];
  readonly #slis: LoadgenSlis;
  readonly #loadgen: Poller<void> | undefined;
  readonly #admins: FaultAdmins;
  readonly #faults: Poller<FaultView[]>[];
  readonly #catState: Poller<CatState>;
  readonly #raftPollMs: number;
  #timelineTimer: NodeJS.Timeout | undefined;
  #readFrom = 0;

  constructor(options: MeshSourcesOptions) {
    this.#replicas = options.replicas.map(({ name: id, value: address }) => {
      const client = new catfeederV1.CatFeederServiceClient(
        address,
        credentials.createInsecure(),
        REPLICA_CHANNEL_OPTIONS,
      );
      const name = `cat-feeder-${id}`;
      return {
        id: Number(id),
        name,
        client,
        status: new Poller(`${name} Status`, options.raftPollMs, () =>
          callUnary(client, 'status', {}, { deadlineMs: POLL_TIMEOUT_MS }),
        ),
      };
    });
    this.#slis = new LoadgenSlis(options.sliWindowMs);
    this.#instances = options.metrics.map(({ name, value: url }) => {
      const metrics = new InstanceMetrics();
      const isLoadgen = serviceOf(name) === 'loadgen';
      const poller = new Poller<void>(`${name} /metrics`, options.pollEveryMs, async () => {
        const response = await fetch(url, { signal: AbortSignal.timeout(POLL_TIMEOUT_MS) });
        if (!response.ok) throw new Error(`${url} answered ${response.status}`);
        const text = await response.text();
        const atMs = Date.now();
        metrics.add(atMs, text);
        if (isLoadgen) this.#slis.add(atMs, text);
      });
      return { name, metrics, poller };
    });
    this.#loadgen = this.#instances.find(({ name }) => serviceOf(name) === 'loadgen')?.poller;
    this.#admins = new FaultAdmins(
      options.faultAdmins.map(({ name, value }) => ({
        name,
        service: serviceOf(name),
        address: '',
        adminAddress: value,
      })),
    );
    this.#faults = options.faultAdmins.map(
      ({ name }) =>
        new Poller(`${name} fault admin`, options.pollEveryMs, async () => {
          const listed = await this.#admins.list(name);
          return listed.faults.flatMap(({ fault }) => (fault ? [faultViewOf(name, fault)] : []));
        }),
    );
    this.#catState = new Poller('cat.state (linearizable read)', options.pollEveryMs, () =>
      this.#readCatState(),
    );
    this.#raftPollMs = options.raftPollMs;
  }

  start(): void {
    for (const poller of this.#pollers()) poller.start();
    this.#timelineTimer = setInterval(() => {
      this.#timeline.observe(Date.now(), this.#roleReports());
    }, this.#raftPollMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timelineTimer);
    await Promise.all(this.#pollers().map((poller) => poller.stop()));
    for (const replica of this.#replicas) replica.client.close();
    this.#admins.close();
  }

  /** `orders`: the newest order traces, from the OTLP receiver. */
  snapshot(orders: readonly OrderTraceView[]): MeshSnapshot {
    const replicas: ReplicaView[] = this.#replicas.map(({ id, name, status }) => {
      const answer = status.value;
      return {
        id,
        name,
        status: status.status,
        ...(answer && {
          role: roleName(answer.role),
          term: answer.term,
          leaderId: answer.leaderId,
          commitIndex: answer.commitIndex,
          appliedIndex: answer.appliedIndex,
        }),
      };
    });
    const polled = this.#replicas.flatMap(({ status }) => status.status.checkedAtMs ?? []);
    const catState = this.#catState.value;
    return buildSnapshot({
      nowMs: Date.now(),
      instances: this.#instances.map(({ name, metrics, poller }) => {
        const rates = poller.status.up ? metrics.rates() : undefined;
        return { name, service: serviceOf(name), metrics: poller.status, ...(rates && { rates }) };
      }),
      replicas,
      timeline: [...this.#timeline.events],
      ...(polled.length > 0 && { raftPolledAtMs: Math.max(...polled) }),
      faultSources: this.#faults.map((poller) => ({
        status: poller.status,
        faults: poller.value ?? [],
      })),
      slis: this.#slis.view(
        this.#loadgen?.status ?? {
          source: 'loadgen /metrics',
          up: false,
          reason: 'no loadgen in this mesh',
        },
      ),
      catState: {
        source: this.#catState.status,
        ...(catState?.value !== undefined && { value: catState.value }),
        ...(catState && { readFrom: catState.readFrom }),
      },
      orders,
    });
  }

  #pollers(): Poller<unknown>[] {
    return [
      ...this.#replicas.map(({ status }) => status),
      ...this.#instances.map(({ poller }) => poller),
      ...this.#faults,
      this.#catState,
    ];
  }

  #roleReports(): ReplicaRoleReport[] {
    return this.#replicas.flatMap(({ status }) => {
      const answer = status.value;
      return answer ? [{ id: answer.id, role: roleName(answer.role), term: answer.term }] : [];
    });
  }

  /**
   * A linearizable Get (ReadIndex: the leader confirms with a quorum that it still leads), from
   * the replica that answered last; on a failure the next read tries the next replica.
   */
  async #readCatState(): Promise<CatState> {
    const replica = this.#replicas[this.#readFrom % this.#replicas.length];
    if (!replica) throw new Error('no cat-feeder replicas configured');
    try {
      const response = await callUnary(
        replica.client,
        'get',
        { key: 'cat.state', consistency: catfeederV1.Consistency.CONSISTENCY_LINEARIZABLE },
        { deadlineMs: POLL_TIMEOUT_MS },
      );
      return {
        ...(response.kv && { value: response.kv.value.toString('utf8') }),
        readFrom: replica.name,
      };
    } catch (error) {
      this.#readFrom += 1;
      throw new Error(`${replica.name}: ${(error as Error).message}`);
    }
  }
}

/** `ROLE_PRE_CANDIDATE` → `pre-candidate`. */
function roleName(role: catfeederV1.Role): string {
  return catfeederV1
    .roleToJSON(role)
    .replace(/^ROLE_/, '')
    .toLowerCase()
    .replace(/_/g, '-');
}
