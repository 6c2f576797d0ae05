import type { MeshAccess, MeshInstance, ProcessFaultRecord, ProcessFaults } from '@catmesh/chaos';
import { readManifest, type ManifestInstance } from './mesh-manifest.js';
import { address, MESH_HOST } from './mesh-instances.js';
import type { ProcessFaultRecord as RunnerFaultRecord } from './runner-control-api.js';
import { RunnerControlClient } from './runner-control-client.js';
import type { StateDir } from './state-dir.js';

// The `catmesh up` mesh as an experiment sees it: its instances from the manifest (with their
// fault admin addresses) and its runner, which kills and pauses processes and holds the expiry.

/** No `catmesh up` manifest in the state directory: nothing to experiment on. */
export class NoLocalMeshError extends Error {
  override readonly name = 'NoLocalMeshError';
}

export async function localMeshAccess(state: StateDir): Promise<MeshAccess> {
  const manifest = await readManifest(state);
  if (!manifest) {
    throw new NoLocalMeshError(`no mesh has run from ${state.root} (start one with catmesh up)`);
  }
  const instances = manifest.instances.map(meshInstance);
  // Asked lazily: a dry run or `chaos status` of a mesh whose runner is gone still works.
  let runner: Promise<RunnerControlClient> | undefined;
  const client = (): Promise<RunnerControlClient> =>
    (runner ??= RunnerControlClient.connect(state));
  const processFaults: ProcessFaults = {
    // The runner holds the processes: SIGKILL, and SIGSTOP/SIGCONT.
    kinds: ['kill', 'pause'],
    apply: async (request) => record(await (await client()).applyProcessFault(request)),
    list: async () => (await (await client()).listProcessFaults()).map(record),
    revert: async (id) => {
      await (await client()).revertProcessFault(id);
    },
    revertAll: async (experiment) =>
      (
        await (await client()).revertProcessFaults(experiment === undefined ? {} : { experiment })
      ).map((fault) => fault.id),
  };
  return {
    description: `the catmesh up mesh in ${state.root}`,
    instances: () => Promise.resolve(instances),
    processFaults,
  };
}

function record(fault: RunnerFaultRecord): ProcessFaultRecord {
  return {
    id: fault.id,
    kind: fault.kind,
    instance: fault.instance,
    ...(fault.experiment !== null && { experiment: fault.experiment }),
    appliedAt: fault.appliedAt,
    expiresAt: fault.expiresAt,
  };
}

function meshInstance(instance: ManifestInstance): MeshInstance {
  const admin = (instance.ports as { admin?: number }).admin;
  return {
    name: instance.name,
    service: instance.service,
    address: address(instance.ports),
    ...(admin !== undefined && { adminAddress: `${MESH_HOST}:${admin}` }),
  };
}
