import { FaultAdmins, type MeshAccess, type ProcessFaultRecord } from '@catmesh/chaos';

// Every fault in force across a mesh, asked of every process that can hold one and of the
// runner; an instance that does not answer is listed as such (it may be paused or down).

export interface FaultRow {
  readonly instance: string;
  readonly id: string;
  readonly kind: string;
  readonly mechanism: 'app' | 'process';
  readonly experiment: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  readonly injections: number | null;
}

export interface MeshFaults {
  readonly faults: readonly FaultRow[];
  readonly unreachable: ReadonlyMap<string, string>;
}

export async function readMeshFaults(mesh: MeshAccess): Promise<MeshFaults> {
  const admins = new FaultAdmins(await mesh.instances());
  const faults: FaultRow[] = [];
  const unreachable = new Map<string, string>();
  try {
    await Promise.all(
      admins.names.map(async (instance) => {
        try {
          const listed = await admins.list(instance);
          for (const { fault, injections } of listed.faults) {
            if (!fault) continue;
            faults.push({
              instance,
              id: fault.id,
              kind: fault.kind?.$case ?? 'unknown',
              mechanism: 'app',
              experiment: fault.experiment,
              expiresAt: fault.expiresAtUnixMs,
              injections,
            });
          }
        } catch (error) {
          unreachable.set(instance, (error as Error).message);
        }
      }),
    );
    let processFaults: readonly ProcessFaultRecord[] = [];
    try {
      processFaults = mesh.processFaults ? await mesh.processFaults.list() : [];
    } catch (error) {
      unreachable.set('runner', (error as Error).message);
    }
    for (const fault of processFaults) {
      faults.push({
        instance: fault.instance,
        id: fault.id,
        kind: fault.kind,
        mechanism: 'process',
        experiment: fault.experiment ?? '',
        expiresAt: fault.expiresAt,
        injections: null,
      });
    }
  } finally {
    admins.close();
  }
  faults.sort((a, b) => a.instance.localeCompare(b.instance) || a.id.localeCompare(b.id));
  return { faults, unreachable };
}

/** Reverts every fault (or one experiment run's) everywhere; returns how many, and who failed. */
export async function revertMeshFaults(
  mesh: MeshAccess,
  experiment: string,
): Promise<{ reverted: number; failed: ReadonlyMap<string, string> }> {
  const admins = new FaultAdmins(await mesh.instances());
  const failed = new Map<string, string>();
  let reverted = 0;
  try {
    await Promise.all(
      admins.names.map(async (instance) => {
        try {
          const ids = await admins.revertAll(instance, experiment);
          // After the await: `reverted += await ...` would read the total before it, losing counts.
          reverted += ids.length;
        } catch (error) {
          failed.set(instance, (error as Error).message);
        }
      }),
    );
    if (mesh.processFaults) {
      try {
        reverted += (await mesh.processFaults.revertAll(experiment || undefined)).length;
      } catch (error) {
        failed.set('runner', (error as Error).message);
      }
    }
  } finally {
    admins.close();
  }
  return { reverted, failed };
}
