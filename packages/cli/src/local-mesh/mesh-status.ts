import { setTimeout as sleep } from 'node:timers/promises';
import { HealthProber, type Health } from './health-probe.js';
import { address } from './mesh-instances.js';
import type { ManifestInstance, MeshManifest } from './mesh-manifest.js';
import { isOurLiveProcess, readPidFile } from './pid-files.js';
import type { ListenPorts } from './port-plan.js';
import { serverCallCounts, type CallCounts } from './prometheus-text.js';
import { readReplicaRoles, type ReplicaRole } from './replica-roles.js';
import type { InstanceRecord } from './runner-control-api.js';
import { RunnerControlClient } from './runner-control-client.js';
import { liveRunnerPid } from './runner-lock.js';
import type { StateDir } from './state-dir.js';

const PROBE_TIMEOUT_MS = 1_000;

export interface InstanceStatus {
  readonly name: string;
  readonly service: string;
  readonly health: Health;
  /** Undefined when no live process of ours has its pid file. */
  readonly pid: number | undefined;
  readonly ports: ListenPorts;
  /** cat-feeder replicas that answered their Status RPC. */
  readonly raft: ReplicaRole | undefined;
  /** gRPC calls answered per second over the sample, health checks left out. */
  readonly requestsPerSecond: number | undefined;
  /** Of those, the ones that did not end OK. */
  readonly errorsPerSecond: number | undefined;
  /** What its runner says (state, restarts, last exit); undefined without a ready runner. */
  readonly supervision: InstanceRecord | undefined;
}

export interface MeshStatus {
  readonly runnerPid: number | undefined;
  readonly instances: readonly InstanceStatus[];
}

/**
 * The state of every instance of the mesh `manifest` describes: health, pid, Raft role and
 * term, request and error rates from two scrapes of `/metrics` `sampleMs` apart, and, from
 * the runner's control API, its state, restarts and last exit.
 */
export async function readMeshStatus(
  state: StateDir,
  manifest: MeshManifest,
  sampleMs: number,
): Promise<MeshStatus> {
  const prober = new HealthProber();
  try {
    const instances = manifest.instances;
    const replicas = instances.filter((instance) => instance.service === 'cat-feeder');
    const startedAt = performance.now();
    const [runnerPid, supervision, pids, health, roles, before] = await Promise.all([
      liveRunnerPid(state),
      // No runner, or one not ready yet: the rest of the status still stands.
      RunnerControlClient.connect(state)
        .then((client) => client.instances())
        .catch(() => []),
      Promise.all(
        instances.map(async ({ name }) => {
          const file = await readPidFile(state, name);
          return file && (await isOurLiveProcess(file.record, state))
            ? file.record?.pid
            : undefined;
        }),
      ),
      Promise.all(instances.map((instance) => prober.probe(instance.health, PROBE_TIMEOUT_MS))),
      readReplicaRoles(
        replicas.map((replica) => address(replica.ports)),
        PROBE_TIMEOUT_MS,
      ),
      Promise.all(instances.map(scrape)),
    ]);
    await sleep(Math.max(0, sampleMs - (performance.now() - startedAt)));
    const after = await Promise.all(instances.map(scrape));
    return {
      runnerPid,
      instances: instances.map((instance, index) => {
        const rates = rate(before[index], after[index]);
        return {
          name: instance.name,
          service: instance.service,
          health: health[index]!,
          pid: pids[index],
          ports: instance.ports,
          raft: roles[replicas.indexOf(instance)],
          requestsPerSecond: rates?.calls,
          errorsPerSecond: rates?.errors,
          supervision: supervision.find((record) => record.name === instance.name),
        };
      }),
    };
  } finally {
    prober.close();
  }
}

/** The counts of one scrape, and when the page was read (the middle of the request). */
interface Scrape extends CallCounts {
  readonly atMs: number;
}

async function scrape(instance: ManifestInstance): Promise<Scrape | undefined> {
  if (instance.metricsUrl === undefined) return undefined;
  try {
    const sent = performance.now();
    const response = await fetch(instance.metricsUrl, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    const atMs = (sent + performance.now()) / 2;
    return response.ok ? { ...serverCallCounts(await response.text()), atMs } : undefined;
  } catch {
    return undefined;
  }
}

function rate(before: Scrape | undefined, after: Scrape | undefined): CallCounts | undefined {
  // A restart in between resets the counters: no rate rather than a negative one.
  if (!before || !after || after.calls < before.calls || after.atMs <= before.atMs) {
    return undefined;
  }
  const seconds = (after.atMs - before.atMs) / 1000;
  return {
    calls: (after.calls - before.calls) / seconds,
    errors: (after.errors - before.errors) / seconds,
  };
}
